r"""Choose a one-network model's age range rule on the validation faces it never trained on, and show its figures.

The range is the 10th to 90th percentile of the age distribution tempered by the card's rule
(`whoru/faces/age.py`). Two rules are fitted on the pooled validation faces that neither the
model nor the model it was fine-tuned from trained on (`--seen`, the split.json of that model):
one temperature for every face, and one per band of untempered median age, each the one whose
dataset furthest from 80% lies nearest it. Both, and the card's own rule, are printed with every
dataset's validation figures; `--write single|by-age` stores one in the card.

    python -m whoru.training.range_fit --model models/fast-union --seen models/fast/split.json \
        --data UTKFace.tar --data AAF-train.tar --data APPA-trainval.tar --write single
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from whoru.faces.age import RangeRule
from whoru.faces.model import FaceModel, from_distribution
from whoru.model_card import CARD, ModelCard
from whoru.training.accuracy import figures_by_dataset
from whoru.training.pooled import pool
from whoru.training.split import fitted_names
from whoru.training.stack.fit import best_temperature, range_rule


def fit(model_dir: Path, sources: list[Path], seen_file: Path | None, cache_dir: Path) -> dict:
    """Return both rules and the validation figures per dataset under each (faces seen in training flagged)."""
    data = pool(sources, model_dir, cache_dir)
    val = data.rows("val")
    seen = fitted_names(seen_file) if seen_file is not None else set()
    unseen = np.array([data.names[r] not in seen for r in val])
    distribution = data.outputs["model/age_distribution"][val]
    female = data.outputs["model/gender"][val][:, 0]
    ethnicity = data.outputs["model/ethnicity"][val]
    y = {k: v[val] for k, v in data.labels.items()}
    groups = data.dataset[val]
    rules = {
        "served": FaceModel(model_dir).range_rule,
        "single": RangeRule((), (best_temperature(distribution[unseen], y["age"][unseen], groups[unseen]),)),
        "by-age": range_rule(distribution[unseen], y["age"][unseen], groups[unseen]),
    }
    # A dataset whose validation faces the starting model trained on is named apart: its figures flatter.
    dataset = np.where(unseen, data.dataset[val], np.char.add(data.dataset[val].astype(str), " (seen)"))
    result = {"fitted_on_faces": int(unseen.sum()), "rules": {}}
    for name, rule in rules.items():
        p = from_distribution(distribution, female, ethnicity, rule)
        result["rules"][name] = {
            "upper_ages": list(rule.upper_ages),
            "temperatures": list(rule.temperatures),
            "validation": figures_by_dataset(dataset, y, p),
        }
    return result


def write_rule(model_dir: Path, rule: dict, kind: str, faces: int) -> None:
    """Store the chosen rule in the model's card."""
    card = json.loads((model_dir / CARD).read_text())
    inference = card.setdefault("inference", {})
    where = (
        f"the {faces} pooled validation faces the network never trained on, the dataset furthest from 80% nearest it"
    )
    inference.pop("age_range_by_age", None)
    if kind == "single":
        inference["age_range_temperature"] = rule["temperatures"][0]
        chosen = (
            f"{where}: with T = {rule['temperatures'][0]} the dataset furthest from 80% of its true ages "
            "inside the range lies nearest it"
        )
    else:
        inference["age_range_temperature"] = 1.0
        inference["age_range_by_age"] = {"upper_ages": rule["upper_ages"], "temperatures": rule["temperatures"]}
        chosen = (
            f"{where}: one temperature per band of untempered median age, the dataset furthest from 80% "
            "nearest it in each"
        )
    inference["age_range_temperature_chosen_on"] = chosen
    ModelCard.model_validate(card).save(model_dir)


def main() -> None:
    """Fit, print and optionally store a one-network model's age range rule."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument("--seen", type=Path, help="split.json of the model this one was fine-tuned from")
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/whoru"))
    parser.add_argument("--write", choices=["single", "by-age"], help="store this rule in the card")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = fit(args.model, args.data, args.seen, args.cache_dir)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    if args.write:
        write_rule(args.model, result["rules"][args.write], args.write, result["fitted_on_faces"])


if __name__ == "__main__":
    main()
