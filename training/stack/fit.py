"""Build the stacked `default` model: pretrained networks' features, an MLP head, a blend with our CNN.

Every fitted part is chosen on faces its inputs never trained on. The pretrained networks never
saw UTKFace. The MLP head's epoch count is chosen on validation with a head fitted on the training
split. Our CNN in the fitting stack is the default recipe trained on the training split only, so
the per-task weights that blend the head with the CNN, and the age range temperature, are fitted
on the validation split: on each half of it, the logits of a head refitted on the training split
and the other half, for that epoch count. The served head is refitted the same way on all of
train+val, and the served stack takes the CNN refitted on train+val (`models/fast`), keeping the
blend weights. The gender decision threshold is chosen on the same cross-validated predictions and
folded into the blend's gender bias. The test split stays untouched until `whoru evaluate`.

    python -m training.stack --data UTKFace.tar --fit-cnn CNN_TRAIN_ONLY.onnx --serve-cnn models/fast/model.onnx
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from whoru.faces.head import StackedHead, feature_matrix, log_softmax, logit, sigmoid
from whoru.faces.model import age_range
from whoru.labels import ETHNICITIES, MAX_AGE
from whoru.settings import PROJECT_ROOT
from training.blend import fit_logistic_blend, fit_softmax_blend
from training.split import split
from training.stack.card import write_stacked_card
from training.stack.features import assemble, network_outputs
from training.stack.head import HEAD, fit_head, refit_heads, targets
from training.utkface import read_dataset

FEATURES = [{"network": "age", "output": "layer_1_flatten"}, {"network": "age", "output": "probabilities", "log": True},
            {"network": "gender", "output": "layer_3_relu"}, {"network": "gender", "output": "probabilities", "log": True},
            {"network": "faceres", "output": "pooled"}, {"network": "faceres", "output": "embedding"},
            {"network": "faceres", "output": "age", "log": True}, {"network": "faceres", "output": "gender"}]
TEMPERATURES = np.round(np.arange(0.5, 1.51, 0.05), 2)
COVERAGE = 0.8
# The decision thresholds on P(female) tried for gender.
THRESHOLDS = np.round(np.arange(0.40, 0.751, 0.01), 2)


def nested(flat: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Turn {"role/output": array} into {role: {output: array}}, the shape `FaceModel.outputs` returns."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, value in flat.items():
        role, name = key.split("/", 1)
        out.setdefault(role, {})[name] = value
    return out


def labels_of(faces) -> dict[str, np.ndarray]:
    """Return the age, gender and ethnicity arrays of a list of faces."""
    return {k: np.array([getattr(f, k) for f in faces]) for k in ("age", "gender", "ethnicity")}


def fit_blend(head_logits: tuple, cnn: dict, y: dict) -> dict[str, np.ndarray]:
    """Fit the per-task blend of the head's and the CNN's log-probabilities on one set of faces."""
    age, gender, ethnicity = head_logits
    blend_age, _ = fit_softmax_blend([log_softmax(age), np.log(cnn["age_distribution"] + 1e-6)], y["age"], bias=False)
    blend_gender = fit_logistic_blend([gender, logit(cnn["gender"][:, 0])], y["gender"])
    blend_eth, eth_bias = fit_softmax_blend([log_softmax(ethnicity), np.log(cnn["ethnicity"] + 1e-6)], y["ethnicity"], bias=True)
    return {"blend_age": blend_age, "blend_gender": blend_gender, "blend_eth": blend_eth, "blend_eth_bias": eth_bias}


def head_of(arrays: dict[str, np.ndarray]) -> StackedHead:
    """Return a head over fitted arrays, blended with the CNN when the arrays hold blend weights."""
    return StackedHead(arrays, FEATURES, "cnn" if "blend_age" in arrays else None)


def halves_of(n: int, seed: int = 0) -> list[np.ndarray]:
    """Return two random halves of n rows: the folds of the validation faces."""
    return np.array_split(np.random.default_rng(seed).permutation(n), 2)


def out_of_fold_logits(x_train, y_train: dict, x_val, y_val: dict, halves: list[np.ndarray], epochs: int) -> tuple:
    """Return the head's logits for every validation face from heads refitted without that face's half.

    The heads are fitted as the served one is, for a fixed number of epochs on the training faces
    plus validation faces (here the other half), so the blend is fitted on predictions as
    confident as the served head's, not on those of the smaller train-only head.
    """
    logits = [np.zeros((len(x_val), MAX_AGE + 1)), np.zeros(len(x_val)), np.zeros((len(x_val), len(ETHNICITIES)))]
    for predicted, other in (halves, halves[::-1]):
        fitting = {k: np.concatenate([y_train[k], y_val[k][other]]) for k in y_train}
        head = refit_heads(np.concatenate([x_train, x_val[other]]), _targets(fitting), epochs)
        for target, value in zip(logits, head_of(head).logits(x_val[predicted])):
            target[predicted] = value
    return tuple(logits)


def cross_validated(logits: tuple, outputs: dict, y: dict, halves: list[np.ndarray]) -> tuple:
    """Return the blended predictions for every face, each from blend weights fitted on the other half."""
    n = len(logits[1])
    predicted = [np.zeros((n, MAX_AGE + 1)), np.zeros(n), np.zeros((n, len(ETHNICITIES)))]
    for fit_rows, eval_rows in (halves, halves[::-1]):
        blend = fit_blend(tuple(logit[fit_rows] for logit in logits), _rows(outputs["cnn"], fit_rows), _rows(y, fit_rows))
        blended = head_of(blend).from_logits(tuple(logit[eval_rows] for logit in logits), _rows(outputs, eval_rows))
        for target, value in zip(predicted, blended):
            target[eval_rows] = value
    return tuple(predicted)


def range_temperature(distribution: np.ndarray, ages: np.ndarray) -> float:
    """Return the temperature whose 80% age range holds closest to 80% of the given true ages."""
    def coverage(t: float) -> float:
        low, high = age_range(distribution, t)
        return float(np.mean((low <= ages) & (ages <= high)))

    return float(min(TEMPERATURES, key=lambda t: abs(coverage(t) - COVERAGE)))


def gender_threshold(female: np.ndarray, y: dict) -> float:
    """Return the threshold on P(female) that maximises the mean gender accuracy of the ethnicity x gender groups.

    Children's gender is read near chance by every network, and UTKFace's groups differ in how
    many children they hold; at 0.5 men were misread more often than women in every group. The
    mean over groups weighs each alike, so the threshold moves towards equal accuracy for all.
    """
    groups = [(y["ethnicity"] == e) & (y["gender"] == g) for e in range(len(ETHNICITIES)) for g in (0, 1)]

    def balanced(threshold: float) -> float:
        right = (female >= threshold) == (y["gender"] == 1)
        return float(np.mean([right[group].mean() for group in groups if group.any()]))

    return float(max(THRESHOLDS, key=balanced))


def recentred(female: np.ndarray, threshold: float) -> np.ndarray:
    """Return P(female) with its logit shifted so that 0.5 falls where the threshold was."""
    return sigmoid(logit(female) - logit(threshold))


def thresholded(validation: tuple, y: dict, halves: list[np.ndarray]) -> tuple:
    """Return the validation predictions with each half's gender recentred at the threshold the other half chose."""
    distribution, female, ethnicity = validation
    moved = female.copy()
    for fit_rows, eval_rows in (halves, halves[::-1]):
        moved[eval_rows] = recentred(female[eval_rows], gender_threshold(female[fit_rows], _rows(y, fit_rows)))
    return distribution, moved, ethnicity


