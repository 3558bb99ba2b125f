"""How far a phone photo's predictions stray from the same photo at 2000 pixels, over a folder of real photos.

Each photo is upscaled to a phone's 4032 px (stored turned, EXIF orientation 6) and shrunk from
there to 2000 px, as tests/worker/test_photo_sizes.py does for two of them; both go through the
worker's path, and the faces of the 2000 px copy are classified at their own landmarks in both, so
what differs is the decode, the detector's copy and the crop. Prints the mean and largest
difference in age and P(gender), and the share of faces whose ethnicity differs.

    python scripts/measure_phone_agreement.py /work/shared/data/photos --model models/default
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from whoru.faces.pipeline import FacePipeline
from whoru.settings import MODELS_DIR

PHONE, SMALL = 4032, 2000


def jpeg(upright: Image.Image, orientation: int = 1) -> bytes:
    """Return a JPEG of quality 92 storing the upright picture as a camera does for an EXIF orientation (1 or 6)."""
    stored = upright.transpose(Image.Transpose.ROTATE_90) if orientation == 6 else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def differences(pipeline: FacePipeline, path: Path) -> list[tuple[float, float, bool]]:
    """Return, per face of the 2000 px copy, the age and P(female) differences and whether the ethnicity differs."""
    upright = Image.open(path).convert("RGB")
    factor = PHONE / max(upright.size)
    phone = upright.resize((round(upright.width * factor), round(upright.height * factor)), Image.Resampling.BICUBIC)
    smaller = phone.resize(
        (round(phone.width * SMALL / PHONE), round(phone.height * SMALL / PHONE)), Image.Resampling.LANCZOS
    )
    small, big = pipeline.decode(jpeg(smaller)), pipeline.decode(jpeg(phone, orientation=6))
    faces = pipeline.detector.detect(small.rgb)
    at_phone = [small.to_full(face).scaled(PHONE / SMALL / big.scale) for face in faces]
    reference = pipeline.classify(faces, pipeline.align(small, faces))
    moved = pipeline.classify(at_phone, pipeline.align(big, at_phone))
    female = [(r.gender_probability if r.gender == "female" else 1 - r.gender_probability) for r in reference]
    return [
        (
            abs(m.age - r.age),
            abs((m.gender_probability if m.gender == "female" else 1 - m.gender_probability) - f),
            m.ethnicity != r.ethnicity,
        )
        for m, r, f in zip(moved, reference, female)
    ]


def main() -> None:
    """Measure every photo of the folder and print the summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model", type=Path, default=MODELS_DIR / "default")
    args = parser.parse_args()
    pipeline = FacePipeline.load(args.model, MODELS_DIR / "yunet")
    rows = [row for path in sorted(args.folder.glob("*.jpg")) for row in differences(pipeline, path)]
    age, female, ethnicity = (np.array(column, dtype=float) for column in zip(*rows))
    print(
        json.dumps(
            {
                "model": args.model.name,
                "faces": len(rows),
                "age_mean": round(age.mean(), 3),
                "age_max": round(age.max(), 2),
                "age_over_1": int((age > 1).sum()),
                "female_mean": round(female.mean(), 4),
                "female_max": round(female.max(), 3),
                "ethnicity_differs": int(ethnicity.sum()),
            }
        )
    )


if __name__ == "__main__":
    main()
