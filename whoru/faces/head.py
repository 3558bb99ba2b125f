"""The head of a stacked model, applied in NumPy: several networks' outputs in, predictions out.

The head is stored as plain arrays (`head.npz`) so that serving it needs neither TensorFlow nor
training code. First small MLPs over the pretrained networks' features, their logits averaged,
then a blend of those log-probabilities with our own CNN's, weighted per task (fitted on faces
neither saw).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_EPS = 1e-6
# The arrays of one MLP; head.npz stacks several MLPs (fitted with different seeds) along a first axis.
MLP_ARRAYS = ("mean", "std", "w1", "b1", "w_age", "b_age", "w_gender", "b_gender", "w_eth", "b_eth")


class StackedHead:
    """An ensemble of MLP heads and its blend with one network's own predictions, read from a .npz file."""

    def __init__(self, weights: dict[str, np.ndarray], features: list[dict], blend_with: str | None):
        self.weights, self.features, self.blend_with = weights, features, blend_with

    @classmethod
    def load(cls, path: Path, features: list[dict], blend_with: str | None) -> "StackedHead":
        """Read the head's arrays from a .npz file."""
        with np.load(path) as arrays:
            return cls({key: arrays[key].astype(np.float32) for key in arrays.files}, features, blend_with)

    def __call__(self, outputs: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the age distribution (0..116 years), female probability and ethnicity probabilities."""
        return self.from_logits(self.logits(feature_matrix(outputs, self.features)), outputs)

    def from_logits(
        self, logits: tuple[np.ndarray, np.ndarray, np.ndarray], outputs: dict
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the predictions of the MLP's logits, blended with the other network's outputs."""
        age, gender, ethnicity = logits
        if self.blend_with is not None:
            age, gender, ethnicity = self._blend(age, gender, ethnicity, outputs[self.blend_with])
        return softmax(age), sigmoid(gender), softmax(ethnicity)

    def logits(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the age, gender and ethnicity logits, averaged over the head's MLPs."""
        members = [
            _mlp_logits(x, {key: self.weights[key][m] for key in MLP_ARRAYS}) for m in range(len(self.weights["w1"]))
        ]
        return tuple(np.mean([member[i] for member in members], axis=0) for i in range(3))  # type: ignore[return-value]

    def _blend(self, age, gender, ethnicity, cnn: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weigh the MLP's log-probabilities against the CNN's, per task."""
        w = self.weights
        age = w["blend_age"][0] * log_softmax(age) + w["blend_age"][1] * np.log(cnn["age_distribution"] + _EPS)
        gender = (
            w["blend_gender"][0] * gender + w["blend_gender"][1] * logit(cnn["gender"][:, 0]) + w["blend_gender"][2]
        )
        ethnicity = (
            w["blend_eth"][0] * log_softmax(ethnicity)
            + w["blend_eth"][1] * np.log(cnn["ethnicity"] + _EPS)
            + w["blend_eth_bias"]
        )
        return age, gender, ethnicity


def _mlp_logits(x: np.ndarray, w: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return one MLP's age, gender and ethnicity logits for standardised-on-the-fly features."""
    hidden = np.maximum((x - w["mean"]) / w["std"] @ w["w1"] + w["b1"], 0.0)
    return (
        hidden @ w["w_age"] + w["b_age"],
        (hidden @ w["w_gender"] + w["b_gender"])[:, 0],
        hidden @ w["w_eth"] + w["b_eth"],
    )


def feature_matrix(outputs: dict, features: list[dict]) -> np.ndarray:
    """Concatenate the named outputs of the networks, log-probabilities where the card says so."""
    columns = []
    for feature in features:
        value = outputs[feature["network"]][feature["output"]]
        columns.append(np.log(value + _EPS) if feature.get("log") else value)
    return np.concatenate(columns, axis=1).astype(np.float32)


def logit(p):
    """Return log(p / (1 - p)), p kept a hair inside (0, 1) so that a certain network stays finite."""
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def sigmoid(logits):
    """Return 1 / (1 + exp(-logits)), the probability of a logit."""
    return 1.0 / (1.0 + np.exp(-logits))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Return row-wise softmax probabilities."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Return row-wise log-softmax."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
