"""A Markdown evaluation report with confusion matrices and a predicted-vs-true age plot."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402

from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS, age_bin  # noqa: E402

FIGURES = ("n", "age_mae", "age_bin_accuracy", "gender_accuracy", "ethnicity_accuracy")


def write_report(path: Path, model_name: str, figures: dict, raw: dict) -> None:
    """Write the report and its PNG plot beside it."""
    labels, predictions = raw["labels"], raw["predictions"]
    plot = path.with_suffix(".age.png")
    _age_plot(plot, labels["age"], predictions.age)
    true_bins = np.array([age_bin(a) for a in labels["age"]], dtype=int)
    sections = [
        f"# Evaluation of `{model_name}` on {figures.get('dataset', 'utkface')} ({figures['mode']} mode)\n",
        f"{figures['n_images']} images, {figures['no_face']} without a detected face, "
        f"{figures['left_out_seen_in_training']} left out because the model trained or validated on them.\n",
        _table({"all": figures, **figures["groups"]}),
        "## Mean signed error (predicted minus true) by true age\n",
        _signed_errors(figures["signed_error_by_age"]),
        "## Gender confusion (rows true, columns predicted)\n",
        _confusion(labels["gender"], (predictions.female_probability >= 0.5).astype(int), GENDERS),
        "## Ethnicity confusion\n",
        _confusion(labels["ethnicity"], predictions.ethnicity_probabilities.argmax(axis=1), ETHNICITIES),
        "## Age bin confusion\n",
        _confusion(true_bins, predictions.age_bin, AGE_BIN_NAMES),
        f"## Predicted vs true age\n\n![predicted vs true age]({plot.name})\n",
    ]
    path.write_text("\n".join(sections))


def _table(rows: dict) -> str:
    """Return a Markdown table of the figures of each group."""
    lines = ["| group | " + " | ".join(FIGURES) + " |", "|---" * (len(FIGURES) + 1) + "|"]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join("" if row[k] is None else str(row[k]) for k in FIGURES) + " |")
    return "\n".join(lines) + "\n"


def _signed_errors(bands: dict) -> str:
    """Return a Markdown table of the mean signed error and face count of each age band."""
    lines = ["| true age | faces | mean signed error |", "|---|---|---|"]
    lines += [
        f"| {name} | {band['n']} | {'' if band['mean_signed_error'] is None else band['mean_signed_error']} |"
        for name, band in bands.items()
    ]
    return "\n".join(lines) + "\n"


def _confusion(true: np.ndarray, predicted: np.ndarray, names) -> str:
    """Return a Markdown confusion matrix."""
    matrix = np.zeros((len(names), len(names)), dtype=int)
    known = true >= 0  # faces without the label are in no row
    np.add.at(matrix, (true[known].astype(int), predicted[known].astype(int)), 1)
    lines = ["| true \\ predicted | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(str(v) for v in row) + " |" for name, row in zip(names, matrix)]
    return "\n".join(lines) + "\n"


def _age_plot(path: Path, true_age: np.ndarray, predicted: np.ndarray) -> None:
    """Save a scatter of predicted against true age with the identity line."""
    figure, axes = plt.subplots(figsize=(5, 5), dpi=100)
    axes.scatter(true_age, predicted, s=3, alpha=0.3)
    axes.plot([0, 116], [0, 116], color="black", linewidth=1)
    axes.set(xlabel="true age", ylabel="predicted age", xlim=(0, 116), ylim=(0, 116), title="predicted vs true age")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
