"""Derive where YuNet's five landmarks fall in dlib's 5-point face chips (the `dlib5` template).

dlib frames its chips on its own five points (the outer and inner corners of both eyes and the
bottom of the nose); YuNet gives eye centres, nose tip and mouth corners. Mapping YuNet's
points of many faces into the chips dlib cut (from the package's own landmarks, with dlib's
reference positions and padding) and averaging them gives a template that frames a face the
way the pretrained networks saw their training faces.
"""

from __future__ import annotations

import argparse
from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from whoru.faces.detector import FaceDetector
from whoru.faces.images import decode_image
from whoru.settings import MODELS_DIR
from whoru.training.chips import chip_landmarks, pad_chip
from whoru.training.readers import iter_files

# dlib's get_face_chip_details: where its five points go in a chip, before padding.
DLIB_POINTS = np.array(
    [
        [0.8595674595992, 0.2134981538014],
        [0.6460604764104, 0.2289674387677],
        [0.1205750620789, 0.2137274526848],
        [0.3340850613712, 0.2290642403242],
        [0.4901123135679, 0.6277975316475],
    ]
)
PADDING = 0.2
# YuNet's order is right eye, left eye, nose, right and left mouth corner; a mirror swaps pairs.
_MIRROR = [1, 0, 2, 4, 3]


def dlib_chip_points(size: int, padding: float = PADDING) -> np.ndarray:
    """Return dlib's five reference points in pixels of a chip of `size`, padding included."""
    return (DLIB_POINTS + padding) / (2 * padding + 1) * size


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Return the least-squares 2x3 similarity transform taking `source` points onto `target` (Umeyama)."""
    mean_s, mean_t = source.mean(0), target.mean(0)
    s, t = source - mean_s, target - mean_t
    u, sigma, vt = np.linalg.svd(t.T @ s / len(s))
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ d @ vt
    scale = np.trace(np.diag(sigma) @ d) / (s**2).sum(1).mean()
    matrix = scale * rotation
    return np.hstack([matrix, (mean_t - matrix @ mean_s)[:, None]])


def yunet_template(dlib_landmarks: np.ndarray, yunet_landmarks: np.ndarray) -> np.ndarray:
    """Return the mean, mirror-symmetric position of YuNet's points in dlib's chip, as fractions."""
    target = dlib_chip_points(1)
    mapped = []
    for dlib_points, yunet_points in zip(dlib_landmarks, yunet_landmarks):
        matrix = similarity(dlib_points.astype(np.float64), target)
        mapped.append(yunet_points @ matrix[:, :2].T + matrix[:, 2])
    mean = np.mean(mapped, axis=0)
    mirrored = mean[_MIRROR] * [-1, 1] + [1, 0]
    return (mean + mirrored) / 2


def detect_landmarks(source: Path, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return YuNet's landmarks for the named images (in image pixels) and which were found."""
    detector, wanted = FaceDetector(MODELS_DIR / "yunet"), set(names)
    found: dict[str, tuple[np.ndarray, bool]] = {}
    for path, data in iter_files(source):
        name = PurePosixPath(path).name
        if name in wanted:
            padded, pad = pad_chip(decode_image(data))
            landmarks, ok = chip_landmarks(padded, pad, detector)
            found[name] = (landmarks - pad, ok)
    return np.stack([found[n][0] for n in names]), np.array([found[n][1] for n in names])


def main() -> None:
    """Print the template derived from a reference .npz and the images it was made from."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help=".npz from training.reference.age_and_gender")
    parser.add_argument("source", type=Path, help="the folder or archive the reference was made from")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    reference = np.load(args.reference)
    yunet, ok = detect_landmarks(args.source, reference["names"].tolist())
    template = yunet_template(reference["landmarks"][ok], yunet[ok])
    print(f"{ok.sum()} faces; template:\n{np.array2string(template.round(4), separator=', ')}")


if __name__ == "__main__":
    main()
