"""The committed models load from their directories alone, without the training package."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from whoru.settings import PROJECT_ROOT

MODELS = PROJECT_ROOT / "models"


@pytest.mark.parametrize("name", ["default", "seed-baseline"])
def test_model_directory_is_complete_and_small(name):
    folder = MODELS / name
    card = json.loads((folder / "card.json").read_text())
    for file in [*card["files"].values(), *card.get("onnx_files", {}).values()]:
        assert (folder / file).exists()
    assert (folder / "split.json").exists()
    assert len(card["training_data"]["sha256"]) == 64
    metrics = card["quantitative_analysis"]["test_chips"]
    assert metrics["n"] > 3000 and metrics["gender_accuracy"] > 0.8
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and "checkpoints" not in p.parts)
    assert size < 30 * 1024 * 1024


@pytest.mark.parametrize("name,runtime", [("default", "onnx"), ("seed-baseline", "keras")])
def test_worker_loads_a_model_without_training_code(name, runtime):
    code = (
        "import sys, numpy as np\n"
        "from whoru.faces.model import FaceModel\n"
        f"m = FaceModel(__import__('pathlib').Path({str(MODELS / name)!r}))\n"
        "p = m.predict(np.zeros((2, *m.spec.shape), np.uint8))\n"
        "print(p.age.shape[0], 'training' in sys.modules, 'tensorflow' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # The default model runs on ONNX Runtime alone; the seed CNNs on TensorFlow, as the original did.
    assert result.stdout.split() == ["2", "False", str(runtime == "keras")]
