r"""Fine-tune our multi-task CNN (`fast`'s network) on several datasets at once, with real photos' degradations.

The starting network has already trained on some faces (UTKFace's train and validation parts);
those stay in the fitting set, and every other dataset's validation part, never seen, chooses
the epoch. Faces the detector missed in a loosely cropped dataset are left out: the serving
pipeline never scores them, and their fallback crop would frame them wrongly.

    python -m whoru.training.finetune --start models/fast --out models/fast-union \
        --data UTKFace.tar --data AAF-train.tar --data APPA-trainval.tar
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from whoru.runtime import configure_tensorflow

configure_tensorflow()  # TensorFlow's settings must be in place before it is first imported.
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from whoru.model_card import ModelCard  # noqa: E402
from whoru.training.cache import Arrays  # noqa: E402
from whoru.training.compile import compile_finetune  # noqa: E402
from whoru.training.datasets import Parts, join_arrays, load_parts  # noqa: E402
from whoru.training.degrade import degrade  # noqa: E402
from whoru.training.export import export_onnx  # noqa: E402
from whoru.training.readers import ALIGNED_CHIPS  # noqa: E402
from whoru.training.split import fitted_names  # noqa: E402
from whoru.training.targets import default_targets  # noqa: E402
from whoru.training.train import BATCH_SIZE, SPECS, callbacks, machine  # noqa: E402


def split_for_finetuning(parts: list[Parts], seen: set[str]) -> tuple[Arrays, Arrays]:
    """Return the faces to fit on (train parts plus validation faces already seen) and those to validate on."""
    fit, val = [], []
    for part in parts:
        keep = (lambda a: a) if part.dataset in ALIGNED_CHIPS else _detected
        seen_val = np.array([name in seen for name in part.val.names], dtype=bool)
        fit += [keep(part.train), keep(_rows(part.val, seen_val))]
        val.append(keep(_rows(part.val, ~seen_val)))
    return _joined(fit), _joined(val)


def finetune(start: Path, sources: list[Path], out: Path, epochs: int, peak: float, cache_dir: Path, seed: int) -> dict:
    """Fine-tune `start`'s network on the datasets, keep the best validation epoch, write `out`; return the record."""
    keras.utils.set_random_seed(seed)
    parts = [load_parts(source, SPECS["default"], cache_dir) for source in sources]
    fit, val = split_for_finetuning(parts, fitted_names(start / "split.json"))
    print(f"fine-tuning on {len(fit.names)} faces, validating on {len(val.names)}", flush=True)
    model = keras.saving.load_model(start / "model.keras", compile=False)
    steps = -(-len(fit.names) // BATCH_SIZE)
    compile_finetune(model, steps, epochs, peak)
    out.mkdir(parents=True, exist_ok=True)
    work = out / "checkpoints"
    started = time.time()
    model.fit(
        _dataset(fit, train=True),
        validation_data=_dataset(val, train=False),
        epochs=epochs,
        verbose=2,
        callbacks=[*callbacks(work, False, "val_loss", "min"), _Progress(steps)],
    )
    keras.saving.load_model(work / "best.keras", compile=False).save(out / "model.keras")
    history = (work / "history.csv").read_text()
    record = {
        "seconds": round(time.time() - started),
        "fit_faces": len(fit.names),
        "validation_faces": len(val.names),
        "epochs": epochs,
        "peak_learning_rate": peak,
        "seed": seed,
    }
    _write_directory(start, out, parts, record)
    export_onnx(out)
    print(history, flush=True)
    return record


def _write_directory(start: Path, out: Path, parts: list[Parts], record: dict) -> None:
    """Write the split of every dataset and the card (the starting card with the new training record)."""
    manifest = {
        "datasets": {p.dataset: {"data_sha256": p.sha256, "skipped": len(p.skipped)} for p in parts},
        **{part: sorted(n for p in parts for n in p.manifest[part]) for part in ("train", "val", "test")},
    }
    (out / "split.json").write_text(json.dumps(manifest, indent=1) + "\n")
    card = ModelCard.load(start)
    names = {"utkface": "UTKFace", "aaf": "AAF", "appa": "APPA-REAL"}
    trained_on = ", ".join(names.get(p.dataset, p.dataset) for p in parts)
    document = card.model_dump(mode="json", exclude_unset=True)
    # The starting network's figures, 8-bit file and range rule describe another network.
    for stale in ("quantization", "quantitative_analysis"):
        document.pop(stale, None)
    document["inference"].pop("age_range_temperature_chosen_on", None)
    card = ModelCard.model_validate(document).updated(
        {
            "name": out.name,
            "model_details": {
                "description": f"`{start.name}`'s residual CNN ({card.version}) fine-tuned on {trained_on} together, "
                "with random photo degradations; a distribution over ages 0-116 (the served age is the median of "
                "that distribution tempered by the card's range rule, the range its 10th to 90th percentile), "
                "gender probability and ethnicity probabilities.",
                "licenses": [f"{trained_on}: non-commercial research use only"],
            },
            "considerations": {
                "limitations": [
                    f"Fitted on {trained_on}: AAF is mostly Asian faces, APPA-REAL web photos with real ages, "
                    "UTKFace ages estimated by annotators; accuracy drops on profiles, occlusion and tiny faces.",
                    "Gender is a binary label and ethnicity UTKFace's five coarse classes (only UTKFace has "
                    "ethnicity labels), as annotated by the datasets' authors; neither describes how a person "
                    "identifies.",
                    "UTKFace, AAF and APPA-REAL are for non-commercial research only; so are models trained on them.",
                ]
            },
            "quantitative_analysis": {},
            "version": time.strftime("%Y.%m.%d", time.gmtime()) + "-fast",
            "files": {"model": "model.keras"},
            "onnx_files": {},
            "training_data": {
                "datasets": {
                    p.dataset: {
                        "sha256": p.sha256,
                        "sizes": {k: len(v) for k, v in p.manifest.items()},
                        "skipped_names": len(p.skipped),
                    }
                    for p in parts
                },
                "split_manifest": "split.json",
            },
            "training": {
                "finetuned_from": f"{start.name} {card.version}",
                **record,
                "degradations": "training/degrade.py: grayscale, blur, low resolution, JPEG, exposure",
                "machine": machine(),
            },
        }
    )
    card.save(out)


class _Progress(keras.callbacks.Callback):
    """Print the batches done and the seconds spent, a tenth of an epoch at a time, so a slow epoch can be timed."""

    def __init__(self, steps: int):
        super().__init__()
        self.every, self.started = max(1, steps // 10), time.time()

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % self.every == 0:
            print(f"  batch {batch + 1}, {time.time() - self.started:.0f} s since the start", flush=True)


def _dataset(arrays: Arrays, train: bool) -> tf.data.Dataset:
    """Return batches of (face, targets), degraded and shuffled when training."""
    ds = tf.data.Dataset.from_tensor_slices((arrays.images, _targets(arrays)))
    if train:
        ds = ds.shuffle(len(arrays.names), reshuffle_each_iteration=True)
        ds = ds.map(lambda face, y: (degrade(face), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(BATCH_SIZE).prefetch(tf.data.AUTOTUNE)


def _targets(arrays: Arrays) -> dict[str, np.ndarray]:
    """Return the multi-task targets, a missing gender kept negative for the masked loss."""
    y = default_targets(arrays.ages, arrays.genders, arrays.ethnicities)
    y["gender"] = arrays.genders.astype(np.float32)[:, None]
    return y


def _detected(arrays: Arrays) -> Arrays:
    """Return the faces the detector found."""
    return _rows(arrays, arrays.detected.astype(bool))


def _rows(arrays: Arrays, mask: np.ndarray) -> Arrays:
    """Return the masked rows of every array."""
    return Arrays(
        [n for n, keep in zip(arrays.names, mask) if keep],
        arrays.images[mask],
        arrays.ages[mask],
        arrays.genders[mask],
        arrays.ethnicities[mask],
        arrays.detected[mask],
    )


def _joined(pieces: list[Arrays]) -> Arrays:
    """Return the pieces as one set of arrays."""
    joined = pieces[0]
    for piece in pieces[1:]:
        joined = join_arrays(joined, piece)
    return joined


def main() -> None:
    """Fine-tune a multitask model directory on the given datasets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=Path, required=True, help="multitask model directory to start from")
    parser.add_argument(
        "--data", type=Path, action="append", required=True, help="dataset folder or archive (repeatable)"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--peak-learning-rate", type=float, default=1e-3)
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/whoru"))
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    if args.out.exists() and args.out.resolve() != args.start.resolve():
        shutil.rmtree(args.out / "checkpoints", ignore_errors=True)
    print(
        json.dumps(
            finetune(args.start, args.data, args.out, args.epochs, args.peak_learning_rate, args.cache_dir, args.seed)
        )
    )


if __name__ == "__main__":
    main()
