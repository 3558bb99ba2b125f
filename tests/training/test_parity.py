"""The training path (chip -> pad -> detect -> align) and the serving path give the same array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.chips import chip_landmarks, pad_chip
from training.utkface import read_dataset
from tests.utils.jobs import FIXTURES
from whoru.faces.align import InputSpec, face_input
from whoru.faces.detector import FaceDetector
from whoru.faces.images import decode_image
from whoru.settings import PROJECT_ROOT

DETECTOR = FaceDetector(PROJECT_ROOT / "models" / "yunet")
CHIPS = sorted(p for p in (FIXTURES / "utkface").iterdir() if p.name in {f.name for f in read_dataset(FIXTURES / "utkface").faces})


@pytest.mark.parametrize("spec", [InputSpec(64, "rgb"), InputSpec(48, "gray")])
@pytest.mark.parametrize("chip", CHIPS[:12], ids=lambda p: p.name[:12])
def test_training_and_serving_give_the_same_input(chip: Path, spec: InputSpec):
    padded, pad = pad_chip(decode_image(chip.read_bytes()))
    landmarks, found = chip_landmarks(padded, pad, DETECTOR)
    assert found
    training = face_input(padded, landmarks, spec)
    served = DETECTOR.detect(padded)[0]
    serving = face_input(padded, served.landmarks, spec)
    assert training.shape == spec.shape and training.dtype == np.uint8
    np.testing.assert_array_equal(training, serving)


def test_the_face_fills_the_crop_like_a_chip():
    chip = decode_image(CHIPS[0].read_bytes())
    padded, pad = pad_chip(chip)
    landmarks, _ = chip_landmarks(padded, pad, DETECTOR)
    crop = face_input(padded, landmarks, InputSpec(200, "rgb"))
    # The crop frames the face as UTKFace does, so it matches the chip far better than chance.
    difference = np.abs(crop.astype(int) - chip.astype(int)).mean()
    assert difference < 40


def test_degenerate_landmarks_are_refused():
    with pytest.raises(ValueError, match="degenerate"):
        face_input(np.zeros((50, 50, 3), np.uint8), np.zeros((5, 2)), InputSpec(64, "rgb"))
