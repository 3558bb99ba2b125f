"""Grouping unit embeddings by person: average linkage on a sparse neighbour graph."""

from __future__ import annotations

import numpy as np
import pytest

from whoru import grouping
from whoru.grouping import average_linkage, neighbour_edges, person_labels, unit_rows


def people(counts: list[int], noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return unit vectors around one random centre per person, and each vector's person."""
    rng = np.random.default_rng(seed)
    centres = unit_rows(rng.normal(size=(len(counts), 256)))
    truth = np.repeat(np.arange(len(counts)), counts)
    return unit_rows(centres[truth] + noise * rng.normal(size=(len(truth), 256)) / np.sqrt(256)), truth


def test_faces_of_one_person_share_a_cluster_and_strangers_do_not():
    vectors, truth = people([12, 7, 5, 1, 1, 1], noise=0.8)
    clusters = average_linkage(vectors, 0.5, k=10)
    for person in np.unique(truth):
        assert len(set(clusters[truth == person])) == 1
    assert len(set(clusters.tolist())) == 6


def test_average_linkage_does_not_chain_a_and_c_through_b():
    a, c = np.eye(3)[0], np.eye(3)[1]
    b = unit_rows((a + c)[None])[0]
    clusters = average_linkage(np.stack([a, b, c]).astype(np.float32), 0.6, k=2)
    # a-b and b-c are 0.707, a-c is 0: single linkage would make one person of all three.
    assert len(set(clusters.tolist())) == 2


def test_blocked_neighbours_match_the_full_matrix(monkeypatch):
    monkeypatch.setattr(grouping, "BLOCK", 7)
    vectors, _ = people([5, 5, 5, 3], noise=1.5, seed=3)
    first, second, cosine = neighbour_edges(vectors, 4, 0.2)
    full = vectors @ vectors.T
    np.fill_diagonal(full, -np.inf)
    top = np.argsort(-full, axis=1)[:, :4]
    expected = {(min(i, j), max(i, j)) for i in range(len(vectors)) for j in top[i] if full[i, j] >= 0.2}
    assert set(zip(first.tolist(), second.tolist())) == expected
    assert np.allclose(cosine, full[first, second])


@pytest.mark.parametrize("n", [0, 1])
def test_no_face_or_one_face(n):
    assert average_linkage(np.ones((n, 4), dtype=np.float32) / 2, 0.5).tolist() == list(range(n))


def test_labels_are_numbered_by_face_count_most_first_then_first_face():
    clusters = np.array([9, 4, 4, 7, 7, 7, 3])
    assert person_labels(clusters) == ["p3", "p2", "p2", "p1", "p1", "p1", "p4"]
