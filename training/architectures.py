"""Model definitions: the original three `seed` CNNs and the multi-task `default` network."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from whoru.labels import AGE_BINS, ETHNICITIES, MAX_AGE

SEED_TASKS = ("age_bins", "gender", "ethnicity")


def augmentation() -> keras.Sequential:
    """Return the random flips, shifts, zooms and colour changes applied while training only."""
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal"),
            layers.RandomTranslation(0.05, 0.05, fill_mode="reflect"),
            layers.RandomRotation(0.03, fill_mode="reflect"),
            layers.RandomZoom((-0.08, 0.08), fill_mode="reflect"),
            layers.RandomContrast(0.25),
            layers.RandomBrightness(0.2, value_range=(0.0, 1.0)),
        ],
        name="augmentation",
    )


def make_seed_model(task: str, input_shape: tuple[int, int, int]) -> keras.Model:
    """Return one of the original project's CNNs: 3 conv+pool blocks, dense 128 and 64."""
    inputs = keras.Input(input_shape, name="face")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    for filters in (64, 128, 256):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dense(64, activation="relu")(x)
    if task == "gender":
        outputs = layers.Dense(1, activation="sigmoid", name="gender")(x)
    elif task in ("age_bins", "ethnicity"):
        size = len(AGE_BINS) if task == "age_bins" else len(ETHNICITIES)
        outputs = layers.Dense(size, activation="softmax", name=task)(x)
    else:
        raise ValueError(f"unknown seed task {task!r}; expected one of {SEED_TASKS}")
    return keras.Model(inputs, outputs, name=f"seed_{task}")


def _conv_bn(x, filters: int, strides: int = 1):
    """Return conv 3x3 -> batch norm -> ReLU."""
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def _residual_block(x, filters: int, strides: int):
    """Return a two-conv residual block with a projection shortcut when the shape changes."""
    shortcut = x
    y = _conv_bn(x, filters, strides)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def make_default_model(input_shape: tuple[int, int, int], widths: tuple[int, ...] = (32, 64, 128, 256)) -> keras.Model:
    """Return the shared residual trunk with age-distribution, gender and ethnicity heads."""
    inputs = keras.Input(input_shape, name="face")
    x = augmentation()(layers.Rescaling(1.0 / 255.0)(inputs))
    x = _conv_bn(x, widths[0], strides=2)
    x = _conv_bn(x, widths[0])
    for index, filters in enumerate(widths[1:]):
        x = _residual_block(x, filters, strides=2)
        if index >= 1:
            x = _residual_block(x, filters, strides=1)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    return keras.Model(inputs, _heads(x), name="whoru_default")


def _heads(features) -> dict:
    """Return the named outputs: age distribution and its expected value, gender, ethnicity."""
    age_distribution = layers.Dense(MAX_AGE + 1, activation="softmax", name="age_distribution")(features)
    # A frozen dot product with 0..MAX_AGE turns the distribution into expected years, so the
    # years and the bins (sums of the same distribution) can never disagree.
    expected = layers.Dense(1, use_bias=False, trainable=False, name="age")
    age = expected(age_distribution)
    expected.set_weights([np.arange(MAX_AGE + 1, dtype=np.float32)[:, None]])
    return {
        "age_distribution": age_distribution,
        "age": age,
        "gender": layers.Dense(1, activation="sigmoid", name="gender")(features),
        "ethnicity": layers.Dense(len(ETHNICITIES), activation="softmax", name="ethnicity")(features),
    }
