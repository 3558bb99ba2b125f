"""Group faces by person: average-linkage clustering of unit embeddings over a sparse nearest-neighbour graph.

No n x n matrix is ever made. Each face's top-k neighbours are found a block of rows at a time;
those edges only say which clusters may merge. The similarity of two clusters is the exact mean
cosine over all their pairs, which for unit vectors is the dot product of their sums divided by
both sizes, so a merge needs the whole of both clusters to agree: one look-alike pair cannot chain
two people together the way single linkage does.
"""

from __future__ import annotations

import heapq

import numpy as np

# Rows of the similarity product per block: 256 x 100,000 float32 is 100 MB.
BLOCK = 256


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Return the rows scaled to unit length (a zero row stays zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def neighbour_edges(embeddings: np.ndarray, k: int, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return pairs (i < j), j among i's k nearest faces (or i among j's), with cosine >= floor, and that cosine."""
    n = len(embeddings)
    firsts, seconds, cosines = (
        [np.zeros(0, dtype=np.int64)],
        [np.zeros(0, dtype=np.int64)],
        [np.zeros(0, dtype=np.float32)],
    )
    for start in range(0, n, BLOCK):
        block = embeddings[start : start + BLOCK] @ embeddings.T
        block[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
        # Only the few pairs above the floor are ranked: sorting every row would cost as much as the product.
        rows, columns = np.nonzero(block >= floor)
        values = block[rows, columns]
        order = np.lexsort((-values, rows))
        rows, columns, values = rows[order], columns[order], values[order]
        within_row = np.arange(len(rows)) - np.searchsorted(rows, rows)
        keep = within_row < k
        firsts.append(rows[keep] + start)
        seconds.append(columns[keep])
        cosines.append(values[keep])
    first, second, cosine = np.concatenate(firsts), np.concatenate(seconds), np.concatenate(cosines)
    pairs, index = np.unique(
        np.stack([np.minimum(first, second), np.maximum(first, second)], axis=1), axis=0, return_index=True
    )
    return pairs[:, 0], pairs[:, 1], cosine[index]


def average_linkage(embeddings: np.ndarray, threshold: float, k: int = 20, in_place: bool = False) -> np.ndarray:
    """Return a cluster id per face: clusters merge, most similar first, while their mean cosine is >= threshold.

    With in_place, the float32 embeddings become the clusters' sums (100,000 faces' copy is 400 MB).
    """
    n = len(embeddings)
    first, second, similarities = (values.tolist() for values in neighbour_edges(embeddings, k, threshold))
    clusters = _Clusters(embeddings, in_place)
    for i, j in zip(first, second):
        clusters.adjacent[i].add(j)
        clusters.adjacent[j].add(i)
    heap = [(-s, i, j, 0, 0) for s, i, j in zip(similarities, first, second)]
    heapq.heapify(heap)
    while heap:
        negative, a, b, version_a, version_b = heapq.heappop(heap)
        if -negative < threshold:
            break
        # A pair pushed before either side last merged is stale; its fresh similarity was pushed then.
        if (
            clusters.version[a] == version_a
            and clusters.version[b] == version_b
            and clusters.parent[a] == a
            and clusters.parent[b] == b
        ):
            for pair in clusters.merge(a, b, threshold):
                heapq.heappush(heap, pair)
    return _roots(clusters.parent) if n else np.zeros(0, dtype=np.int64)


class _Clusters:
    """Clusters as sums of their unit vectors and sizes, the clusters next to each, a version bumped on each merge."""

    def __init__(self, embeddings: np.ndarray, in_place: bool):
        n = len(embeddings)
        self.sums = np.asarray(embeddings, dtype=np.float32) if in_place else np.array(embeddings, dtype=np.float32)
        self.sizes = np.ones(n, dtype=np.int64)
        self.parent = np.arange(n)
        self.version = np.zeros(n, dtype=np.int64)
        self.adjacent: list[set[int]] = [set() for _ in range(n)]

    def merge(self, a: int, b: int, threshold: float) -> list[tuple[float, int, int, int, int]]:
        """Merge two clusters; return the merged one's heap entries with each adjacent cluster similar enough to merge.

        A pair below the threshold is left out of the heap: its similarity changes only when one of
        the two merges again, and that merge pushes the pair afresh.
        """
        if len(self.adjacent[a]) < len(self.adjacent[b]):
            a, b = b, a
        self.parent[b] = a
        self.sums[a] += self.sums[b]
        self.sizes[a] += self.sizes[b]
        self.version[a] += 1
        for c in self.adjacent[b]:
            self.adjacent[c].discard(b)
            if c != a:
                self.adjacent[c].add(a)
                self.adjacent[a].add(c)
        self.adjacent[a].discard(b)
        self.adjacent[b] = set()
        others = np.fromiter(self.adjacent[a], dtype=np.int64, count=len(self.adjacent[a]))
        similarities = self.sums[others] @ self.sums[a] / (self.sizes[others] * self.sizes[a])
        close = similarities >= threshold
        return [
            (-s, min(a, c), max(a, c), int(self.version[min(a, c)]), int(self.version[max(a, c)]))
            for c, s in zip(others[close].tolist(), similarities[close].tolist())
        ]


def _roots(parent: np.ndarray) -> np.ndarray:
    """Return each face's cluster root, following merged clusters to the one that absorbed them."""
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return parent
        parent = grand


def person_labels(clusters: np.ndarray, order: np.ndarray | None = None) -> list[str]:
    """Return `p1`, `p2`... per face, numbered by the person's face count, most first (ties: first face first).

    `order` ranks the faces (their place in the job); by default their index.
    """
    order = np.arange(len(clusters)) if order is None else np.asarray(order)
    ids, inverse, counts = np.unique(clusters, return_inverse=True, return_counts=True)
    first = np.full(len(ids), np.iinfo(np.int64).max)
    np.minimum.at(first, inverse, order)
    ranked = np.lexsort((first, -counts))
    number = np.empty(len(ids), dtype=np.int64)
    number[ranked] = np.arange(1, len(ids) + 1)
    return [f"p{number[c]}" for c in inverse]
