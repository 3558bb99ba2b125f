"""Every committed card.json reads as a ModelCard, saves back unchanged, and a malformed one names its file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from whoru.model_card import ModelCard, ModelCardError

MODELS = Path(__file__).resolve().parents[2] / "models"
CARDS = sorted(path.parent for path in MODELS.glob("*/card.json"))


@pytest.mark.parametrize("directory", CARDS, ids=[d.name for d in CARDS])
def test_every_committed_card_loads_and_saves_back_what_it_read(directory, tmp_path):
    card = ModelCard.load(directory)
    assert card.name == directory.name and card.version
    card.save(tmp_path)
    assert json.loads((tmp_path / "card.json").read_text()) == json.loads((directory / "card.json").read_text())


def test_the_served_cards_are_typed():
    default, fast = ModelCard.load(MODELS / "default"), ModelCard.load(MODELS / "fast")
    assert (
        default.format == "stacked"
        and default.head.file == "head.npz"
        and set(default.inputs) == set(default.onnx_files)
    )
    assert fast.format == "multitask" and fast.input["size"] == 96 and fast.inference.mirror_average is True
    by_age = default.inference.age_range_by_age
    assert len(by_age["temperatures"]) == len(by_age["upper_ages"]) + 1 and default.inference.age_range_temperature == 1
    assert fast.labels["gender"] == ["male", "female"]


def test_a_change_is_written_back_with_every_other_field_kept(tmp_path):
    shutil.copytree(MODELS / "fast", tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.onnx", "*.keras"))
    card = ModelCard.load(tmp_path)
    card.quantitative_analysis["test_pipeline"] = {"n": 3}
    card.inference.age_range_temperature = 0.9
    card.save(tmp_path)
    before = json.loads((MODELS / "fast" / "card.json").read_text())
    after = json.loads((tmp_path / "card.json").read_text())
    assert list(after) == list(before) and after["training_data"] == before["training_data"]
    assert (
        after["quantitative_analysis"]["test_pipeline"] == {"n": 3}
        and after["inference"]["age_range_temperature"] == 0.9
    )


@pytest.mark.parametrize(
    "text, reason",
    [
        ('{"name": "broken"}', "version: Field required"),
        (
            '{"name": "broken", "version": "1", "onnx_files": ["model.onnx"]}',
            "onnx_files: Input should be a valid dictionary",
        ),
        (
            '{"name": "broken", "version": "1", "inference": {"age_range_temperature": 0}}',
            "inference.age_range_temperature",
        ),
        ('{"name": "broken",', "Expecting"),
    ],
)
def test_a_malformed_card_is_refused_naming_its_file(tmp_path, text, reason):
    (tmp_path / "card.json").write_text(text)
    with pytest.raises(ModelCardError, match=str(tmp_path / "card.json")) as refused:
        ModelCard.load(tmp_path)
    assert reason in str(refused.value) and "\n" not in str(refused.value)


def test_a_directory_without_a_card_is_refused_naming_the_file(tmp_path):
    with pytest.raises(ModelCardError, match=f"{tmp_path / 'card.json'}: No such file"):
        ModelCard.load(tmp_path)
