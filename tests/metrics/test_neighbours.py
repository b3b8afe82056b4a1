"""src/embtrans/metrics/neighbours.py against answers worked out by hand, plus perfect and chance-level cases."""


import numpy as np
import pytest
import torch

from embtrans.metrics.neighbours import (
    NeighbourhoodAgreement,
    chance_jaccard,
    jaccard_at_k,
    knn_edit_distance,
    knn_edit_similarity,
    knn_indices,
    mutual_knn,
    neighbourhood_agreement,
    neighbourhood_agreement_per_text,
    normalised_truncated_rbo,
    rank_biased_overlap,
)
from tests.metrics.helpers import random_matrix, random_rotation


def test_knn_indices_by_hand():
    # Unit vectors at 0°, 10°, 30°, 100°, 180°, each given a different length: only angles matter.
    angles = torch.tensor([0.0, 10.0, 30.0, 100.0, 180.0]).deg2rad()
    lengths = torch.tensor([1.0, 5.0, 0.1, 2.0, 30.0]).unsqueeze(1)
    vectors = torch.stack([angles.cos(), angles.sin()], dim=1) * lengths
    # Row 3 (100°) is 70° from row 2, 80° from row 4, 90° from row 1, 100° from row 0.
    expected = [[1, 2, 3, 4], [0, 2, 3, 4], [1, 0, 3, 4], [2, 4, 1, 0], [3, 2, 1, 0]]
    assert knn_indices(vectors.numpy(), 4).tolist() == expected
    assert knn_indices(vectors, 2).tolist() == [row[:2] for row in expected]


def test_knn_indices_ties_and_zero_rows():
    vectors = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [1.0, 1.0], [0.0, 0.0]])
    # Row 0: cos 0.707 with row 3, then 0 with rows 1, 2 and the zero row 4, in index order.
    # Row 4 (zero) has cosine 0 with everything, so its neighbours are just 0, 1, 2, 3.
    nn = knn_indices(vectors, 4)
    assert nn[0].tolist() == [3, 1, 2, 4]
    assert nn[1].tolist() == [3, 0, 4, 2]  # cos: row 3 0.707, row 0 0, row 4 0, row 2 -1
    assert nn[4].tolist() == [0, 1, 2, 3]


def test_knn_indices_breaks_large_ties_by_index():
    # Two groups of 50 identical directions: every row ties with its 49 twins (cos 1) and then with
    # the other 50 (cos 0). An unstable sort shuffles groups this large; the order must be by index.
    vectors = torch.cat([torch.tensor([[1.0, 0.0]]).repeat(50, 1), torch.tensor([[0.0, 2.0]]).repeat(50, 1)])
    nn = knn_indices(vectors, 99)
    assert nn[0].tolist() == list(range(1, 100))
    assert nn[60].tolist() == [i for i in range(50, 100) if i != 60] + list(range(50))


@pytest.mark.parametrize("k", [1, 5, 17])
def test_the_top_k_shortcut_equals_a_stable_full_sort(k):
    # Values on a coarse grid tie often, within the top k and across its last place.
    from embtrans.metrics.neighbours import top_k_stable
    generator = torch.Generator().manual_seed(k)
    for levels in (4, 40, 10_000):
        sims = torch.randint(0, levels, (300, 120), generator=generator).double() / levels
        sims[torch.arange(100), torch.arange(100)] = -float("inf")
        expected = torch.sort(sims, dim=1, descending=True, stable=True).indices[:, :k]
        assert torch.equal(top_k_stable(sims, k), expected)


def test_knn_indices_rejects_k_at_least_n():
    with pytest.raises(ValueError, match="k must be"):
        knn_indices(torch.eye(3), 3)


def test_set_overlaps_by_hand():
    ref = torch.tensor([[1, 2, 3], [0, 2, 3]])
    cand = torch.tensor([[3, 2, 4], [5, 6, 7]])
    # Row 0 shares {2, 3}: Jaccard 2/4, mutual 2/3. Row 1 shares nothing.
    assert jaccard_at_k(ref, cand) == pytest.approx((2 / 4 + 0) / 2)
    assert mutual_knn(ref, cand) == pytest.approx((2 / 3 + 0) / 2)


def test_normalised_truncated_rbo_by_hand():
    ref = torch.tensor([[1, 2, 3], [1, 2, 3], [1, 2, 3]])
    cand = torch.tensor([[2, 1, 4], [1, 2, 3], [4, 5, 6]])
    # Row 0 with p = 0.5: A_1 = 0, A_2 = 2/2, A_3 = 2/3, weights 1, 1/2, 1/4 (sum 7/4):
    # (0 + 1/2 + 1/6) / (7/4) = 8/21. Row 1 is identical (1), row 2 disjoint (0).
    assert normalised_truncated_rbo(ref, cand, p=0.5) == pytest.approx((8 / 21 + 1 + 0) / 3)


