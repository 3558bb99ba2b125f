"""Losses, metrics and optimiser for each architecture."""

from __future__ import annotations

import keras


def schedule(steps_per_epoch: int, epochs: int, peak: float) -> keras.optimizers.schedules.LearningRateSchedule:
    """Return a linear warm-up over one epoch, then cosine decay to zero."""
    total = max(1, steps_per_epoch * epochs)
    warmup = min(steps_per_epoch, total // 2)
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=total - warmup, warmup_target=peak, warmup_steps=warmup
    )


def compile_default(model: keras.Model, steps_per_epoch: int, epochs: int) -> None:
    """Compile the multi-task network: distribution CE + small L1 on years, BCE, smoothed CE."""
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule(steps_per_epoch, epochs, 3e-3), weight_decay=5e-4),
        loss={
            "age_distribution": keras.losses.CategoricalCrossentropy(),
            "age": keras.losses.MeanAbsoluteError(),
            "gender": keras.losses.BinaryCrossentropy(label_smoothing=0.05),
            "ethnicity": keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        },
        loss_weights={"age_distribution": 1.0, "age": 0.05, "gender": 1.0, "ethnicity": 1.0},
        metrics={
            "age": [keras.metrics.MeanAbsoluteError(name="mae")],
            "gender": [keras.metrics.BinaryAccuracy(name="accuracy")],
            "ethnicity": [keras.metrics.CategoricalAccuracy(name="accuracy")],
        },
    )


def compile_seed(model: keras.Model, task: str) -> None:
    """Compile an original CNN as the original did: Adam; BCE for gender, MSE for the softmaxes."""
    if task == "gender":
        loss, accuracy = keras.losses.BinaryCrossentropy(), keras.metrics.BinaryAccuracy(name="accuracy")
    else:
        loss, accuracy = keras.losses.MeanSquaredError(), keras.metrics.CategoricalAccuracy(name="accuracy")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=[accuracy])


@keras.saving.register_keras_serializable(package="whoru")
def masked_binary_crossentropy(y_true, y_pred, label_smoothing: float = 0.05):
    """Binary cross-entropy that is zero where the label is missing (negative)."""
    known = keras.ops.cast(y_true[:, 0] >= 0, "float32")
    loss = keras.losses.binary_crossentropy(keras.ops.maximum(y_true, 0.0), y_pred, label_smoothing=label_smoothing)
    return loss * known


@keras.saving.register_keras_serializable(package="whoru")
def masked_categorical_crossentropy(y_true, y_pred, label_smoothing: float = 0.1):
    """Categorical cross-entropy that is zero where the label is missing (a row of zeros)."""
    known = keras.ops.cast(keras.ops.sum(y_true, axis=-1) > 0, "float32")
    return keras.losses.categorical_crossentropy(y_true, y_pred, label_smoothing=label_smoothing) * known


def compile_finetune(model: keras.Model, steps_per_epoch: int, epochs: int, peak: float) -> None:
    """Compile the multi-task network for fine-tuning on datasets that miss some labels: the default losses, masked."""
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule(steps_per_epoch, epochs, peak), weight_decay=5e-4),
        loss={
            "age_distribution": keras.losses.CategoricalCrossentropy(),
            "age": keras.losses.MeanAbsoluteError(),
            "gender": masked_binary_crossentropy,
            "ethnicity": masked_categorical_crossentropy,
        },
        loss_weights={"age_distribution": 1.0, "age": 0.05, "gender": 1.0, "ethnicity": 1.0},
        metrics={"age": [keras.metrics.MeanAbsoluteError(name="mae")]},
    )
