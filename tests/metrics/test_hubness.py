"""src/embtrans/metrics/hubness.py against scikit-learn's brute-force cosine neighbours, a case worked out by hand,
and a planted hub."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from embtrans.metrics.hubness import hubness_scores, k_occurrence
from tests.metrics.helpers import random_matrix


@pytest.mark.parametrize(("n", "d", "k"), [(60, 8, 1), (120, 16, 5), (200, 32, 10)])
def test_k_occurrence_matches_sklearn_brute_force(n, d, k):
    vectors = random_matrix(n, d, seed=n).numpy()  # continuous random data: no ties
    # kneighbors() without X leaves each point out of its own list.
    neighbours = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(vectors).kneighbors(
        return_distance=False)
    expected = np.bincount(neighbours.ravel(), minlength=n)
    counts = k_occurrence(vectors, k)
    assert counts.dtype == np.int64
    assert counts.tolist() == expected.tolist()
    assert counts.sum() == n * k


def test_hubness_scores_by_hand():
    # Three axes and one point between them, nearest to e3: with k = 1 every axis's neighbour is the
    # middle point (cos 0.52..0.62, the axes are orthogonal), and the middle point's is e3.
    middle = np.array([1.0, 1.1, 1.2])
    vectors = np.vstack([middle, np.eye(3)])
    counts = k_occurrence(vectors, k=1)
    assert counts.tolist() == [3, 0, 0, 1]
    # Mean 1, deviations 2, -1, -1, 0: m2 = 6/4, m3 = 6/4, skew = m3 / m2^1.5 (the biased moment ratio).
    assert hubness_scores(vectors, k=1) == pytest.approx(
        {"hubness_skew@1": 1.5 / 1.5**1.5, "hub_share@1": 1 / 4, "antihub_share@1": 2 / 4})


def test_even_counts_have_no_skew():
    # Two pairs of directions, 0° and 10°, 90° and 100°, k = 1: each point is its partner's nearest, so every
    # point is found exactly once. No spread: skew 0, not NaN.
    angles = np.deg2rad([0.0, 10.0, 90.0, 100.0])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert k_occurrence(vectors, k=1).tolist() == [1, 1, 1, 1]
    assert hubness_scores(vectors, k=1) == {"hubness_skew@1": 0.0, "hub_share@1": 0.0, "antihub_share@1": 0.0}


def test_a_planted_hub_is_found_and_skews_the_counts():
    # Points scattered around a common direction, plus one more at their centroid: the centroid is
    # close in angle to every point, so it is in nearly everyone's top k.
    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 40)) + 1.5
    vectors = np.vstack([points, points.mean(axis=0)])
    counts = k_occurrence(vectors, k=5)
    assert counts.argmax() == 300 and counts[300] > 250
    scores = hubness_scores(vectors, k=5)
    assert scores["hubness_skew@5"] > 1
    assert scores["hub_share@5"] >= 1 / 301


def test_k_must_leave_a_neighbour_to_find():
    with pytest.raises(ValueError, match="k must be between"):
        k_occurrence(np.eye(3), k=3)


def test_a_reversed_view_counts_like_its_copy():
    vectors = random_matrix(50, 8, seed=1).numpy()[::-1]  # negative strides, which torch.as_tensor refuses
    assert k_occurrence(vectors, k=3).tolist() == k_occurrence(vectors.copy(), k=3).tolist()
