"""A served model's figures on each dataset's test part, from cached network outputs (the training path's crops).

Much cheaper than `whoru evaluate` once the stack's outputs are cached: only the networks whose
files differ from the cached ones run again. Faces are cropped as in training (the image padded,
the largest face detected; a missed face of a loose crop left out), which for these
single-face images is the serving path up to the padding.

    python -m whoru.training.test_part_figures --model models/fast --data UTKFace.tar --data AAF-train.tar
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from whoru.faces.model import FaceModel, from_distribution
from whoru.training.accuracy import figures_by_dataset
from whoru.training.pooled import pool


def test_part_figures(model_dir: Path, sources: list[Path], cache_dir: Path) -> dict[str, dict]:
    """Return the model's figures on the test part of each dataset."""
    model = FaceModel(model_dir)
    data = pool(sources, model_dir, cache_dir)
    test = data.rows("test")
    outputs: dict[str, dict] = {}
    for key, value in data.outputs.items():
        role, name = key.split("/", 1)
        outputs.setdefault(role, {})[name] = value[test]
    if model.card.format == "stacked":
        distribution, female, ethnicity = model._head(outputs)  # type: ignore[misc]
    else:
        out = outputs["model"]
        distribution, female, ethnicity = out["age_distribution"], out["gender"][:, 0], out["ethnicity"]
    p = from_distribution(distribution, female, ethnicity, model.range_rule)
    y = {k: v[test] for k, v in data.labels.items()}
    return figures_by_dataset(data.dataset[test], y, p)


def main() -> None:
    """Print a model's per-dataset test-part figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/whoru"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = test_part_figures(args.model, args.data, args.cache_dir)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
