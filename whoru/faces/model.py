"""Load a model directory (card.json, ONNX or Keras networks, a head) and predict aligned faces.

What the card's `format` says the directory holds:
- `stacked` (`models/default`): four ONNX networks, each on its own crop named in the card's
  `inputs` (our multi-task CNN at 96x96 in the UTKFace framing, an age ResNet at 64x64 and a gender
  CNN at 32x32 on dlib-style chips, faceres at 224x224 in a looser framing), and a NumPy head
  (`whoru/faces/head.py`) that combines their features and outputs into age, gender and ethnicity;
- `multitask` (`models/fast`): one CNN on one 96x96 RGB crop (`input`), exported to ONNX
  (`onnx_files`), predicting an age distribution, gender and ethnicity;
- `separate` (`models/seed-baseline`, the original project's way): three Keras networks on one
  48x48 grayscale crop, run on TensorFlow because the card names no ONNX files.
A directory with `onnx_files` runs on ONNX Runtime alone, so a worker process never loads TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from whoru.faces.age import RangeRule, read_ages
from whoru.faces.align import InputSpec
from whoru.faces.head import StackedHead
from whoru.faces.identity import DESCRIPTOR, IDENTITY
from whoru.faces.onnx_session import Net, onnx_runner
from whoru.labels import AGE_BINS
from whoru.model_card import ModelCard
from whoru.runtime import configure_tensorflow

# The seed CNNs only predict bins; their years are the expectation over bin centres.
_BIN_CENTRES = np.array([10.0, 30.5, 50.5, 70.5, 88.0], dtype=np.float32)
# The one input of a single-input model (every network sees the same crop).
FACE = "face"
# A batch of aligned faces: one array for a single-input model, one array per input otherwise.
Faces = np.ndarray | dict[str, np.ndarray]


@dataclass(frozen=True)
class Predictions:
    """Per-face predictions for a batch, as arrays with one row per face."""

    age: np.ndarray
    age_bin_probabilities: np.ndarray
    female_probability: np.ndarray
    ethnicity_probabilities: np.ndarray
    age_low: np.ndarray
    age_high: np.ndarray
    # faceres' pooled features, from a model that runs faceres; None from any other.
    identity_features: np.ndarray | None = None

    @property
    def age_bin(self) -> np.ndarray:
        """Return the most probable age bin of each face."""
        return self.age_bin_probabilities.argmax(axis=1)


class FaceModel:
    """A trained model loaded from `models/<name>/`, described by its card.json."""

    def __init__(self, model_dir: Path, threads: int = 1):
        self.directory = Path(model_dir)
        self.card = ModelCard.load(self.directory)
        self.inputs = input_specs(self.card)
        # The spec of a single-input model; None when each network has its own crop.
        self.spec = self.inputs[FACE] if FACE in self.inputs else None
        self.name, self.version = self.card.name, self.card.version
        if self.card.onnx_files:
            self._nets = {
                role: onnx_runner(self.directory / file, threads) for role, file in self.card.onnx_files.items()
            }
        else:
            self._nets = {role: _keras_net(self.directory / file, threads) for role, file in self.card.files.items()}
        head = self.card.head
        self._head = StackedHead.load(self.directory / head.file, head.features, head.blend_with) if head else None

    def predict(self, faces: Faces, batch_size: int = 256) -> Predictions:
        """Return predictions for a batch of aligned faces (an array, or one array per input)."""
        inputs = self._checked(faces)
        if len(next(iter(inputs.values()))) == 0:
            return _empty()
        outputs = self.outputs(inputs, batch_size)
        if self.card.format == "stacked":
            distribution, female, ethnicity = self._head(outputs)  # type: ignore[misc]
            predictions = from_distribution(distribution, female, ethnicity, self.range_rule)
            return (
                replace(predictions, identity_features=outputs[IDENTITY][DESCRIPTOR])
                if IDENTITY in outputs
                else predictions
            )
        if self.card.format == "multitask":
            out = outputs["model"]
            return from_distribution(out["age_distribution"], out["gender"][:, 0], out["ethnicity"], self.range_rule)
        return _from_seed(outputs)

    @property
    def range_rule(self) -> RangeRule:
        """Return the card's rule for tempering the age distribution before its range is read."""
        inference = self.card.inference
        if inference.age_range_by_age:
            return RangeRule(
                tuple(inference.age_range_by_age["upper_ages"]), tuple(inference.age_range_by_age["temperatures"])
            )
        return RangeRule((), (inference.age_range_temperature,))

    def outputs(self, inputs: dict[str, np.ndarray], batch_size: int = 256, roles: list[str] | None = None) -> dict:
        """Return each network's (or only `roles`') outputs for its input, mirror-averaged where the card says so.

        `inference.mirror_average` is true (every network), false, or the list of networks to mirror.
        """
        mirrored = self.card.inference.mirror_average
        outputs = {}
        for role, net in self._nets.items():
            if roles is not None and role not in roles:
                continue
            faces = inputs[role if role in inputs else FACE]
            mirror = role in mirrored if isinstance(mirrored, list) else bool(mirrored)
            batch = np.concatenate([faces, faces[:, :, ::-1]]) if mirror else faces
            out = _run(net, batch, batch_size)
            outputs[role] = _mean_of_halves(out) if mirror else out
        return outputs

    def _checked(self, faces: Faces) -> dict[str, np.ndarray]:
        """Return the batch as one array per input, refusing arrays of the wrong shape."""
        inputs = faces if isinstance(faces, dict) else {FACE: faces}
        if set(inputs) != set(self.inputs):
            raise ValueError(f"expected inputs {sorted(self.inputs)}, got {sorted(inputs)}")
        for name, spec in self.inputs.items():
            if inputs[name].ndim != 4 or inputs[name].shape[1:] != spec.shape:
                raise ValueError(f"expected {name} faces of shape (n, {spec.shape}), got {inputs[name].shape}")
        return inputs


