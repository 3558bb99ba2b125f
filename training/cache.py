"""Decode, detect and align every chip of a dataset once, and keep the arrays on disk."""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from whoru.faces.align import InputSpec, face_input
from whoru.faces.detector import FaceDetector
from whoru.faces.images import decode_image
from whoru.training.chips import chip_landmarks, pad_chip
from whoru.training.readers import Face, load_images

DETECTOR_DIR = Path(__file__).resolve().parent.parent / "models" / "yunet"
_detector: FaceDetector | None = None
# The landmarks found for each (dataset, face) in this process: each network's crop of a face is
# cut from one detection, and detection is most of the cost of a crop.
_landmarks: dict[tuple[str, str], tuple[np.ndarray, bool]] = {}


@dataclass
class Arrays:
    """Model inputs and labels for a list of faces, in the same order."""

    names: list[str]
    images: np.ndarray
    ages: np.ndarray
    genders: np.ndarray
    ethnicities: np.ndarray
    detected: np.ndarray


def _start_worker() -> None:
    """Load one detector per process."""
    global _detector
    cv2.setNumThreads(1)
    _detector = FaceDetector(DETECTOR_DIR)


def _prepare(
    item: tuple[str, bytes, InputSpec, tuple[np.ndarray, bool] | None],
) -> tuple[str, np.ndarray, bool, np.ndarray]:
    """Run the training path on one chip, detecting its face unless its landmarks are known."""
    name, data, spec, known = item
    padded, pad = pad_chip(decode_image(data))
    landmarks, found = known if known is not None else chip_landmarks(padded, pad, _detector)  # type: ignore[arg-type]
    return name, face_input(padded, landmarks, spec), found, landmarks


def build_arrays(
    source: Path, faces: list[Face], spec: InputSpec, cache: Path | None, processes: int | None = None
) -> Arrays:
    """Return the aligned inputs of the given faces, reading a cache file when one exists.

    `processes` defaults to one per core, at most four.
    """
    if cache is not None and cache.exists():
        stored = np.load(cache)
        by_name = {name: i for i, name in enumerate(stored["names"].tolist())}
        order = [by_name[face.name] for face in faces]
        return _arrays(faces, stored["images"][order], stored["detected"][order])
    wanted = {face.name for face in faces}
    key = str(source)
    items = ((name, data, spec, _landmarks.get((key, name))) for name, data in load_images(source, wanted))
    processes = processes or max(1, min(4, os.cpu_count() or 1))
    results = {}
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_start_worker) as pool:
        for name, image, found, landmarks in tqdm(
            pool.imap(_prepare, items, chunksize=64), total=len(wanted), desc="align"
        ):
            results[name] = (image, found)
            _landmarks[(key, name)] = (landmarks, found)
    images = np.stack([results[face.name][0] for face in faces])
    detected = np.array([results[face.name][1] for face in faces])
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, names=np.array([f.name for f in faces]), images=images, detected=detected)
    return _arrays(faces, images, detected)


def _arrays(faces: list[Face], images: np.ndarray, detected: np.ndarray) -> Arrays:
    """Attach the labels of faces to their images."""
    return Arrays(
        [face.name for face in faces],
        images,
        np.array([face.age for face in faces], dtype=np.int32),
        np.array([face.gender for face in faces], dtype=np.int32),
        np.array([face.ethnicity for face in faces], dtype=np.int32),
        detected,
    )
