"""The 8-bit networks served: made from the float files beside them, and predicting what those predict."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tests.utils.jobs import FIXTURES
from whoru.faces.model import FaceModel
from whoru.faces.pipeline import FacePipeline
from whoru.model_card import ModelCard
from whoru.settings import MODELS_DIR

MODELS = MODELS_DIR
QUANTIZED = [
    (name, role)
    for name in ("default", "fast")
    for role in (ModelCard.load(MODELS / name).model_extra or {}).get("quantization", {}).get("from", {})
]


def float_copy(name: str, tmp_path):
    """Return the model directory with its card pointed back at the float networks."""
    card = ModelCard.load(MODELS / name)
    for entry in (MODELS / name).iterdir():
        (tmp_path / entry.name).symlink_to(entry)
    (tmp_path / "card.json").unlink()
    sources = {role: record["file"] for role, record in card.model_extra["quantization"]["from"].items()}
    card.updated({"onnx_files": card.onnx_files | sources}).save(tmp_path)
    return tmp_path


def test_every_served_model_has_a_quantized_network():
    assert {name for name, _ in QUANTIZED} == {"default", "fast"}


@pytest.mark.parametrize(("name", "role"), QUANTIZED)
def test_a_quantized_network_names_the_float_file_it_was_made_from(name, role):
    card = ModelCard.load(MODELS / name)
    source = card.model_extra["quantization"]["from"][role]
    assert card.onnx_files[role].endswith(".int8.onnx") and card.onnx_files[role] != source["file"]
    assert hashlib.sha256((MODELS / name / source["file"]).read_bytes()).hexdigest() == source["sha256"]


@pytest.mark.parametrize("name", ["default", "fast"])
def test_quantized_predictions_stay_close_to_the_float_ones(name, tmp_path):
    pipeline = FacePipeline.load(MODELS / name, MODELS / "yunet")
    crops = [
        found.crops[0]
        for path in sorted((FIXTURES / "utkface").glob("*.jpg"))
        if (found := pipeline.find(pipeline.decode(path.read_bytes()))).crops
    ]
    batch = np.stack(crops) if pipeline.model.spec else {key: np.stack([c[key] for c in crops]) for key in crops[0]}
    served, reference = pipeline.model.predict(batch), FaceModel(float_copy(name, tmp_path)).predict(batch)
    assert len(crops) >= 50
    assert np.abs(served.age - reference.age).mean() < 1.0
    assert np.abs(served.female_probability - reference.female_probability).mean() < 0.03
    assert np.abs(served.ethnicity_probabilities - reference.ethnicity_probabilities).mean() < 0.03
    assert (served.age_bin_probabilities.argmax(1) == reference.age_bin_probabilities.argmax(1)).mean() >= 0.9