def input_specs(card: ModelCard) -> dict[str, InputSpec]:
    """Return the input specs a card declares: its `inputs` by name, or its one `input`."""
    if card.inputs is not None:
        return {name: InputSpec.from_dict(spec) for name, spec in card.inputs.items()}
    return {FACE: InputSpec.from_dict(card.input)}


def _keras_net(path: Path, threads: int) -> Net:
    """Return a Keras network's compiled `predict_on_batch` (TensorFlow is imported only here).

    The compiled call is the quickest of Keras' three (docs/performance.md, "Choices in the code").
    """
    configure_tensorflow(threads)
    import keras

    return keras.saving.load_model(path, compile=False).predict_on_batch


def _run(net: Net, faces: np.ndarray, batch_size: int):
    """Run one network over a batch in chunks of at most batch_size faces."""
    chunks = [net(faces[i : i + batch_size]) for i in range(0, len(faces), batch_size)]
    if isinstance(chunks[0], dict):
        return {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}
    return np.concatenate(chunks)


def _mean_of_halves(out):
    """Average the predictions for the faces (first half) and their mirror images (second half)."""
    if isinstance(out, dict):
        return {key: _mean_of_halves(value) for key, value in out.items()}
    half = len(out) // 2
    return (out[:half] + out[half:]) / 2


def from_distribution(
    distribution: np.ndarray, female: np.ndarray, ethnicity: np.ndarray, rule: RangeRule
) -> Predictions:
    """Build predictions from the other heads and an age distribution over 0..116 years (giving age, bins and range)."""
    ages = read_ages(distribution, rule)
    return Predictions(ages.age, ages.bins, female, ethnicity, ages.low, ages.high)


def _from_seed(out: dict[str, np.ndarray]) -> Predictions:
    """Combine the three separate seed networks."""
    bins = out["age_bins"]
    unknown = np.full(len(bins), np.nan, dtype=np.float32)  # bins alone give no range in years
    return Predictions(bins @ _BIN_CENTRES, bins, out["gender"][:, 0], out["ethnicity"], unknown, unknown)


def _empty() -> Predictions:
    """Return predictions for zero faces."""
    return Predictions(
        np.zeros(0), np.zeros((0, len(AGE_BINS))), np.zeros(0), np.zeros((0, 5)), np.zeros(0), np.zeros(0)
    )
