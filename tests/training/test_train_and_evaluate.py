"""One-epoch training runs write complete model directories that `whoru evaluate` can measure."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from tests.utils.jobs import FIXTURES
from tests.utils.waiting import alive, wait_until
from whoru.cli.main import main
from whoru.faces.model import FaceModel

KEYS = (
    "n",
    "no_face",
    "age_mae",
    "age_bin_accuracy",
    "gender_accuracy",
    "ethnicity_accuracy",
    "age_range_coverage",
    "gender_gap",
    "gender_gap_ages_21_plus",
    "groups",
)
GROUP_KEYS = {"n", "age_mae", "age_bin_accuracy", "gender_accuracy", "ethnicity_accuracy", "age_range_coverage"}


@pytest.mark.parametrize(
    "arch,files", [("default", ["model.keras"]), ("seed", ["age_bins.keras", "gender.keras", "ethnicity.keras"])]
)
def test_training_writes_a_complete_model_directory(trained, arch, files):
    folder = trained[arch]
    card = json.loads((folder / "card.json").read_text())
    assert sorted(card["files"].values()) == sorted(files)
    for key in (
        "name",
        "version",
        "architecture",
        "input",
        "labels",
        "training_data",
        "training",
        "quantitative_analysis",
    ):
        assert key in card, key
    assert card["training_data"]["split_manifest"] == "split.json"
    assert card["training_data"]["skipped_names"] == 4
    manifest = json.loads((folder / "split.json").read_text())
    assert len(manifest["train"]) + len(manifest["val"]) + len(manifest["test"]) == 50
    assert set(card["quantitative_analysis"]["test_chips"]["utkface"]) >= set(KEYS)
    assert card["training"]["seconds"] >= 0 and card["training"]["machine"]["cores"]


def test_resume_continues_after_an_interruption(tmp_path):
    out, cache = tmp_path / "model", tmp_path / "cache"
    command = [
        sys.executable,
        "-m",
        "whoru.cli",
        "train",
        "--data",
        str(FIXTURES / "utkface"),
        "--arch",
        "default",
        "--out",
        str(out),
        "--epochs",
        "3",
        "--cache-dir",
        str(cache),
    ]
    history = out / "checkpoints" / "history.csv"
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(
        lambda: alive(first) and history.exists() and len(history.read_text().splitlines()) >= 2,
        300,
        0.2,
        lambda: "first epoch never finished",
    )
    first.kill()
    first.wait()
    subprocess.run([*command, "--resume"], check=True, capture_output=True)
    epochs = [int(line.split(",")[0]) for line in history.read_text().splitlines()[1:]]
    assert epochs[0] == 0 and epochs[-1] == 2 and epochs == sorted(set(epochs))
    assert json.loads((out / "card.json").read_text())["training"]["epochs"] == 3


def test_refit_on_train_and_validation_keeps_the_last_epoch(tmp_path):
    out = tmp_path / "model"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--data",
            str(FIXTURES / "utkface"),
            "--arch",
            "default",
            "--out",
            str(out),
            "--epochs",
            "2",
            "--fit-on",
            "train+val",
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
    )
    assert result.exit_code == 0, result.output
    card = json.loads((out / "card.json").read_text())
    manifest = json.loads((out / "split.json").read_text())
    with (out / "checkpoints" / "history.csv").open() as handle:
        history = list(csv.DictReader(handle))
    assert card["training"]["fit_on"] == "train+val"
    assert [row["val_loss"] for row in history] == ["NA", "NA"]
    assert not (out / "checkpoints" / "best.keras").exists()
    assert card["quantitative_analysis"]["test_chips"]["utkface"]["n"] == len(manifest["test"])
    size = card["input"]["size"]
    assert FaceModel(out).predict(np.zeros((1, size, size, 3), np.uint8)).age.shape == (1,)


@pytest.mark.parametrize("mode", ["chips", "pipeline"])
def test_evaluate_writes_every_figure(trained, tmp_path, mode):
    out, report = tmp_path / "figures.json", tmp_path / "report.md"
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            "--model",
            str(trained["default"]),
            "--data",
            str(FIXTURES / "utkface"),
            "--mode",
            mode,
            "--json",
            str(out),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    for key in KEYS:
        assert key in figures, key
    test_names = json.loads((trained["default"] / "split.json").read_text())["test"]
    assert figures["n"] + figures["no_face"] == len(test_names)
    for name in ("white_male", "asian_female", "others_female", "age_0-20", "age_81+"):
        assert set(figures["groups"][name]) == GROUP_KEYS
    text = report.read_text()
    assert "Ethnicity confusion" in text and "Gender confusion" in text and "Age bin confusion" in text
    assert (tmp_path / "report.age.png").stat().st_size > 1000


def test_seed_model_predicts_through_the_shared_loader(trained):
    model = FaceModel(trained["seed"])
    faces = np.zeros((3, *model.spec.shape), np.uint8)
    predictions = model.predict(faces)
    assert predictions.age.shape == (3,) and predictions.age_bin_probabilities.shape == (3, 5)
    np.testing.assert_allclose(predictions.ethnicity_probabilities.sum(axis=1), 1, atol=1e-4)


def _copy_with(folder, tmp_path, name, **card_changes):
    """Copy a model directory and change top-level fields of its card."""
    import shutil

    copy = tmp_path / name
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("checkpoints"))
    card = json.loads((copy / "card.json").read_text()) | card_changes
    (copy / "card.json").write_text(json.dumps(card))
    return copy


def test_mirror_averaging_is_the_mean_of_a_face_and_its_mirror(trained, tmp_path):
    plain = FaceModel(_copy_with(trained["default"], tmp_path, "plain", inference={"mirror_average": False}))
    mirrored = FaceModel(_copy_with(trained["default"], tmp_path, "mirrored", inference={"mirror_average": True}))
    faces = np.random.default_rng(0).integers(0, 255, (4, *plain.spec.shape), dtype=np.uint8)
    one, two, both = plain.predict(faces), plain.predict(faces[:, :, ::-1]), mirrored.predict(faces)
    assert not np.allclose(one.female_probability, both.female_probability, atol=1e-6)
    np.testing.assert_allclose(
        both.female_probability, (one.female_probability + two.female_probability) / 2, atol=1e-5
    )
    np.testing.assert_allclose(
        both.ethnicity_probabilities, (one.ethnicity_probabilities + two.ethnicity_probabilities) / 2, atol=1e-5
    )


def test_onnx_export_predicts_what_the_keras_network_predicts(trained, tmp_path):
    served = FaceModel(trained["default"])
    keras_only = FaceModel(_copy_with(trained["default"], tmp_path, "keras-only", onnx_files={}))
    faces = np.random.default_rng(1).integers(0, 255, (16, *served.spec.shape), dtype=np.uint8)
    onnx, keras = served.predict(faces), keras_only.predict(faces)
    assert served.card.onnx_files == {"model": "model.onnx"}
    for field in ("age", "age_bin_probabilities", "female_probability", "ethnicity_probabilities"):
        np.testing.assert_allclose(getattr(onnx, field), getattr(keras, field), atol=1e-3, err_msg=field)
