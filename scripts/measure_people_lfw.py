"""Measure faceres' descriptor on LFW: verification accuracy on pairs, and grouping's BCubed by method and threshold.

Run on an extracted `LFW/<Person>/<Person>_NNNN.jpg` tree; the largest face of each photo is the
folder's person. Prints what it measures; asserts nothing.

    python scripts/measure_people_lfw.py /tmp/LFW --cache /tmp/lfw-embeddings.npz

With `--results out.json` (from `whoru submit LFW --people --wait --json out.json`) it scores the
service's own grouping instead: the `person` of each image's largest face against its folder.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path, PurePosixPath

import numpy as np

from whoru.faces.pipeline import FacePipeline
from whoru.grouping import average_linkage, neighbour_edges
from whoru.settings import MODELS_DIR

MODELS = MODELS_DIR


def embed(root: Path, model: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Return the largest face's descriptor and the person of every photo with a face, and how many had none."""
    pipeline = FacePipeline.load(MODELS / model, MODELS / "yunet", identity_dir=MODELS / "faceres")
    vectors, people, missed = [], [], 0
    for path in sorted(root.glob("*/*.jpg")):
        faces = pipeline.analyse(pipeline.decode(path.read_bytes()), people=True)
        if not faces:
            missed += 1
            continue
        largest = max(faces, key=lambda face: face.detection.area)
        vectors.append(largest.embedding)
        people.append(path.parent.name)
    return np.stack(vectors), np.array(people), missed


def pairs(people: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every same-person pair and as many random different-person pairs, with 1 for same."""
    same = [(i, j) for i in range(len(people)) for j in range(i + 1, len(people)) if people[i] == people[j]]
    rng, different = np.random.default_rng(seed), set()
    while len(different) < len(same):
        i, j = sorted(rng.choice(len(people), 2, replace=False))
        if people[i] != people[j]:
            different.add((int(i), int(j)))
    both = np.array(same + sorted(different))
    return both[:, 0], both[:, 1], np.r_[np.ones(len(same)), np.zeros(len(different))]


def verification(vectors: np.ndarray, people: np.ndarray, folds: int = 10) -> tuple[float, float, float]:
    """Return the 10-fold accuracy (threshold chosen on the other folds), its spread, and the threshold on all pairs."""
    first, second, same = pairs(people)
    cosine = np.einsum("ij,ij->i", vectors[first], vectors[second])
    fold = np.random.default_rng(1).integers(0, folds, len(same))
    accuracies = [
        np.mean((cosine[fold == f] >= _best_threshold(cosine[fold != f], same[fold != f])) == same[fold == f])
        for f in range(folds)
    ]
    return float(np.mean(accuracies)), float(np.std(accuracies)), _best_threshold(cosine, same)


def _best_threshold(cosine: np.ndarray, same: np.ndarray) -> float:
    """Return the cosine threshold with the highest pair accuracy."""
    candidates = np.linspace(0.0, 1.0, 201)
    accuracy = [np.mean((cosine >= t) == same) for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def bcubed(clusters: np.ndarray, people: np.ndarray) -> tuple[float, float]:
    """Return BCubed precision and recall of clusters against the true people."""
    _, cluster = np.unique(clusters, return_inverse=True)
    _, person = np.unique(people, return_inverse=True)
    both = np.unique(np.stack([cluster, person], 1), axis=0, return_inverse=True, return_counts=True)
    together = both[2][both[1].ravel()]
    return float(np.mean(together / np.bincount(cluster)[cluster])), float(
        np.mean(together / np.bincount(person)[person])
    )


def single_linkage(vectors: np.ndarray, threshold: float, k: int = 20) -> np.ndarray:
    """Return the connected components of the graph of neighbour pairs with cosine >= threshold (for comparison)."""
    parent = list(range(len(vectors)))
    first, second, _ = neighbour_edges(vectors, k, threshold)
    for i, j in zip(first.tolist(), second.tolist()):
        parent[_root(parent, i)] = _root(parent, j)
    return np.array([_root(parent, i) for i in range(len(parent))])


def _root(parent: list[int], i: int) -> int:
    """Return the root of i in a union-find forest, halving the path on the way."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def score_results(path: Path) -> None:
    """Print BCubed precision and recall of a people job's labels on the largest face of each photo."""
    results = json.loads(path.read_text())
    labels, people, faceless = [], [], 0
    for image in results["images"]:
        if not image["faces"]:
            faceless += 1
            continue
        labels.append(max(image["faces"], key=lambda face: face["box"]["w"] * face["box"]["h"])["person"])
        people.append(PurePosixPath(image["name"]).parent.name)
    precision, recall = bcubed(np.array(labels), np.array(people))
    singles = [label for label, person in zip(labels, people) if people.count(person) == 1]
    print(
        f"job {results['job']['id']} people_status {results['job']['people_status']}: photos {len(labels)} "
        f"(without a face {faceless}), people {len(set(people))}, labels {len(set(labels))}; "
        f"bcubed P={precision:.4f} R={recall:.4f}; single-photo people {len(singles)} on {len(set(singles))} labels, "
        f"{sum(labels.count(label) > 1 for label in singles)} of them sharing their label "
        "with another photo's largest face"
    )


def main() -> None:
    """Embed LFW (or load the cache), then print verification and grouping figures (or score a job's results)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--model", default="fast", help="served model that embeds (faceres' descriptor either way)")
    parser.add_argument("--cache", type=Path, help="npz of descriptors, written on the first run and read after")
    parser.add_argument("--results", type=Path, help="a people job's `whoru submit --json` file to score instead")
    args = parser.parse_args()
    if args.results:
        score_results(args.results)
        return
    if args.cache and args.cache.exists():
        saved = np.load(args.cache)
        vectors, people, missed = saved["vectors"], saved["people"], int(saved["missed"])
    else:
        vectors, people, missed = embed(args.root, args.model)
        if args.cache:
            np.savez(args.cache, vectors=vectors, people=people, missed=missed)
    print(f"photos with a face {len(people)}, without {missed}, people {len(set(people))}")
    accuracy, spread, threshold = verification(vectors, people)
    print(f"verification: 10-fold accuracy {accuracy:.4f} +- {spread:.4f}; best threshold on all pairs {threshold:.3f}")
    for threshold in np.arange(0.30, 0.56, 0.025):
        for name, method in (("average", average_linkage), ("single", single_linkage)):
            started = time.perf_counter()
            clusters = method(vectors, float(threshold))
            precision, recall = bcubed(clusters, people)
            print(
                f"{name:7s} t={threshold:.2f} clusters={len(set(clusters.tolist())):4d} "
                f"bcubed P={precision:.4f} R={recall:.4f} ({time.perf_counter() - started:.2f} s)"
            )


if __name__ == "__main__":
    main()
