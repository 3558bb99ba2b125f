"""Measure a model's milliseconds a face on one thread: aligning its crops and classifying, as a worker does."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2

from whoru.faces.pipeline import FacePipeline
from whoru.settings import MODELS_DIR
from whoru.training.readers import load_images

# A worker classifies in calls of WHORU_CLASSIFY_BATCH faces (16 by default).
BATCH = 16


def measure(model_dir: Path, source: Path, names: list[str], repeats: int = 3) -> dict:
    """Return the best-of-`repeats` ms a face for aligning and for classifying the named images' faces."""
    cv2.setNumThreads(1)
    pipeline = FacePipeline.load(model_dir, MODELS_DIR / "yunet", threads=1)
    photos = [pipeline.decode(data) for _, data in load_images(source, set(names))]
    found = [(photo, pipeline.detector.detect(photo.rgb)[:1]) for photo in photos]
    found = [(photo, faces) for photo, faces in found if faces]
    align, classify = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        crops = [crop for photo, faces in found for crop in pipeline.align(photo, faces)]
        aligned = time.perf_counter()
        pipeline.classify([f for _, faces in found for f in faces], crops, BATCH)
        align.append(aligned - started)
        classify.append(time.perf_counter() - aligned)
    n = len(found)
    return {
        "faces": n,
        "align_ms": round(min(align) / n * 1000, 2),
        "classify_ms": round(min(classify) / n * 1000, 2),
        "batch": BATCH,
        "threads": 1,
    }


def main() -> None:
    """Print the ms a face of a model on the first test-split images of a dataset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--faces", type=int, default=256)
    args = parser.parse_args()
    names = json.loads((args.model / "split.json").read_text())["test"][: args.faces]
    print(json.dumps(measure(args.model, args.data, names)))


if __name__ == "__main__":
    main()