def build(data: Path, fit_cnn: Path, serve_cnn: Path, out: Path, cache_dir: Path) -> dict:
    """Fit the head and blend with the train-only CNN, refit the head on train+val, write `out`; return the record."""
    started = time.time()
    reading = read_dataset(data)
    manifest = split(reading.faces)
    fitting = cache_dir / "stack-fitting"
    assemble(fitting, fit_cnn, PROJECT_ROOT)
    outputs = nested(network_outputs(fitting, data, reading.faces, reading.sha256, cache_dir))
    extracted = time.time() - started
    index = {face.name: i for i, face in enumerate(reading.faces)}
    rows = {part: np.array([index[n] for n in names]) for part, names in manifest.items()}
    y = {part: labels_of([reading.faces[i] for i in r]) for part, r in rows.items()}
    x = feature_matrix(outputs, FEATURES)
    _, epochs = fit_head(x[rows["train"]], _targets(y["train"]), x[rows["val"]], _targets(y["val"]))
    val_outputs, halves = _rows(outputs, rows["val"]), halves_of(len(rows["val"]))
    logits = out_of_fold_logits(x[rows["train"]], y["train"], x[rows["val"]], y["val"], halves, epochs)
    validation = cross_validated(logits, val_outputs, y["val"], halves)
    blend = fit_blend(logits, val_outputs["cnn"], y["val"])
    threshold = gender_threshold(validation[1], y["val"])
    # Folded into the blend's gender bias, the threshold costs nothing at serving: 0.5 stays the decision.
    blend["blend_gender"][-1] -= logit(threshold)
    temperature = range_temperature(validation[0], y["val"]["age"])
    fitted = np.concatenate([rows["train"], rows["val"]])
    refitted = refit_heads(x[fitted], _targets({k: np.concatenate([y["train"][k], y["val"][k]]) for k in y["train"]}), epochs)
    assemble(out, serve_cnn, PROJECT_ROOT)
    np.savez(out / "head.npz", **refitted, **blend)
    manifest_document = {"data_sha256": reading.sha256, "skipped": reading.skipped, **manifest}
    (out / "split.json").write_text(json.dumps(manifest_document, indent=1) + "\n")
    record = {"seconds_extracting": round(extracted), "seconds_total": round(time.time() - started), "head_epochs": epochs,
              "blend": {k: np.round(v, 4).tolist() for k, v in blend.items()}, "age_range_temperature": temperature,
              "gender_threshold": threshold, "data_sha256": reading.sha256,
              "validation": {"distribution": thresholded(validation, y["val"], halves), "labels": y["val"]},
              "sizes": {p: len(n) for p, n in manifest.items()}, "skipped": len(reading.skipped)}
    write_stacked_card(out, record, FEATURES, HEAD)
    return record


def _targets(y: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return the head's training targets for one part's labels."""
    return targets(y["age"], y["gender"], y["ethnicity"])


def _rows(tree: dict, rows: np.ndarray) -> dict:
    """Return the given rows of every array in a nested dict."""
    return {k: _rows(v, rows) if isinstance(v, dict) else v[rows] for k, v in tree.items()}


def main() -> None:
    """Build models/default (or --out) from the imported networks and two exports of our CNN."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="UTKFace folder or archive")
    parser.add_argument("--fit-cnn", type=Path, required=True, help="ONNX export of the multitask CNN trained on the training split only")
    parser.add_argument("--serve-cnn", type=Path, required=True, help="ONNX export of the same recipe refitted on train+val")
    parser.add_argument("--out", type=Path, default=Path("models/default"))
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/whoru"))
    args = parser.parse_args()
    record = build(args.data, args.fit_cnn, args.serve_cnn, args.out, args.cache_dir)
    print(json.dumps({k: v for k, v in record.items() if k != "validation"}, indent=1))

