"""Train an architecture on UTKFace and write a complete model directory."""

from __future__ import annotations

import platform
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from whoru.faces.align import InputSpec
from training.architectures import SEED_TASKS, make_default_model, make_seed_model
from training.cache import Arrays
from training.card import write_card
from training.compile import compile_default, compile_seed
from training.datasets import Parts, load_parts, write_manifest
from training.targets import default_targets, seed_targets

SPECS = {"default": InputSpec(64, "rgb"), "seed": InputSpec(48, "gray")}
DEFAULT_WIDTHS = (32, 48, 96, 192)
BATCH_SIZE = 64


def train(data: Path, arch: str, out: Path, epochs: int, resume: bool, cache_dir: Path | None) -> dict:
    """Train `arch` on the dataset at `data` and save the model, split and card under `out`."""
    if arch not in SPECS:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {sorted(SPECS)}")
    keras.utils.set_random_seed(1234)
    parts = load_parts(data, SPECS[arch], cache_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_manifest(parts, out / "split.json")
    started = time.time()
    if arch == "default":
        files = {"model": _fit_default(parts, out, epochs, resume)}
    else:
        files = {task: _fit_seed(task, parts, out, epochs, resume) for task in SEED_TASKS}
    training = {"seconds": round(time.time() - started), "epochs": epochs, "machine": _machine()}
    return write_card(out, arch, SPECS[arch], files, parts, training)


def _dataset(x: np.ndarray, y, shuffle: bool) -> tf.data.Dataset:
    """Return a batched tf.data pipeline over in-memory arrays."""
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=1234, reshuffle_each_iteration=True)
    return ds.batch(BATCH_SIZE).prefetch(tf.data.AUTOTUNE)


def _callbacks(work: Path, resume: bool, monitor: str, mode: str) -> list[keras.callbacks.Callback]:
    """Return per-epoch checkpointing, best-model saving and crash-safe resumption."""
    backup = work / "backup"
    work.mkdir(parents=True, exist_ok=True)
    if not resume and backup.exists():
        shutil.rmtree(backup)
    return [
        keras.callbacks.BackupAndRestore(str(backup)),
        keras.callbacks.ModelCheckpoint(str(work / "last.keras")),
        keras.callbacks.ModelCheckpoint(str(work / "best.keras"), monitor=monitor, mode=mode, save_best_only=True),
        keras.callbacks.CSVLogger(str(work / "history.csv"), append=resume),
    ]


def _fit_default(parts: Parts, out: Path, epochs: int, resume: bool) -> str:
    """Train the multi-task network and save its best epoch as model.keras."""
    model = make_default_model(SPECS["default"].shape, DEFAULT_WIDTHS)
    train_ds = _dataset(parts.train.images, _default_y(parts.train), shuffle=True)
    val_ds = _dataset(parts.val.images, _default_y(parts.val), shuffle=False)
    compile_default(model, len(train_ds), epochs)
    work = out / "checkpoints"
    model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=_callbacks(work, resume, "val_loss", "min"), verbose=2)
    return _keep_best(work, out / "model.keras")


def _fit_seed(task: str, parts: Parts, out: Path, epochs: int, resume: bool) -> str:
    """Train one of the original three CNNs and save its best epoch."""
    model = make_seed_model(task, SPECS["seed"].shape)
    compile_seed(model, task)
    train_ds = _dataset(parts.train.images, _seed_y(task, parts.train), shuffle=True)
    val_ds = _dataset(parts.val.images, _seed_y(task, parts.val), shuffle=False)
    work = out / "checkpoints" / task
    model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=_callbacks(work, resume, "val_accuracy", "max"), verbose=2)
    return _keep_best(work, out / f"{task}.keras")


def _keep_best(work: Path, target: Path) -> str:
    """Save the best checkpoint without optimizer state (a third of the size) and return its name."""
    keras.saving.load_model(work / "best.keras", compile=False).save(target)
    return target.name


def _default_y(arrays: Arrays) -> dict[str, np.ndarray]:
    """Return the multi-task targets of a part."""
    return default_targets(arrays.ages, arrays.genders, arrays.ethnicities)


def _seed_y(task: str, arrays: Arrays) -> np.ndarray:
    """Return one seed CNN's targets of a part."""
    return seed_targets(task, arrays.ages, arrays.genders, arrays.ethnicities)


def _machine() -> dict:
    """Describe the machine that trained the model."""
    import os

    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "gpu": None,
            "tensorflow": tf.__version__, "keras": keras.__version__}
