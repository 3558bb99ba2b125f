r"""Build the stacked `default` model: pretrained networks' features, an MLP head, a blend with our CNN.

The head, blend and range are fitted on the pooled faces of every dataset given (UTKFace, AAF,
APPA-REAL), a missing label masked in every loss. The pretrained networks never saw those faces.
The MLP head's epoch count is chosen on the pooled validation parts with a head fitted on the
training parts. The blend weights are fitted on validation faces that neither part of the blend
trained on: for each half of the validation faces, the logits of a head refitted on the training
parts and the other half, for that epoch count; and only the validation faces our CNN never
trained on (its split.json names them, with the split of the network it was fine-tuned from,
`--cnn-fine-tuned-from`). When none of those has an ethnicity label, the ethnicity blend is kept
from an earlier head (`--ethnicity-blend`). The gender decision threshold and the age range rule
are chosen on the cross-validated predictions of every validation face; the range rule serves the
dataset furthest from 80% in each band, since a photo's collection is unknown when it is served.
The served head is refitted on all training and validation parts, or, when the recipe says
`refit: false` (a quarter of the CPU time), the head fitted on the training parts is served and
its own validation logits fit the blend. The test parts stay untouched until `whoru evaluate`.

    python -m whoru.training.stack --data UTKFace.tar --data AAF-train.tar --data APPA-trainval.tar \
        --cnn models/fast --cnn-fine-tuned-from <fast before its fine-tuning>/split.json \
        --ethnicity-blend <the previous default>/head.npz
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from whoru.faces.age import RangeRule, quantile, read_ages
from whoru.faces.head import StackedHead, feature_matrix, log_softmax, logit, sigmoid
from whoru.labels import ETHNICITIES, MAX_AGE
from whoru.settings import MODELS_DIR
from whoru.training.blend import fit_logistic_blend, fit_softmax_blend
from whoru.training.pooled import Pooled, pool
from whoru.training.split import fitted_names
from whoru.training.stack.card import write_stacked_card
from whoru.training.stack.features import assemble
from whoru.training.stack.head import HEAD, fit_head, refit_heads, targets

FEATURES = [
    {"network": "age", "output": "layer_1_flatten"},
    {"network": "age", "output": "probabilities", "log": True},
    {"network": "gender", "output": "layer_3_relu"},
    {"network": "gender", "output": "probabilities", "log": True},
    {"network": "faceres", "output": "pooled"},
    {"network": "faceres", "output": "embedding"},
    {"network": "faceres", "output": "age", "log": True},
    {"network": "faceres", "output": "gender"},
]
TEMPERATURES = np.round(np.arange(0.5, 2.01, 0.05), 2)
COVERAGE = 0.8
# The untempered median ages that bound the range rule's bands (the signed-error bands of the
# figures); a band with fewer validation faces than MIN_BAND takes the temperature of all faces.
RANGE_BANDS, MIN_BAND = (12.5, 20.5, 35.5, 50.5, 65.5), 100
# A dataset with fewer faces than this in a band does not steer that band's temperature.
MIN_GROUP = 50
# The decision thresholds on P(female) tried for gender.
THRESHOLDS = np.round(np.arange(0.40, 0.751, 0.01), 2)


def nested(flat: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Turn {"role/output": array} into {role: {output: array}}, the shape `FaceModel.outputs` returns."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, value in flat.items():
        role, name = key.split("/", 1)
        out.setdefault(role, {})[name] = value
    return out


def fit_blend(head_logits: tuple, cnn: dict, y: dict, kept: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Fit the per-task blend of the head's and the CNN's log-probabilities on the faces with each label.

    The ethnicity weights come from `kept` when none of the faces has an ethnicity label.
    """
    age, gender, ethnicity = head_logits
    blend_age, _ = fit_softmax_blend([log_softmax(age), np.log(cnn["age_distribution"] + 1e-6)], y["age"], bias=False)
    known = y["gender"] >= 0
    blend_gender = fit_logistic_blend([gender[known], logit(cnn["gender"][known, 0])], y["gender"][known])
    known = y["ethnicity"] >= 0
    if not known.any():
        return {
            "blend_age": blend_age,
            "blend_gender": blend_gender,
            "blend_eth": kept["blend_eth"],
            "blend_eth_bias": kept["blend_eth_bias"],
        }
    blend_eth, eth_bias = fit_softmax_blend(
        [log_softmax(ethnicity[known]), np.log(cnn["ethnicity"][known] + 1e-6)], y["ethnicity"][known], bias=True
    )
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
        head = refit_heads(
            np.concatenate([x_train, x_val[other]]), _targets(fitting), epochs, weights=fitting.get("weight")
        )
        for target, value in zip(logits, head_of(head).logits(x_val[predicted])):
            target[predicted] = value
    return tuple(logits)


