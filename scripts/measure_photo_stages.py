"""Per-image stage times of the worker's path on one core, for the bench's camera-like photos of given sizes.

Runs decode, preview, detect, align and classify as worker/analyse.py does, both the whole-frame
way (`decode_image`, crops from the full image) and the reduced-decode way (`Photo`), on the
same photos, and prints milliseconds per image for each.

    python scripts/measure_photo_stages.py --size 1024x768 --size 4032x3024 --photos 40 --model models/fast
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import time
from collections import defaultdict
from pathlib import Path

from PIL import Image

from bench.workload import face_chips, parse_size, photo
from whoru.faces.images import decode_image
from whoru.faces import photo as photo_module
from whoru.faces.photo import Photo
from whoru.faces.pipeline import FacePipeline
from whoru.previews import LONGEST_SIDE, QUALITY
from whoru.settings import PROJECT_ROOT


def preview(rgb) -> bytes:
    """Encode the preview the worker stores."""
    image = Image.fromarray(rgb)
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()


def whole(pipeline: FacePipeline, data: bytes, ms: dict) -> tuple[list, list]:
    """The whole-frame path: full decode, detector downscales, crops from full resolution."""
    with timer(ms, "decode"):
        rgb = decode_image(data)
    with timer(ms, "preview"):
        preview(rgb)
    with timer(ms, "detect"):
        found = pipeline.detector.detect(rgb)
    with timer(ms, "align"):
        crops = pipeline.align(rgb, found)
    return found, crops


def reduced(pipeline: FacePipeline, data: bytes, ms: dict) -> tuple[list, list]:
    """The reduced-decode path of worker/analyse.py; counts the photos that needed a full decode too."""
    with timer(ms, "decode"):
        decoded = Photo.decode(data, pipeline.detector.max_side)
    with timer(ms, "detect"):
        shrunk = pipeline.detector.shrink(decoded.rgb)
        found = pipeline.detector.detect(decoded.rgb, shrunk)
    with timer(ms, "preview"):
        preview(shrunk)
    with timer(ms, "align"):
        crops = pipeline.align_photo(decoded, found)
        found = [decoded.to_full(face) for face in found]
    ms["full_decodes"] += (decoded._full is not None) * 1000.0
    return found, crops


class timer:
    """Add the enclosed block's milliseconds to ms[name]."""

    def __init__(self, ms: dict, name: str):
        self.ms, self.name = ms, name

    def __enter__(self) -> None:
        """Start the clock."""
        self.started = time.perf_counter()

    def __exit__(self, *_exc) -> None:
        """Add the time since the start."""
        self.ms[self.name] += (time.perf_counter() - self.started) * 1000


def measure(pipeline: FacePipeline, photos: list[bytes]) -> tuple[dict, dict]:
    """Return milliseconds per image for each stage of both paths, photo by photo in turn so that load hits both alike."""
    totals = {whole: defaultdict(float), reduced: defaultdict(float)}
    found: dict = {whole: [], reduced: []}
    for index, data in enumerate(photos):
        for path in (whole, reduced) if index % 2 else (reduced, whole):
            found[path].append(path(pipeline, data, totals[path]))
    for path, ms in totals.items():
        with timer(ms, "classify"):
            pipeline.classify([d for ds, _ in found[path] for d in ds], [c for _, cs in found[path] for c in cs], 16)
    return tuple({stage: total / len(photos) for stage, total in totals[path].items()}  # type: ignore[return-value]
                 | {"faces": sum(len(ds) for ds, _ in found[path])} for path in (whole, reduced))


def fastest(runs: list[dict]) -> dict:
    """Return each stage's lowest figure over repeated runs: the machine is shared, and others only ever add time."""
    stages = {key: round(min(run[key] for run in runs), 1) for key in runs[0] if key not in ("faces", "full_decodes")}
    extra = {key: runs[0][key] for key in ("faces", "full_decodes") if key in runs[0]}
    if "full_decodes" in extra:
        extra["full_decodes"] = round(extra["full_decodes"] / 1000, 2)  # share of photos
    return {**stages, "total": round(sum(stages.values()), 1), **extra}


def main() -> None:
    """Build the photos, warm up, measure both paths per size and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", default=[], help="WxH, repeatable")
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each path, alternating; the fastest counts")
    parser.add_argument("--max-side", type=int, default=1024, help="WHORU_DETECT_MAX_SIDE")
    parser.add_argument("--min-source-pixels", type=float, default=photo_module.MIN_SOURCE_PIXELS,
                        help="what-if: image pixels per crop pixel below which a face needs the full decode")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "fast")
    args = parser.parse_args()
    photo_module.MIN_SOURCE_PIXELS = args.min_source_pixels
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as one worker process has
    pipeline = FacePipeline.load(args.model, PROJECT_ROOT / "models" / "yunet", max_side=args.max_side, threads=1)
    chips, results = face_chips(PROJECT_ROOT / "tests" / "fixtures" / "utkface"), {}
    for text in args.size or ["1024x768", "4032x3024"]:
        rng, backgrounds = random.Random(1234), {}
        photos = [photo(rng, chips, parse_size(text), backgrounds)[0] for _ in range(args.photos)]
        measure(pipeline, photos[:2])
        runs = [measure(pipeline, photos) for _ in range(args.repeats)]
        results[text] = {"whole_frame": fastest([a for a, _ in runs]), "reduced_decode": fastest([b for _, b in runs])}
    print(json.dumps({"model": args.model.name, "photos": args.photos, "max_side": args.max_side,
                      "min_source_pixels": args.min_source_pixels, "stages_ms_per_image": results}, indent=1))


if __name__ == "__main__":
    main()
