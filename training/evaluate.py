"""Measure a model directory on labelled faces, as chips or through the serving pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from whoru.faces.model import FaceModel
from training.cache import Arrays
from training.metrics import all_figures


def evaluate_arrays(model_dir: Path, arrays: Arrays) -> dict:
    """Return the figures of a model on already-aligned faces (chips mode)."""
    model = FaceModel(model_dir)
    predictions = model.predict(arrays.images)
    labels = {"age": arrays.ages, "gender": arrays.genders, "ethnicity": arrays.ethnicities}
    preds = {"age": predictions.age, "age_bin": predictions.age_bin,
             "female": predictions.female_probability, "ethnicity": predictions.ethnicity_probabilities}
    return {**all_figures(labels, preds), "no_face": 0}
