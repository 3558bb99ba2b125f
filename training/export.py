"""Export a model directory's Keras networks to ONNX, the format the worker serves them in."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import layers

from whoru.faces.align import InputSpec
from whoru.faces.onnx_session import onnx_runner
from whoru.model_card import ModelCard

# ONNX Runtime and TensorFlow sum in different orders; outputs are probabilities and years.
PARITY_TOLERANCE = 1e-3


def export_onnx(model_dir: Path) -> dict[str, str]:
    """Write an .onnx beside each Keras file of the card, check it agrees, and record it in the card."""
    card = ModelCard.load(model_dir)
    spec = InputSpec.from_dict(card.input)
    card.onnx_files = {role: _export(model_dir / file, spec) for role, file in card.files.items()}
    card.save(model_dir)
    return card.onnx_files


def _export(keras_file: Path, spec: InputSpec) -> str:
    """Export one network without its training-only layers; return the ONNX file's name."""
    net = keras.models.clone_model(keras.saving.load_model(keras_file, compile=False), clone_function=_serving_layer)
    faces = np.random.default_rng(0).integers(0, 256, (8, *spec.shape), dtype=np.uint8)
    expected = net.predict_on_batch(faces)  # Keras exports only a model that has been called.
    target = keras_file.with_suffix(".onnx")
    net.export(str(target), format="onnx", verbose=False)
    _check(target, faces, expected)
    return target.name


def _serving_layer(layer: layers.Layer) -> layers.Layer:
    """Return the layer itself (weights shared), or a pass-through for the augmentation block.

    Keras traces its random augmentation ops into the exported graph even for inference, and
    ONNX has no kernels for them; at inference they pass faces through unchanged anyway.
    """
    return layers.Lambda(lambda faces: faces, name="no_augmentation") if layer.name == "augmentation" else layer


def _check(onnx_file: Path, faces: np.ndarray, expected) -> None:
    """Refuse an export whose outputs differ from the Keras network's."""
    got = onnx_runner(onnx_file)(faces)
    pairs = (
        [(got[name], value) for name, value in expected.items()] if isinstance(expected, dict) else [(got, expected)]
    )
    worst = max(float(np.abs(mine - np.asarray(theirs)).max()) for mine, theirs in pairs)
    if worst > PARITY_TOLERANCE:
        onnx_file.unlink()
        raise RuntimeError(f"ONNX export of {onnx_file.name} differs from Keras by {worst:.2g}")
