"""Milliseconds a photo's decode costs, for each way of giving the detector its copy and the crops their pixels.

On the bench's camera-like photos, one core, each way timed on every photo in turn (the fastest of
--repeats counts: the machine is shared, and others only ever add time):
- `pillow reduced + full`: the detector's copy decoded at 1/4 (12 MP) in the DCT domain, then the whole file
  again for faces too small there (what a photo with a small face cost before);
- `pillow full + area`: one full decode through Pillow, the detector's copy area-averaged from it
  in one resize;
- `simplejpeg full + area`: the same through libjpeg-turbo's own API, straight into an array;
- `simplejpeg full + halvings`: the same, the copy made by halving the frame (what is served:
  `whoru.faces.photo.halvings`, which also keeps the half-size level for crops);
- `simplejpeg fastdct (+ fastupsample)`: its faster, less exact inverse DCT (and chroma upsampling);
- `pillow first rows`: only the top half (or quarter) of the rows, what decoding only the rows that
  hold faces could save at best (the entropy-coded data before them must be read all the same).

    python scripts/measure_decoders.py --size 1024x768 --size 4032x3024 --photos 8 --repeats 5
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
import simplejpeg
from PIL import Image, ImageFile

from whoru.bench.workload import face_chips, parse_size, photo
from whoru.faces.photo import Photo, halvings
from whoru.settings import PROJECT_ROOT


def pillow(data: bytes, scale: int = 1) -> np.ndarray:
    """Decode through Pillow at 1/scale in the DCT domain."""
    with Image.open(io.BytesIO(data)) as image:
        if scale > 1:
            image.draft("RGB", (image.width // scale, image.height // scale))
        return np.asarray(image)


def pillow_rows(data: bytes, share: float) -> np.ndarray:
    """Decode through Pillow the top `share` of the rows only, by cutting the decoder's tile short."""
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with Image.open(io.BytesIO(data)) as image:
            name, _, offset, args = image.tile[0]
            rows = round(image.height * share)
            image.tile = [ImageFile._Tile(name, (0, 0, image.width, rows), offset, args)]
            image._size = (image.width, rows)
            return np.asarray(image)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def area(rgb: np.ndarray, scale: int) -> np.ndarray:
    """Return the detector's copy: the frame area-averaged by a whole factor."""
    height, width = rgb.shape[0] // scale, rgb.shape[1] // scale
    return cv2.resize(rgb[: height * scale, : width * scale], (width, height), interpolation=cv2.INTER_AREA)


def ways(scale: int) -> dict[str, Callable[[bytes], object]]:
    """Return every way of decoding measured, for photos whose detector copy is 1/scale."""
    return {
        "pillow reduced + full": lambda data: (pillow(data, scale), pillow(data)),
        "pillow reduced alone": lambda data: pillow(data, scale),
        "pillow full + area": lambda data: area(pillow(data), scale),
        "simplejpeg full + area": lambda data: area(simplejpeg.decode_jpeg(data), scale),
        "simplejpeg fastdct + area": lambda data: area(simplejpeg.decode_jpeg(data, fastdct=True), scale),
        "simplejpeg fastdct fastupsample + area": lambda data: area(
            simplejpeg.decode_jpeg(data, fastdct=True, fastupsample=True), scale
        ),
        "pillow first half of rows": lambda data: pillow_rows(data, 0.5),
        "pillow first quarter of rows": lambda data: pillow_rows(data, 0.25),
        "simplejpeg full + halvings": lambda data: halvings(simplejpeg.decode_jpeg(data), scale),
    }


def measure(photos: list[bytes], scale: int, repeats: int) -> dict[str, float]:
    """Return the median over photos of each way's fastest time, in ms."""
    best: dict[str, list[float]] = {}
    for data in photos:
        for name, way in ways(scale).items():
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                way(data)
                times.append(time.perf_counter() - started)
            best.setdefault(name, []).append(min(times) * 1000)
    return {name: round(statistics.median(values), 1) for name, values in best.items()}


def main() -> None:
    """Build the photos and print each way's milliseconds per size as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", default=[], help="WxH, repeatable")
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as one worker process has
    cv2.setNumThreads(1)
    chips, results = face_chips(PROJECT_ROOT / "tests" / "fixtures" / "utkface"), {}
    for text in args.size or ["1024x768", "4032x3024"]:
        rng, backgrounds = random.Random(1234), {}
        photos = [photo(rng, chips, parse_size(text), backgrounds)[0] for _ in range(args.photos)]
        scale = Photo.decode(photos[0], 1024).scale
        results[text] = {"detector_copy_scale": scale, **measure(photos, scale, args.repeats)}
    print(json.dumps({"photos": args.photos, "repeats": args.repeats, "ms_per_photo": results}, indent=1))


if __name__ == "__main__":
    main()
