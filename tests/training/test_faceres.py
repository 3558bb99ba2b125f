"""The faceres network converted from TFJS to ONNX gives what TensorFlow.js gives.

`tests/fixtures/faceres/reference.npz` holds two fixture faces (our 224x224 crops) and the
outputs TensorFlow.js 4.22 computed for them from the package's own faceres.json and .bin
(`training/reference/faceres.js`). The TFJS graph takes its input already preprocessed; ours takes
RGB 0-255 and applies Keras' "caffe" ImageNet preprocessing itself. So our network is fed the RGB
images whose preprocessing gives the reference faces.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.utils.jobs import FIXTURES
from whoru.faces.onnx_session import onnx_runner
from whoru.settings import MODELS_DIR

REFERENCE = np.load(FIXTURES / "faceres" / "reference.npz")
CAFFE_BGR_MEANS = np.array([103.939, 116.779, 123.68], np.float32)


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    """Return the RGB images that Keras' caffe preprocessing turns into the reference faces."""
    return (REFERENCE["faces"] + CAFFE_BGR_MEANS)[..., ::-1]


@pytest.fixture(scope="module")
def outputs(rgb) -> dict[str, np.ndarray]:
    """Return the ONNX network's outputs for the reference faces."""
    return onnx_runner(MODELS_DIR / "faceres" / "faceres.onnx")(np.ascontiguousarray(rgb, np.float32))


def test_the_inputs_are_what_keras_preprocessing_turns_into_the_reference_faces(rgb):
    from keras.applications.imagenet_utils import preprocess_input

    np.testing.assert_allclose(preprocess_input(rgb.copy(), mode="caffe"), REFERENCE["faces"], atol=1e-3)


@pytest.mark.parametrize("output", ["pooled", "embedding", "gender", "age"])
def test_converted_faceres_matches_tensorflow_js(outputs, output):
    np.testing.assert_allclose(outputs[output], REFERENCE[output], atol=1e-4)


def test_faceres_tells_the_two_faces_apart(outputs):
    # A conversion that ignored its input would give both faces the same embedding.
    assert np.abs(outputs["embedding"][0] - outputs["embedding"][1]).max() > 0.1
