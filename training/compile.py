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
