"""Fit the stacked model's MLP head on frozen network features (Keras), and hand back plain arrays."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from whoru.labels import ETHNICITIES, MAX_AGE
from whoru.training.compile import masked_binary_crossentropy, masked_categorical_crossentropy
from whoru.training.targets import age_distribution, one_hot

# The recipe, chosen on UTKFace's validation split among five (docs/model-notes.md); all five came
# within 0.4 points of each other there, this one had the best gender figures. `refit: false` serves
# one head fitted on the training parts alone: a quarter of the CPU time, for 0.04 to 0.12 years of
# MAE on every dataset's validation part (docs/model-notes.md).
HEAD = {
    "hidden": 1024,
    "dropout": 0.6,
    "learning_rate": 3e-4,
    "weight_decay": 1e-2,
    "batch_size": 256,
    "max_epochs": 80,
    "patience": 8,
    "loss_weights": {"age": 1.0, "gender": 1.0, "ethnicity": 1.0},
    "members": 3,
    "refit": True,
    "dataset_weights": {"utkface": 1.0, "aaf": 1.0, "appa": 1.0},
}


def make_head(features: int, hidden: int, dropout: float) -> keras.Model:
    """Return the MLP: one hidden layer, then age (0..116), gender and ethnicity outputs."""
    x = inputs = keras.Input((features,), name="features")
    x = layers.Dropout(dropout / 2)(x)
    x = layers.Dense(hidden, activation="relu", name="hidden")(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(
        inputs,
        {
            "age": layers.Dense(MAX_AGE + 1, activation="softmax", name="age")(x),
            "gender": layers.Dense(1, activation="sigmoid", name="gender")(x),
            "ethnicity": layers.Dense(len(ETHNICITIES), activation="softmax", name="ethnicity")(x),
        },
    )


def targets(ages: np.ndarray, genders: np.ndarray, ethnicities: np.ndarray) -> dict[str, np.ndarray]:
    """Return the head's targets: a Gaussian over years, gender, one-hot ethnicity (negative or zeros if missing)."""
    return {
        "age": age_distribution(ages.astype(np.float32)),
        "gender": genders.astype(np.float32)[:, None],
        "ethnicity": one_hot(ethnicities, len(ETHNICITIES)),
    }


def fit_head(
    x_train, y_train: dict, x_val, y_val: dict, recipe: dict = HEAD, seed: int = 1234, weights: tuple = (None, None)
) -> tuple[dict, int]:
    """Fit the head on standardised features, keep the best validation epoch; return its arrays and that epoch.

    `weights` are the training and validation faces' loss weights (None: all alike).
    """
    model, mean, std = _compiled(x_train, recipe, seed)
    stop = keras.callbacks.EarlyStopping(patience=recipe["patience"], restore_best_weights=True)
    history = model.fit(
        (x_train - mean) / std,
        y_train,
        sample_weight=weights[0],
        validation_data=((x_val - mean) / std, y_val, weights[1]),
        batch_size=recipe["batch_size"],
        epochs=recipe["max_epochs"],
        callbacks=[stop],
        verbose=0,
    )
    best_epoch = int(np.argmin(history.history["val_loss"])) + 1
    return head_arrays(model, mean, std), best_epoch


def refit_head(
    x: np.ndarray, y: dict, epochs: int, recipe: dict = HEAD, seed: int = 1234, weights: np.ndarray | None = None
) -> dict:
    """Fit the head for exactly `epochs` epochs (chosen by `fit_head`) on more faces; return its arrays."""
    model, mean, std = _compiled(x, recipe, seed)
    model.fit((x - mean) / std, y, sample_weight=weights, batch_size=recipe["batch_size"], epochs=epochs, verbose=0)
    return head_arrays(model, mean, std)


def refit_heads(x: np.ndarray, y: dict, epochs: int, recipe: dict = HEAD, weights: np.ndarray | None = None) -> dict:
    """Refit `recipe["members"]` heads with consecutive seeds; return their arrays stacked along a first axis."""
    heads = [refit_head(x, y, epochs, recipe, 1234 + member, weights) for member in range(recipe["members"])]
    return {name: np.stack([head[name] for head in heads]) for name in heads[0]}


def _compiled(x: np.ndarray, recipe: dict, seed: int) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    """Return a freshly compiled head and the feature standardisation of x."""
    keras.utils.set_random_seed(seed)
    model = make_head(x.shape[1], recipe["hidden"], recipe["dropout"])
    model.compile(
        optimizer=keras.optimizers.AdamW(recipe["learning_rate"], weight_decay=recipe["weight_decay"]),
        # A face without a gender or an ethnicity label (AAF, APPA-REAL) adds nothing to that loss.
        loss={"age": "categorical_crossentropy", "gender": _gender_loss, "ethnicity": _ethnicity_loss},
        loss_weights=recipe["loss_weights"],
    )
    return model, x.mean(0), x.std(0) + 1e-6


def _gender_loss(y_true, y_pred):
    """Return the masked gender loss, without label smoothing (the head learns the labels as they are)."""
    return masked_binary_crossentropy(y_true, y_pred, label_smoothing=0.0)


def _ethnicity_loss(y_true, y_pred):
    """Return the masked ethnicity loss, without label smoothing."""
    return masked_categorical_crossentropy(y_true, y_pred, label_smoothing=0.0)


def head_arrays(model: keras.Model, mean: np.ndarray, std: np.ndarray) -> dict[str, np.ndarray]:
    """Return the head's weights under the names `whoru.faces.head.StackedHead` reads."""
    arrays = {"mean": mean, "std": std}
    for layer, key in (("hidden", "1"), ("age", "_age"), ("gender", "_gender"), ("ethnicity", "_eth")):
        kernel, bias = model.get_layer(layer).get_weights()
        arrays[f"w{key}"], arrays[f"b{key}"] = kernel, bias
    return {name: value.astype(np.float32) for name, value in arrays.items()}