def test_rank_biased_overlap_by_hand():
    ref = torch.tensor([[1, 2, 3], [1, 2, 3], [1, 2, 3]])
    cand = torch.tensor([[2, 1, 4], [1, 2, 3], [4, 5, 6]])
    # RBO_ext, row 0 with p = 0.5: A_3 p^3 + (1-p)/p (A_1 p + A_2 p^2 + A_3 p^3)
    # = (2/3)/8 + (0 + 1/4 + (2/3)/8) = 5/12. Row 1 is identical (1), row 2 disjoint (0).
    assert rank_biased_overlap(ref, cand, p=0.5) == pytest.approx((5 / 12 + 1 + 0) / 3, abs=1e-12)


# RBO_ext of known lists as the `rbo` package (0.1.3, RankingSimilarity(S, T).rbo(p=p, ext=True)),
# an implementation independent of ours, computes it. Recorded rather than imported: rbo pins numpy < 2.
RBO_PACKAGE = [
    ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], 0.9, 0.7377750000000001),
    ([1, 2, 3, 4, 5], [2, 1, 6, 7, 3], 0.9, 0.57411),
    (list("abcdefghij"), list("cbaxyzdefq"), 0.9, 0.5709772207928572),
    (list("abcdefghij"), list("cbaxyzdefq"), 0.8, 0.5257939724190477),
    ([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], 0.9, 1.0),
    ([1, 2, 3], [4, 5, 6], 0.9, 0.0),
]


@pytest.mark.parametrize("first, second, p, expected", RBO_PACKAGE)
def test_rank_biased_overlap_equals_the_rbo_package(first, second, p, expected):
    codes = {item: i for i, item in enumerate(dict.fromkeys(first + second))}
    ref, cand = torch.tensor([[codes[x] for x in first]]), torch.tensor([[codes[x] for x in second]])
    assert rank_biased_overlap(ref, cand, p=p) == pytest.approx(expected, abs=1e-9)


def prefix_agreements(a, b):
    return [len(set(a[:d]) & set(b[:d])) / d for d in range(1, len(a) + 1)]


def test_both_rbo_variants_match_their_definitions():
    generator = torch.Generator().manual_seed(0)
    ref = torch.stack([torch.randperm(12, generator=generator)[:6] for _ in range(40)])
    cand = torch.stack([torch.randperm(12, generator=generator)[:6] for _ in range(40)])
    p, k = 0.8, 6
    normalised, extrapolated = [], []
    for a, b in zip(ref.tolist(), cand.tolist()):
        agreement = prefix_agreements(a, b)
        weights = [p ** (d - 1) for d in range(1, k + 1)]
        normalised.append(sum(w * x for w, x in zip(weights, agreement)) / sum(weights))
        extrapolated.append(agreement[-1] * p ** k + (1 - p) / p * sum(x * p ** d for d, x in enumerate(agreement, 1)))
    assert normalised_truncated_rbo(ref, cand, p=p) == pytest.approx(np.mean(normalised), abs=1e-12)
    assert rank_biased_overlap(ref, cand, p=p) == pytest.approx(np.mean(extrapolated), abs=1e-12)


def test_knn_edit_distance_by_hand():
    ref = torch.tensor([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]])
    cand = torch.tensor([[2, 3, 4, 5], [1, 9, 3, 4], [5, 6, 7, 8], [1, 2, 3, 4]])
    # Shifted by one: delete 1, append 5 = 2 edits. One substitution = 1. Disjoint = 4. Same = 0.
    assert knn_edit_distance(ref, cand) == pytest.approx((2 / 4 + 1 / 4 + 4 / 4 + 0) / 4)


def levenshtein(a, b):
    table = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        diagonal, table[0] = table[0], i
        for j, y in enumerate(b, start=1):
            diagonal, table[j] = table[j], min(table[j] + 1, table[j - 1] + 1, diagonal + (x != y))
    return table[-1]


def test_knn_edit_distance_matches_plain_levenshtein():
    generator = torch.Generator().manual_seed(1)
    ref = torch.stack([torch.randperm(9, generator=generator)[:5] for _ in range(60)])
    cand = torch.stack([torch.randperm(9, generator=generator)[:5] for _ in range(60)])
    expected = np.mean([levenshtein(a, b) / 5 for a, b in zip(ref.tolist(), cand.tolist())])
    assert knn_edit_distance(ref, cand) == pytest.approx(expected)


