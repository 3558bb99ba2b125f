"""Fine-tuning a trained network on two datasets writes a servable directory whose card and split name both."""

from __future__ import annotations

import json
import shutil

import numpy as np

from tests.utils.jobs import FIXTURES
from whoru.faces.model import FaceModel
from whoru.runtime import configure_tensorflow


def aaf_folder(root):
    """Return a folder laid out as AAF's archive: the fixture chips renamed age_gender_name.jpg, no ethnicity."""
    folder = root / "AAF"
    folder.mkdir(parents=True)
    for i, chip in enumerate(sorted((FIXTURES / "utkface").glob("*.jpg"))[:30]):
        age, gender = chip.name.split("_")[:2]
        shutil.copyfile(chip, folder / f"{age}_{gender}_{i:05d}A{age}.jpg")
    return folder


def test_finetuning_on_two_datasets_writes_a_model_that_serves_and_names_both(trained, tmp_path):
    configure_tensorflow()
    from whoru.training.finetune import finetune
    from whoru.training.range_fit import fit, write_rule

    start, out, cache = trained["default"], tmp_path / "tuned", tmp_path / "cache"
    data = [FIXTURES / "utkface", aaf_folder(tmp_path)]
    record = finetune(start, data, out, 1, 1e-4, cache, 1234)

    card = json.loads((out / "card.json").read_text())
    assert set(card["training_data"]["datasets"]) == {"utkface", "aaf"}
    assert card["training"]["finetuned_from"].startswith(start.name) and card["training"]["epochs"] == 1
    assert card["quantitative_analysis"] == {} and "quantization" not in card
    assert card["onnx_files"] == {"model": "model.onnx"}
    manifest = json.loads((out / "split.json").read_text())
    aaf_names = {path.name for path in data[1].iterdir()}
    assert aaf_names & set(manifest["train"]) and aaf_names & set(manifest["val"])
    assert set(manifest["datasets"]) == {"utkface", "aaf"}
    # The starting network trained on UTKFace's validation chips, so only AAF's validate.
    seen = json.loads((start / "split.json").read_text())
    assert record["validation_faces"] == len([n for n in manifest["val"] if n not in set(seen["val"])])

    rules = fit(out, data, start / "split.json", cache)
    assert rules["fitted_on_faces"] == record["validation_faces"]
    write_rule(out, rules["rules"]["single"], "single", rules["fitted_on_faces"])
    model = FaceModel(out)
    assert model.range_rule.temperatures == tuple(rules["rules"]["single"]["temperatures"])
    p = model.predict(np.zeros((2, 96, 96, 3), np.uint8))
    assert (p.age_low <= p.age).all() and (p.age <= p.age_high).all()