def cross_validated(
    logits: tuple, outputs: dict, y: dict, halves: list[np.ndarray], blendable: np.ndarray, kept: dict
) -> tuple:
    """Return every face's blended predictions, each from blend weights fitted on the other half's blendable faces."""
    n = len(logits[1])
    predicted = [np.zeros((n, MAX_AGE + 1)), np.zeros(n), np.zeros((n, len(ETHNICITIES)))]
    for fit_rows, eval_rows in (halves, halves[::-1]):
        fit_rows = fit_rows[blendable[fit_rows]]
        blend = fit_blend(
            tuple(logit[fit_rows] for logit in logits), _rows(outputs["cnn"], fit_rows), _rows(y, fit_rows), kept
        )
        blended = head_of(blend).from_logits(tuple(logit[eval_rows] for logit in logits), _rows(outputs, eval_rows))
        for target, value in zip(predicted, blended):
            target[eval_rows] = value
    return tuple(predicted)


def best_temperature(distribution: np.ndarray, ages: np.ndarray, groups: np.ndarray | None = None) -> float:
    """Return the one temperature whose 80% ranges hold nearest 80% of these faces' true ages.

    With `groups` (each face's dataset), the temperature is the one whose worst group, among those
    of MIN_GROUP faces or more, lies nearest 80%: the server cannot tell a photo's collection, so one
    range must serve each collection's ages, and the pooled coverage would let the largest set decide.
    """
    groups = np.zeros(len(ages), dtype=int) if groups is None else groups
    names, counts = np.unique(groups, return_counts=True)
    judged = [groups == name for name, count in zip(names, counts) if count >= MIN_GROUP] or [np.ones(len(ages), bool)]

    def miss(t: float) -> float:
        reading = read_ages(distribution, RangeRule((), (t,)))
        inside = (reading.low <= ages) & (ages <= reading.high)
        return max(abs(float(inside[rows].mean()) - COVERAGE) for rows in judged)

    return float(min(TEMPERATURES, key=miss))


def range_rule(distribution: np.ndarray, ages: np.ndarray, groups: np.ndarray | None = None) -> RangeRule:
    """Return the temperature per untempered-median band whose 80% ranges hold nearest 80% of the band's true ages."""
    band = np.searchsorted(np.asarray(RANGE_BANDS), quantile(distribution, 0.5), side="left")
    everyone = best_temperature(distribution, ages, groups)
    temperatures = [
        best_temperature(distribution[band == b], ages[band == b], None if groups is None else groups[band == b])
        if (band == b).sum() >= MIN_BAND
        else everyone
        for b in range(len(RANGE_BANDS) + 1)
    ]
    return RangeRule(RANGE_BANDS, tuple(temperatures))


def gender_threshold(female: np.ndarray, y: dict) -> float:
    """Return the threshold on P(female) that maximises the mean gender accuracy of the ethnicity x gender groups.

    Faces without an ethnicity label (AAF) make groups of their own, by gender; faces without a
    gender label are in no group.

    Children's gender is read near chance by every network, and UTKFace's groups differ in how
    many children they hold; at 0.5 men were misread more often than women in every group. The
    mean over groups weighs each alike, so the threshold moves towards equal accuracy for all.
    """
    groups = [(y["ethnicity"] == e) & (y["gender"] == g) for e in range(-1, len(ETHNICITIES)) for g in (0, 1)]

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


def cnn_trained_on(cnn_dir: Path, earlier: list[Path]) -> set[str]:
    """Return the names of the faces our CNN trained on.

    Without `earlier` that is its own split's train and validation parts (a network refitted on
    both); a network fine-tuned from another names that one's split files instead, and then its
    own validation part, which only chose its epoch, stays blendable.
    """
    if not earlier:
        return fitted_names(cnn_dir / "split.json")
    own_train = set(json.loads((cnn_dir / "split.json").read_text())["train"])
    return own_train.union(*(fitted_names(path) for path in earlier))


