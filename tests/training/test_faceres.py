"""The faceres network converted from TFJS to ONNX gives what TensorFlow.js gives.

`tests/fixtures/faceres/reference.npz` holds two fixture faces (our 224x224 crops) and the
outputs TensorFlow.js 4.22 computed for them from the package's own faceres.json and .bin
(`training/faceres_reference.js`).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.utils.jobs import FIXTURES
from whoru.faces.onnx_session import onnx_runner
from whoru.settings import PROJECT_ROOT

REFERENCE = np.load(FIXTURES / "faceres" / "reference.npz")


@pytest.fixture(scope="module")
def outputs() -> dict[str, np.ndarray]:
    """Return the ONNX network's outputs for the reference faces."""
    return onnx_runner(PROJECT_ROOT / "models" / "faceres" / "faceres.onnx")(REFERENCE["faces"])


@pytest.mark.parametrize("output", ["pooled", "embedding", "gender", "age"])
def test_converted_faceres_matches_tensorflow_js(outputs, output):
    np.testing.assert_allclose(outputs[output], REFERENCE[output], atol=1e-4)


def test_faceres_tells_the_two_faces_apart(outputs):
    # A conversion that ignored its input would give both faces the same embedding.
    assert np.abs(outputs["embedding"][0] - outputs["embedding"][1]).max() > 0.1
