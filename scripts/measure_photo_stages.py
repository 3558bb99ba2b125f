"""Per-image stage times of the worker's path on one core, for the bench's camera-like photos of given sizes.

Runs decode, preview, detect, align and classify as worker/analyse.py does, both the whole-frame
way (the detector shrinks the whole upright frame itself, every crop from the full image) and the
served way (`Photo`: the detector's copy area-averaged by a whole factor, crops from it where it has
pixels enough), on the same photos, and prints milliseconds per image for each, with the share of
photos that have a face cropped from the full frame.

    python scripts/measure_photo_stages.py --size 1024x768 --size 4032x3024 --photos 40 --model models/fast
"""

from __future__ import annotations

import argparse
import json
import os
import random
from pathlib import Path

from whoru.bench.workload import face_chips, parse_size, photo
from whoru.faces import photo as photo_module
from whoru.faces.photo import Photo
from whoru.faces.pipeline import FacePipeline, Found
from whoru.previews import preview_jpeg
from whoru.settings import MODELS_DIR, PROJECT_ROOT
from whoru.stages import Stages


def whole(pipeline: FacePipeline, data: bytes, stages: Stages) -> tuple[list, list]:
    """The whole-frame path: full decode, the detector downscales, crops from full resolution."""
    with stages("decode"):
        photo = Photo.decode(data, max_side=1 << 30)
    found = path(pipeline, photo, stages)
    return found.detections, found.crops


def reduced(pipeline: FacePipeline, data: bytes, stages: Stages) -> tuple[list, list]:
    """The served path of worker/analyse.py; counts the photos with a face cropped from the full frame."""
    with stages("decode"):
        photo = pipeline.decode(data)
    found = path(pipeline, photo, stages)
    faces = pipeline.detector.detect(photo.rgb, found.detector_copy)
    from_frame = photo.scale > 1 and any(
        photo.source_scale(face, spec) == 1 for face in faces for spec in pipeline.model.inputs.values()
    )
    stages.ms["full_frame_crops"] += from_frame * 1000.0
    return found.detections, found.crops


def path(pipeline: FacePipeline, photo: Photo, stages: Stages) -> Found:
    """Detect, align and make the preview as the worker does."""
    found = pipeline.find(photo, stages)
    with stages("preview"):
        preview_jpeg(found.detector_copy)
    return found


def measure(pipeline: FacePipeline, photos: list[bytes]) -> tuple[dict, dict]:
    """Return milliseconds per image for each stage of both paths, photo by photo in turn, so load hits both alike."""
    totals = {whole: Stages(), reduced: Stages()}
    found: dict = {whole: [], reduced: []}
    for index, data in enumerate(photos):
        for way in (whole, reduced) if index % 2 else (reduced, whole):
            found[way].append(way(pipeline, data, totals[way]))
    for way, stages in totals.items():
        with stages("classify"):
            pipeline.classify([d for ds, _ in found[way] for d in ds], [c for _, cs in found[way] for c in cs], 16)
    return tuple(
        {stage: total / len(photos) for stage, total in totals[way].ms.items()}  # type: ignore[return-value]
        | {"faces": sum(len(ds) for ds, _ in found[way])}
        for way in (whole, reduced)
    )


def fastest(runs: list[dict]) -> dict:
    """Return each stage's lowest figure over repeated runs: the machine is shared, and others only ever add time."""
    stages = {
        key: round(min(run[key] for run in runs), 1) for key in runs[0] if key not in ("faces", "full_frame_crops")
    }
    extra = {key: runs[0][key] for key in ("faces", "full_frame_crops") if key in runs[0]}
    if "full_frame_crops" in extra:
        extra["full_frame_crops"] = round(extra["full_frame_crops"] / 1000, 2)  # share of photos
    return {**stages, "total": round(sum(stages.values()), 1), **extra}


def main() -> None:
    """Build the photos, warm up, measure both paths per size and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", default=[], help="WxH, repeatable")
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each path, alternating; the fastest counts")
    parser.add_argument("--max-side", type=int, default=1024, help="WHORU_DETECT_MAX_SIDE")
    parser.add_argument(
        "--min-source-pixels",
        type=float,
        default=photo_module.MIN_SOURCE_PIXELS,
        help="what-if: image pixels per crop pixel below which a face needs a finer decode",
    )
    parser.add_argument("--model", type=Path, default=MODELS_DIR / "fast")
    args = parser.parse_args()
    photo_module.MIN_SOURCE_PIXELS = args.min_source_pixels
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as one worker process has
    pipeline = FacePipeline.load(args.model, MODELS_DIR / "yunet", max_side=args.max_side, threads=1)
    chips, results = face_chips(PROJECT_ROOT / "tests" / "fixtures" / "utkface"), {}
    for text in args.size or ["1024x768", "4032x3024"]:
        rng, backgrounds = random.Random(1234), {}
        photos = [photo(rng, chips, parse_size(text), backgrounds)[0] for _ in range(args.photos)]
        measure(pipeline, photos[:2])
        runs = [measure(pipeline, photos) for _ in range(args.repeats)]
        results[text] = {"whole_frame": fastest([a for a, _ in runs]), "served": fastest([b for _, b in runs])}
    print(
        json.dumps(
            {
                "model": args.model.name,
                "photos": args.photos,
                "max_side": args.max_side,
                "min_source_pixels": args.min_source_pixels,
                "stages_ms_per_image": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
