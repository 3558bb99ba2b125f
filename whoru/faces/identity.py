"""One identity embedding per face: faceres' pooled MobileNet features, centred and scaled to unit length.

faceres' backbone was trained to tell VGGFace2's people apart; its global pooling is the face
descriptor (the 256-d layer after it was fitted to age and gender, and tells people apart far
worse: docs/people.md). Centring on the mean descriptor of faces of many people (UTKFace, not
LFW) removes what all faces share, so a dot product of two embeddings is a cosine about identity.
`default` runs faceres already and hands its features over; a model without it (`fast`) gets
faceres run beside it, on the same crop, only for jobs that group faces by person.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from whoru.faces.align import InputSpec
from whoru.faces.onnx_session import Net, onnx_runner
from whoru.grouping import unit_rows

# The network's name in a stacked model's card, and its input name in the pipeline's crops.
IDENTITY = "faceres"
DESCRIPTOR = "pooled"
SPEC = InputSpec(224, "rgb", "loose")
FILE, MEAN_FILE = "faceres.onnx", "pooled_mean.npy"


class IdentityNet:
    """faceres' descriptor: the centring every embedding gets, and the network for models that do not run it.

    The network is loaded on first use, as most jobs never need it.
    """

    def __init__(self, directory: Path, threads: int = 1):
        self.path, self.threads = Path(directory) / FILE, threads
        self.mean = np.load(Path(directory) / MEAN_FILE).astype(np.float32)
        self._net: Net | None = None

    def descriptors(self, features: np.ndarray) -> np.ndarray:
        """Return the unit embeddings of faceres' pooled features."""
        return unit_rows(np.asarray(features, dtype=np.float32).reshape(len(features), -1) - self.mean)

    def embed(self, faces: np.ndarray, batch_size: int = 16) -> np.ndarray:
        """Return one unit embedding per aligned 224 x 224 face."""
        if self._net is None:
            self._net = onnx_runner(self.path, self.threads)
        chunks = [self._net(faces[i : i + batch_size])[DESCRIPTOR] for i in range(0, len(faces), batch_size)]  # type: ignore[index]
        return self.descriptors(np.concatenate(chunks)) if chunks else np.zeros((0, len(self.mean)), dtype=np.float32)
