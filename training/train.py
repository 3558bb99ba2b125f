"""Train an architecture on UTKFace and write a complete model directory."""

from __future__ import annotations

import os
import platform
import shutil
import time
from functools import partial
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from whoru.faces.align import InputSpec
from whoru.training.architectures import SEED_TASKS, make_default_model, make_seed_model
from whoru.training.cache import Arrays
from whoru.training.card import record_metrics, write_card
from whoru.training.compile import compile_default, compile_seed
from whoru.training.datasets import Parts, join_arrays, load_parts, write_manifest
from whoru.training.evaluate import evaluate_arrays
from whoru.training.export import export_onnx
from whoru.training.targets import default_targets, seed_targets

SPECS = {"default": InputSpec(96, "rgb"), "seed": InputSpec(48, "gray")}
DEFAULT_WIDTHS = (32, 48, 96, 192)
BATCH_SIZE = 64


FIT_ON = ("train", "train+val")


def train(
    data: Path,
    arch: str,
    out: Path,
    epochs: int,
    resume: bool,
    cache_dir: Path | None,
    fit_on: str = "train",
    seed: int = 1234,
) -> dict:
    """Train `arch` on the dataset at `data` and save the model, split and card under `out`.

    `fit_on="train+val"` refits on the validation faces too, for exactly `epochs` epochs, and
    keeps the last one: for a final model once a run on "train" has chosen the recipe.
    """
    if arch not in SPECS:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {sorted(SPECS)}")
    if fit_on not in FIT_ON:
        raise ValueError(f"unknown fit_on {fit_on!r}; expected one of {FIT_ON}")
    keras.utils.set_random_seed(seed)
    parts = load_parts(data, SPECS[arch], cache_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_manifest(parts, out / "split.json")
    started = time.time()
    if arch == "default":
        files = {"model": _fit_default(parts, out, epochs, resume, fit_on)}
    else:
        files = {task: _fit_seed(task, parts, out, epochs, resume, fit_on) for task in SEED_TASKS}
    training = {
        "seconds": round(time.time() - started),
        "epochs": epochs,
        "fit_on": fit_on,
        "seed": seed,
        "machine": machine(),
    }
    write_card(out, arch, SPECS[arch], files, parts, training)
    if arch == "default":  # The seed CNNs are served as the original project served them: Keras.
        export_onnx(out)
    return record_metrics(out, "chips", evaluate_arrays(out, parts.test))


def _fit_arrays(parts: Parts, fit_on: str) -> tuple[Arrays, Arrays | None]:
    """Return the faces to fit on and the faces to validate on (none when validation is fitted)."""
    return (parts.train, parts.val) if fit_on == "train" else (join_arrays(parts.train, parts.val), None)


def _dataset(x: np.ndarray, y, shuffle: bool) -> tf.data.Dataset:
    """Return a batched tf.data pipeline over in-memory arrays."""
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), reshuffle_each_iteration=True)  # seeded by set_random_seed
    return ds.batch(BATCH_SIZE).prefetch(tf.data.AUTOTUNE)


def callbacks(work: Path, resume: bool, monitor: str | None, mode: str) -> list[keras.callbacks.Callback]:
    """Return per-epoch checkpointing, best-model saving (when validated) and crash-safe resumption."""
    backup = work / "backup"
    work.mkdir(parents=True, exist_ok=True)
    if not resume and backup.exists():
        shutil.rmtree(backup)
    kept = [
        keras.callbacks.BackupAndRestore(str(backup)),
        keras.callbacks.ModelCheckpoint(str(work / "last.keras")),
        keras.callbacks.CSVLogger(str(work / "history.csv"), append=resume),
    ]
    if monitor:
        kept.append(
            keras.callbacks.ModelCheckpoint(str(work / "best.keras"), monitor=monitor, mode=mode, save_best_only=True)
        )
    return kept


def _fit(
    model: keras.Model,
    fit: Arrays,
    val: Arrays | None,
    targets,
    work: Path,
    epochs: int,
    resume: bool,
    monitor: str,
    mode: str,
) -> keras.Model:
    """Fit a compiled model and return its best validated epoch, or its last one without validation."""
    train_ds = _dataset(fit.images, targets(fit), shuffle=True)
    val_ds = None if val is None else _dataset(val.images, targets(val), shuffle=False)
    steps = callbacks(work, resume, monitor if val is not None else None, mode)
    model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=steps, verbose=2)
    return keras.saving.load_model(work / ("best.keras" if val is not None else "last.keras"), compile=False)


def _fit_default(parts: Parts, out: Path, epochs: int, resume: bool, fit_on: str) -> str:
    """Train the multi-task network and save the epoch to serve as model.keras."""
    fit, val = _fit_arrays(parts, fit_on)
    model = make_default_model(SPECS["default"].shape, DEFAULT_WIDTHS)
    compile_default(model, -(-len(fit.images) // BATCH_SIZE), epochs)
    # Saved without optimizer state: a third of the size.
    _fit(model, fit, val, _default_y, out / "checkpoints", epochs, resume, "val_loss", "min").save(out / "model.keras")
    return "model.keras"


def _fit_seed(task: str, parts: Parts, out: Path, epochs: int, resume: bool, fit_on: str) -> str:
    """Train one of the original three CNNs and save the epoch to serve."""
    fit, val = _fit_arrays(parts, fit_on)
    model = make_seed_model(task, SPECS["seed"].shape)
    compile_seed(model, task)
    _fit(
        model, fit, val, partial(_seed_y, task), out / "checkpoints" / task, epochs, resume, "val_accuracy", "max"
    ).save(out / f"{task}.keras")
    return f"{task}.keras"


def _default_y(arrays: Arrays) -> dict[str, np.ndarray]:
    """Return the multi-task targets of a part."""
    return default_targets(arrays.ages, arrays.genders, arrays.ethnicities)


def _seed_y(task: str, arrays: Arrays) -> np.ndarray:
    """Return one seed CNN's targets of a part."""
    return seed_targets(task, arrays.ages, arrays.genders, arrays.ethnicities)


def machine() -> dict:
    """Describe the machine that trained the model."""
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "gpu": None,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }
