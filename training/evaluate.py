"""Measure a model directory on labelled faces, as chips or through the serving pipeline."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import numpy as np
from tqdm import tqdm

from whoru.faces.images import ImageError
from whoru.faces.model import FaceModel, Predictions
from whoru.faces.pipeline import FacePipeline, stack_crops
from whoru.settings import MODELS_DIR
from whoru.training.accuracy import all_figures
from whoru.training.cache import Arrays, build_arrays
from whoru.training.datasets import cache_path
from whoru.training.readers import Face, load_images, read_dataset
from whoru.training.split import fitted_names


def evaluate_arrays(model_dir: Path, arrays: Arrays) -> dict:
    """Return the figures of a model on already-aligned faces (chips mode)."""
    predictions = FaceModel(model_dir, os.cpu_count() or 1).predict(arrays.images)
    return {**_figures(arrays.ages, arrays.genders, arrays.ethnicities, predictions), "no_face": 0}


def unseen_faces(model_dir: Path, faces: list[Face]) -> tuple[list[Face], int]:
    """Return the faces the model never trained or validated on, and how many were left out."""
    manifest = model_dir / "split.json"
    seen = fitted_names(manifest) if manifest.exists() else set()
    kept = [face for face in faces if face.name not in seen]
    return kept, len(faces) - len(kept)


def evaluate(model_dir: Path, source: Path, mode: str, cache_dir: Path | None) -> tuple[dict, dict]:
    """Evaluate on every unseen face of a dataset; return the figures and raw arrays for the report."""
    reading = read_dataset(source)
    faces, left_out = unseen_faces(model_dir, reading.faces)
    if not faces:
        raise ValueError(f"{source} has no labelled images the model has not trained on")
    if mode == "chips":
        model = FaceModel(model_dir, os.cpu_count() or 1)
        inputs = {
            name: build_arrays(source, faces, spec, cache_path(cache_dir, reading.sha256, spec)).images
            for name, spec in model.inputs.items()
        }
        predictions, found = (
            model.predict(inputs if model.spec is None else next(iter(inputs.values()))),
            np.ones(len(faces), dtype=bool),
        )
    elif mode == "pipeline":
        predictions, found = _pipeline_predictions(model_dir, source, faces)
    else:
        raise ValueError(f"mode must be 'chips' or 'pipeline', not {mode!r}")
    labels = {k: np.array([getattr(f, k) for f in faces]) for k in ("age", "gender", "ethnicity")}
    kept = {k: v[found] for k, v in labels.items()}
    figures = {
        **_figures(kept["age"], kept["gender"], kept["ethnicity"], predictions),
        "no_face": int((~found).sum()),
        "n_images": len(faces),
        "left_out_seen_in_training": left_out,
        "mode": mode,
        "dataset": reading.dataset,
    }
    return figures, {"labels": kept, "predictions": predictions}


def _pipeline_predictions(model_dir: Path, source: Path, faces: list[Face]) -> tuple[Predictions, np.ndarray]:
    """Run the serving path on each whole image; keep the largest face, note images with none."""
    pipeline = FacePipeline.load(model_dir, MODELS_DIR / "yunet")
    order = {face.name: i for i, face in enumerate(faces)}
    crops: dict[int, object] = {}
    for name, data in tqdm(load_images(source, set(order)), total=len(order), desc="pipeline"):
        try:
            inputs = pipeline.find(pipeline.decode(data)).crops
        except ImageError:
            continue
        if inputs:
            crops[order[PurePosixPath(name).name]] = inputs[0]
    found = np.zeros(len(faces), dtype=bool)
    found[list(crops)] = True
    if not crops:
        empty = {name: np.zeros((0, *spec.shape), np.uint8) for name, spec in pipeline.model.inputs.items()}
        return pipeline.model.predict(empty if pipeline.model.spec is None else next(iter(empty.values()))), found
    return pipeline.model.predict(stack_crops([crops[i] for i in sorted(crops)])), found


def _figures(ages, genders, ethnicities, predictions: Predictions) -> dict:
    """Return overall and per-group figures."""
    labels = {"age": ages, "gender": genders, "ethnicity": ethnicities}
    preds = {
        "age": predictions.age,
        "age_bin": predictions.age_bin,
        "female": predictions.female_probability,
        "ethnicity": predictions.ethnicity_probabilities,
        "age_low": predictions.age_low,
        "age_high": predictions.age_high,
    }
    return all_figures(labels, preds)