def test_chance_jaccard_by_hand():
    # Two random 2-subsets of 4 items: given the first, 1 of the 6 second subsets shares both
    # (Jaccard 1), 4 share one (1/3), 1 shares none: (1 + 4/3) / 6 = 7/18.
    assert chance_jaccard(4, 2) == pytest.approx(7 / 18)
    assert chance_jaccard(4, 4) == 1.0
    assert neighbourhood_agreement(random_matrix(5, 3, 0), random_matrix(5, 3, 1), ks=(2,))[
        "chance_jaccard@2"
    ] == pytest.approx(7 / 18)


def test_identical_spaces_agree_perfectly():
    reference = random_matrix(120, 16, 0)
    # Rotation and a positive length per row leave every cosine as it was.
    candidate = reference @ random_rotation(16, 1) * torch.linspace(0.5, 3.0, 120).unsqueeze(1)
    scores = neighbourhood_agreement(reference, candidate, ks=(1, 5, 10))
    for k in (1, 5, 10):
        assert scores[f"jaccard@{k}"] == 1.0
        assert scores[f"mutual_knn@{k}"] == 1.0
        assert scores[f"rbo@{k}"] == pytest.approx(1.0)
        assert scores[f"rbo_normalised@{k}"] == pytest.approx(1.0)
        assert scores[f"knn_edit_similarity@{k}"] == 1.0


def test_unrelated_spaces_score_near_chance():
    scores = neighbourhood_agreement(random_matrix(400, 20, 2), random_matrix(400, 20, 3), ks=(10,))
    chance = scores["chance_jaccard@10"]
    assert chance == pytest.approx(10 / 399 / (2 - 10 / 399), rel=0.1)  # about 0.0127
    assert abs(scores["jaccard@10"] - chance) < 0.006
    assert abs(scores["mutual_knn@10"] - 10 / 399) < 0.01  # expected overlap k²/(n-1), over k
    assert scores["knn_edit_similarity@10"] < 0.05


def test_prefix_scores_equal_a_direct_search_at_that_k():
    reference, candidate = random_matrix(80, 6, 4), random_matrix(80, 6, 5)
    scores = neighbourhood_agreement(reference, candidate, ks=(3, 12))
    nn_ref, nn_cand = knn_indices(reference, 3), knn_indices(candidate, 3)
    assert scores["jaccard@3"] == pytest.approx(jaccard_at_k(nn_ref, nn_cand))
    assert scores["rbo@3"] == pytest.approx(rank_biased_overlap(nn_ref, nn_cand))
    assert scores["rbo_normalised@3"] == pytest.approx(normalised_truncated_rbo(nn_ref, nn_cand))
    assert scores["knn_edit_similarity@3"] == pytest.approx(1 - knn_edit_distance(nn_ref, nn_cand))


def test_metric_class_equals_functional_form():
    reference = random_matrix(90, 8, 6).float()
    candidate = (reference.double() + 0.5 * random_matrix(90, 8, 7)).float()
    metric = NeighbourhoodAgreement(ks=(5, 10), rbo_p=0.8)
    metric.update(candidate[:50], reference[:50])
    metric.update(candidate[50:], reference[50:])
    computed = metric.compute()
    expected = neighbourhood_agreement(reference, candidate, ks=(5, 10), rbo_p=0.8)
    assert computed == expected
    assert 0.1 < expected["jaccard@10"] < 0.9  # a partly preserved space, so the check is not trivial




def test_edit_similarity_is_platonic_reps_one_minus_distance_over_k():
    # platonic-rep's edit_distance_knn: 1 - mean(Levenshtein distance) / k.
    ref = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    cand = torch.tensor([[2, 1, 3, 4], [5, 6, 7, 8]])
    assert knn_edit_similarity(ref, cand) == pytest.approx(1 - (2 / 4 + 0) / 2)


def test_per_text_scores_average_to_the_reported_ones():
    reference, candidate = random_matrix(70, 6, 8), random_matrix(70, 6, 9)
    per_text = neighbourhood_agreement_per_text(reference, candidate, ks=(3, 7))
    means = neighbourhood_agreement(reference, candidate, ks=(3, 7))
    assert all(values.shape == (70,) for values in per_text.values())
    for name, values in per_text.items():
        assert values.mean() == pytest.approx(means[name]), name
    assert set(means) - set(per_text) == {"chance_jaccard@3", "chance_jaccard@7"}


def test_a_numpy_view_with_negative_strides_is_taken_like_its_copy():
    from embtrans.metrics.neighbours import to_float64

    x = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    assert torch.equal(to_float64(x[::-1]), to_float64(x[::-1].copy()))
    assert torch.equal(to_float64(x[:, ::-1]), to_float64(x[:, ::-1].copy()))
