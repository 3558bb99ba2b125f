"""Fit the mean faceres descriptor that identity embeddings are centred on, from UTKFace (never from LFW).

    python -m whoru.training.identity_mean ../shared/data/utkface/UTKFace.tar --every 20

Writes `models/faceres/pooled_mean.npy`: the mean pooled features of the largest face of every
n-th photo, in the pipeline's own crop.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from whoru.faces.identity import DESCRIPTOR, IDENTITY, MEAN_FILE
from whoru.faces.images import ImageError
from whoru.faces.onnx_session import onnx_runner
from whoru.faces.pipeline import FacePipeline
from whoru.settings import MODELS_DIR
from whoru.training.utkface import is_image_name, iter_files

MODELS = MODELS_DIR


def pooled_features(source: Path, every: int) -> np.ndarray:
    """Return faceres' pooled features of the largest face of every n-th image of a dataset."""
    pipeline = FacePipeline.load(MODELS / "default", MODELS / "yunet")
    net = onnx_runner(MODELS / "faceres" / "faceres.onnx")
    features = []
    images = (data for name, data in iter_files(source) if is_image_name(name))
    for i, data in enumerate(images):
        if i % every:
            continue
        try:
            found = pipeline.find(pipeline.decode(data))
        except ImageError:
            continue
        if found.detections:
            largest = int(np.argmax([face.area for face in found.detections]))
            features.append(net(found.crops[largest][IDENTITY][None])[DESCRIPTOR].reshape(-1))  # type: ignore[index]
    return np.stack(features)


def main() -> None:
    """Fit the mean and write it beside faceres."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="UTKFace folder or archive")
    parser.add_argument("--every", type=int, default=20, help="use every n-th image")
    parser.add_argument("--out", type=Path, default=MODELS / "faceres" / MEAN_FILE)
    args = parser.parse_args()
    features = pooled_features(args.source, args.every)
    np.save(args.out, features.mean(axis=0).astype(np.float32))
    print(f"mean of {len(features)} faces' pooled features written to {args.out}")


if __name__ == "__main__":
    main()
