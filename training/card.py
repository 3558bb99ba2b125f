"""Write a model directory's card.json (Model Card Toolkit field names) and its metrics."""

from __future__ import annotations

import time
from pathlib import Path

from whoru.faces.align import InputSpec
from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS
from whoru.model_card import ModelCard
from whoru.training.datasets import Parts

DESCRIPTIONS = {
    "default": "One residual CNN with a shared trunk and three heads: a distribution over ages 0-116 "
    "(its expectation is the age in years, its sums over each bin's years the bin probabilities), "
    "gender probability and ethnicity probabilities.",
    "seed": "The original project's three separate CNNs (age bins, gender, ethnicity) on 48x48 grayscale faces.",
}
LIMITATIONS = [
    "Trained only on UTKFace: mostly frontal, well-lit faces; accuracy "
    "drops on profiles, blur, occlusion and tiny faces.",
    "Gender is a binary label and ethnicity UTKFace's five coarse classes, as annotated by the dataset's authors; "
    "neither describes how a person identifies.",
    "UTKFace is under a non-commercial research licence; so are models trained on it.",
]


def write_card(out: Path, arch: str, spec: InputSpec, files: dict[str, str], parts: Parts, training: dict) -> None:
    """Write card.json for a freshly trained model (metrics are added once it is measured)."""
    card = ModelCard.model_validate(
        {
            "name": out.name,
            "version": time.strftime("%Y.%m.%d", time.gmtime()) + f"-{arch}",
            "architecture": arch,
            "format": "multitask" if arch == "default" else "separate",
            "files": files,
            "input": {
                "size": spec.size,
                "color": spec.color,
                "dtype": "uint8",
                "range": [0, 255],
                "alignment": "whoru.faces.align.face_input (5-point similarity to UTKFace chip framing)",
            },
            "labels": {"gender": list(GENDERS), "ethnicity": list(ETHNICITIES), "age_bins": list(AGE_BIN_NAMES)},
            "model_details": {"description": DESCRIPTIONS[arch], "licenses": ["UTKFace non-commercial research"]},
            "training_data": {
                "name": "UTKFace aligned and cropped",
                "sha256": parts.sha256,
                "split_manifest": "split.json",
                "sizes": {p: len(n) for p, n in parts.manifest.items()},
                "skipped_names": len(parts.skipped),
            },
            "training": training,
            # Averaging each face with its mirror image: +0.7 points on gender, ethnicity and bins and
            # -0.15 years MAE on the validation split of the first default model, at twice the (small)
            # classification cost, so the multi-task model is served that way.
            "inference": {"mirror_average": arch == "default"},
            "considerations": {"limitations": LIMITATIONS},
            "quantitative_analysis": {},
        }
    )
    card.save(out)


def record_metrics(model_dir: Path, mode: str, metrics: dict) -> ModelCard:
    """Store one dataset's test-part metrics of one evaluation mode in the card, beside other datasets'; return it."""
    card = ModelCard.load(model_dir)
    stored = card.quantitative_analysis.get(f"test_{mode}", {})
    per_dataset = stored if all(isinstance(v, dict) and "n" in v for v in stored.values()) else {}
    card.quantitative_analysis[f"test_{mode}"] = {**per_dataset, metrics.get("dataset", "utkface"): metrics}
    card.save(model_dir)
    return card