def build(
    sources: list[Path], cnn_dir: Path, cnn_earlier: list[Path], kept_blend: Path, out: Path, cache_dir: Path
) -> dict:
    """Fit the head, blend, threshold and range rule on the pooled datasets, write `out`; return the record."""
    started = time.time()
    fitting = cache_dir / "stack-fitting"
    assemble(fitting, cnn_dir / "model.onnx", MODELS_DIR.parent)
    data = pool(sources, fitting, cache_dir)
    extracted = time.time() - started
    seen = cnn_trained_on(cnn_dir, cnn_earlier)
    with np.load(kept_blend) as arrays:
        kept = {k: arrays[k] for k in ("blend_eth", "blend_eth_bias")}
    outputs = nested(data.outputs)
    train, val = data.rows("train"), data.rows("val")
    labels = {**data.labels, "weight": dataset_weights(data.dataset)}
    y = {part: {k: v[rows] for k, v in labels.items()} for part, rows in (("train", train), ("val", val))}
    x = feature_matrix(outputs, FEATURES)
    trained, epochs = fit_head(
        x[train], _targets(y["train"]), x[val], _targets(y["val"]), weights=(y["train"]["weight"], y["val"]["weight"])
    )
    val_outputs, halves = _rows(outputs, val), halves_of(len(val))
    blendable = np.array([data.names[r] not in seen for r in val])
    if HEAD["refit"]:
        logits = out_of_fold_logits(x[train], y["train"], x[val], y["val"], halves, epochs)
    else:
        trained = {name: value[None] for name, value in trained.items()}
        logits = head_of(trained).logits(x[val])
    validation = cross_validated(logits, val_outputs, y["val"], halves, blendable, kept)
    blend = fit_blend(
        tuple(logit[blendable] for logit in logits),
        _rows(val_outputs["cnn"], np.flatnonzero(blendable)),
        _rows(y["val"], np.flatnonzero(blendable)),
        kept,
    )
    threshold = gender_threshold(validation[1], y["val"])
    # Folded into the blend's gender bias, the threshold costs nothing at serving: 0.5 stays the decision.
    blend["blend_gender"][-1] -= logit(threshold)
    validation = thresholded(validation, y["val"], halves)
    rule = range_rule(validation[0], y["val"]["age"], data.dataset[val])
    fitted = np.concatenate([train, val])
    refitted = (
        refit_heads(
            x[fitted], _targets({k: v[fitted] for k, v in labels.items()}), epochs, weights=labels["weight"][fitted]
        )
        if HEAD["refit"]
        else trained
    )
    test = data.rows("test")
    served = head_of({**refitted, **blend}).from_logits(head_of(refitted).logits(x[test]), _rows(outputs, test))
    assemble(out, cnn_dir / "model.onnx", MODELS_DIR.parent)
    np.savez(out / "head.npz", **refitted, **blend)
    _write_split(out / "split.json", data)
    record = {
        "seconds_extracting": round(extracted),
        "seconds_total": round(time.time() - started),
        "head_epochs": epochs,
        "cnn_from": _cnn_origin(cnn_dir),
        "blend": {k: np.round(v, 4).tolist() for k, v in blend.items()},
        "range_rule": {"upper_ages": list(rule.upper_ages), "temperatures": list(rule.temperatures)},
        "gender_threshold": threshold,
        "blend_faces": int(blendable.sum()),
        "validation": {"distribution": validation, "labels": y["val"], "dataset": data.dataset[val]},
        "test": {
            "distribution": served,
            "labels": {k: v[test] for k, v in data.labels.items()},
            "dataset": data.dataset[test],
        },
        "datasets": {
            name: {k: (len(v) if isinstance(v, list) else v) for k, v in m.items()}
            for name, m in data.manifests.items()
        },
    }
    write_stacked_card(out, record, FEATURES, HEAD)
    return record


def _write_split(path: Path, data: Pooled) -> None:
    """Save every dataset's hash and the names of each part, pooled (names never repeat across datasets)."""
    document = {
        "datasets": {
            name: {"data_sha256": m["data_sha256"], "skipped": m["skipped"]} for name, m in data.manifests.items()
        },
        **{part: sorted(n for m in data.manifests.values() for n in m[part]) for part in ("train", "val", "test")},
    }
    path.write_text(json.dumps(document, indent=1) + "\n")


def _cnn_origin(cnn_dir: Path) -> str:
    """Return where our CNN comes from: its directory, name and version, and what it was fitted on."""
    card = json.loads((cnn_dir / "card.json").read_text())
    fit_on = card.get("training", {}).get("fit_on", "")
    return f"{cnn_dir} ({card['name']} {card['version']}){': ' + fit_on if fit_on else ''}"


def dataset_weights(dataset: np.ndarray) -> np.ndarray:
    """Return each face's loss weight in the head's fit: its dataset's weight in the recipe."""
    return np.array([HEAD["dataset_weights"][name] for name in dataset], dtype=np.float32)


def _targets(y: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return the head's training targets for one part's labels."""
    return targets(y["age"], y["gender"], y["ethnicity"])


def _rows(tree: dict, rows: np.ndarray) -> dict:
    """Return the given rows of every array in a nested dict."""
    return {k: _rows(v, rows) if isinstance(v, dict) else v[rows] for k, v in tree.items()}


def main() -> None:
    """Build models/default (or --out) from the imported networks and our CNN."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, action="append", required=True, help="dataset folder or archive (repeatable)"
    )
    parser.add_argument(
        "--cnn", type=Path, required=True, help="multitask model directory of our CNN (model.onnx, split.json)"
    )
    parser.add_argument(
        "--cnn-fine-tuned-from",
        type=Path,
        action="append",
        default=[],
        help="split.json of the model our CNN was fine-tuned from (repeatable): its train and val faces count as seen",
    )
    parser.add_argument(
        "--ethnicity-blend",
        type=Path,
        required=True,
        help="head.npz whose ethnicity blend is kept when no blendable face has an ethnicity label",
    )
    parser.add_argument("--out", type=Path, default=Path("models/default"))
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/whoru"))
    args = parser.parse_args()
    record = build(args.data, args.cnn, args.cnn_fine_tuned_from, args.ethnicity_blend, args.out, args.cache_dir)
    print(json.dumps({k: v for k, v in record.items() if k not in ("validation", "test")}, indent=1))
