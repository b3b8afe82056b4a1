"""The analysis metrics against answers worked out by hand, plus perfect and chance-level cases."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from src.analysis.cka import cka_scores, hsic, kernel_cka, linear_cka, linear_kernel, rbf_kernel
from src.analysis.matching import matching_scores
from src.analysis.neighbours import (
    NeighbourhoodAgreement,
    chance_jaccard,
    jaccard_at_k,
    knn_edit_distance,
    knn_indices,
    mutual_knn,
    neighbourhood_agreement,
    normalised_truncated_rbo,
    rank_biased_overlap,
)
from src.analysis.retrieval_metrics import chance_scores, gap_closed, retention, retrieval_scores, topk_jaccard

LOG2_3 = math.log2(3)


def random_matrix(n, d, seed):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def random_rotation(d, seed):
    q, r = torch.linalg.qr(random_matrix(d, d, seed))
    return q * torch.sign(torch.diagonal(r))


# ---------------------------------------------------------------- neighbours


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
        assert scores[f"knn_edit_distance@{k}"] == 0.0


def test_unrelated_spaces_score_near_chance():
    scores = neighbourhood_agreement(random_matrix(400, 20, 2), random_matrix(400, 20, 3), ks=(10,))
    chance = scores["chance_jaccard@10"]
    assert chance == pytest.approx(10 / 399 / (2 - 10 / 399), rel=0.1)  # about 0.0127
    assert abs(scores["jaccard@10"] - chance) < 0.006
    assert abs(scores["mutual_knn@10"] - 10 / 399) < 0.01  # expected overlap k²/(n-1), over k
    assert scores["knn_edit_distance@10"] > 0.95


def test_prefix_scores_equal_a_direct_search_at_that_k():
    reference, candidate = random_matrix(80, 6, 4), random_matrix(80, 6, 5)
    scores = neighbourhood_agreement(reference, candidate, ks=(3, 12))
    nn_ref, nn_cand = knn_indices(reference, 3), knn_indices(candidate, 3)
    assert scores["jaccard@3"] == pytest.approx(jaccard_at_k(nn_ref, nn_cand))
    assert scores["rbo@3"] == pytest.approx(rank_biased_overlap(nn_ref, nn_cand))
    assert scores["rbo_normalised@3"] == pytest.approx(normalised_truncated_rbo(nn_ref, nn_cand))
    assert scores["knn_edit_distance@3"] == pytest.approx(knn_edit_distance(nn_ref, nn_cand))


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


# ---------------------------------------------------------------- CKA


def test_hsic_and_cka_by_hand():
    x = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([[1.0], [2.0], [4.0]])
    # Centred: x = (-1, 0, 1), y = (-4/3, -1/3, 5/3). For one feature the linear kernels are rank 1, so
    # tr(KHLH) = (xᵀy)² = 3² = 9, and biased HSIC = 9 / (n-1)² = 9/4.
    assert hsic(linear_kernel(x), linear_kernel(y)) == pytest.approx(9 / 4)
    # Linear CKA of one feature is r²: (xᵀy)² / (xᵀx · yᵀy) = 9 / (2 · 14/3) = 27/28.
    assert linear_cka(x, y) == pytest.approx(27 / 28)
    assert kernel_cka(linear_kernel(x), linear_kernel(y)) == pytest.approx(27 / 28)


def test_debiased_hsic_by_hand():
    # Two disjoint pairs, zero diagonal: tr(K̃K̃) = 4, 1ᵀK̃1 = 4, K̃1 = (1, 1, 1, 1) so 1ᵀK̃K̃1 = 4.
    # (4 + 4·4/(3·2) - 2/2·4) / (4·1) = (8/3) / 4 = 2/3.
    k = torch.tensor([[0.0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    assert hsic(k, k, debiased=True) == pytest.approx(2 / 3)
    # The diagonal is ignored by the unbiased estimator.
    assert hsic(k + 5 * torch.eye(4), k, debiased=True) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="n > 3"):
        hsic(k[:3, :3], k[:3, :3], debiased=True)


def test_rbf_kernel_by_hand():
    x = torch.tensor([[0.0], [1.0], [3.0]])
    # Pairwise distances 1, 3, 2: median 2, so σ = 0.8·2 = 1.6 and K = exp(-d² / 5.12).
    kernel = rbf_kernel(x)
    assert kernel[0, 1] == pytest.approx(math.exp(-1 / 5.12))
    assert kernel[0, 2] == pytest.approx(math.exp(-9 / 5.12))
    assert kernel[1, 2] == pytest.approx(math.exp(-4 / 5.12))
    assert torch.diagonal(kernel).tolist() == [1.0, 1.0, 1.0]
    # With σ = 0.5·2 = 1: exp(-1/2).
    assert rbf_kernel(x, sigma_fraction=0.5)[0, 1] == pytest.approx(math.exp(-0.5))


def test_hsic_matches_the_matrix_formulas():
    x, y = random_matrix(30, 4, 8) + 2, random_matrix(30, 6, 9)
    k, l = rbf_kernel(x), linear_kernel(y)
    n = 30
    h = torch.eye(n, dtype=torch.float64) - 1 / n
    assert hsic(k, l) == pytest.approx(float(torch.trace(k @ h @ l @ h)) / (n - 1) ** 2)
    kt, lt = k - torch.diag(torch.diagonal(k)), l - torch.diag(torch.diagonal(l))
    ones = torch.ones(n, dtype=torch.float64)
    unbiased = (torch.trace(kt @ lt) + (ones @ kt @ ones) * (ones @ lt @ ones) / ((n - 1) * (n - 2))
                - 2 / (n - 2) * (ones @ kt @ lt @ ones)) / (n * (n - 3))
    assert hsic(k, l, debiased=True) == pytest.approx(float(unbiased))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    n=st.integers(8, 40),
    d=st.integers(1, 12),
    scale=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**16),
)
def test_cka_self_similarity_and_invariances(n, d, scale, seed):
    x = random_matrix(n, d, seed)
    moved = scale * x @ random_rotation(d, seed + 1) + 7.0  # rotate, scale, translate
    assert linear_cka(x, x) == pytest.approx(1.0)
    for debiased in (False, True):
        assert kernel_cka(linear_kernel(x), linear_kernel(x), debiased) == pytest.approx(1.0)
        assert kernel_cka(rbf_kernel(x), rbf_kernel(x), debiased) == pytest.approx(1.0)
    y = random_matrix(n, 3, seed + 2)
    assert linear_cka(moved, y) == pytest.approx(linear_cka(x, y), abs=1e-9)
    assert kernel_cka(rbf_kernel(moved), rbf_kernel(y)) == pytest.approx(kernel_cka(rbf_kernel(x), rbf_kernel(y)),
                                                                         abs=1e-9)
    assert linear_cka(x, y) == pytest.approx(kernel_cka(linear_kernel(x), linear_kernel(y)), abs=1e-12)


def test_cka_scores_equal_the_direct_forms():
    x, y = random_matrix(50, 5, 10) + 3, random_matrix(50, 7, 11) - 1  # uncentred on purpose
    scores = cka_scores(x, y, n_permutations=10)
    assert scores["cka_linear"] == pytest.approx(linear_cka(x, y))
    assert scores["cka_linear_debiased"] == pytest.approx(kernel_cka(linear_kernel(x), linear_kernel(y), True))
    assert scores["cka_rbf"] == pytest.approx(kernel_cka(rbf_kernel(x), rbf_kernel(y)))
    assert scores["cka_rbf_debiased"] == pytest.approx(kernel_cka(rbf_kernel(x), rbf_kernel(y), True))
    assert scores["cka_samples"] == 50 and scores["cka_permutations"] == 10


def test_cka_null_is_the_cka_of_permuted_rows(monkeypatch):
    # With one permutation the null mean is that permutation's CKA, drawn from the seeded generator.
    # Blocks of 3 rows (120 entries at n = 40), so the blocked gathered sum crosses block edges.
    monkeypatch.setattr("src.analysis.cka._CACHE_ELEMENTS", 120)
    x, y = random_matrix(40, 5, 12), random_matrix(40, 4, 13)
    scores = cka_scores(x, y, n_permutations=1, seed=3)
    p = torch.randperm(40, generator=torch.Generator().manual_seed(3))
    for kernel in (linear_kernel, rbf_kernel):
        k, l = kernel(x), kernel(y)
        for debiased in (False, True):
            name = f"cka_{kernel.__name__.split('_')[0]}" + ("_debiased" if debiased else "")
            assert scores[f"{name}_null_mean"] == pytest.approx(kernel_cka(k, l[p][:, p], debiased))
            assert scores[f"{name}_null_p95"] == scores[f"{name}_null_mean"]


def test_cka_permutation_test_tells_related_from_unrelated():
    x = random_matrix(200, 20, 14)
    unrelated = cka_scores(x, random_matrix(200, 30, 15), n_permutations=100)
    related = cka_scores(x, x @ random_rotation(20, 16) + 0.05 * random_matrix(200, 20, 17), n_permutations=100)
    for name in ("cka_linear", "cka_linear_debiased", "cka_rbf", "cka_rbf_debiased"):
        assert unrelated[f"{name}_p_value"] > 0.01
        assert abs(unrelated[name] - unrelated[f"{name}_null_mean"]) < 0.05
        assert related[f"{name}_p_value"] == 1 / 101
        assert related[name] > 0.95


def test_cka_subsamples_large_inputs():
    x = random_matrix(60, 4, 18)
    scores = cka_scores(x, x, kernels=("linear",), debiased=(False,), n_permutations=5, max_samples=40)
    assert scores["cka_samples"] == 40
    assert scores["cka_linear"] == pytest.approx(1.0)
    assert set(scores) == {"cka_linear", "cka_linear_null_mean", "cka_linear_null_p95", "cka_linear_p_value",
                           "cka_samples", "cka_permutations"}
    no_null = cka_scores(x, x, kernels=("rbf",), debiased=(True,), n_permutations=0)
    assert no_null["cka_rbf_debiased_p_value"] == 1.0 and math.isnan(no_null["cka_rbf_debiased_null_mean"])


# ---------------------------------------------------------------- matching


def test_matching_by_hand():
    translated = torch.tensor([[1.0, 0.2], [1.0, 0.0], [1.0, 1.0]])
    native = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # Row 0: cos to its target 1/sqrt(1.04) = 0.981 beats 0.832 and 0.196: rank 1.
    # Row 1 = (1, 0): its target (0, 1) has cos 0, below rows 0 (1) and 2 (0.707): rank 3.
    # Row 2 = (1, 1): its target is the same direction: rank 1.
    scores = matching_scores(translated, native, top_ks=(1, 2, 5))
    assert scores["top1_accuracy"] == pytest.approx(2 / 3)
    assert scores["top2_accuracy"] == pytest.approx(2 / 3)
    assert scores["top5_accuracy"] == 1.0
    assert scores["mean_rank"] == pytest.approx(5 / 3)
    assert scores["median_rank"] == 1.0
    assert scores["mrr"] == pytest.approx((1 + 1 / 3 + 1) / 3)
    assert scores["mean_cosine"] == pytest.approx((1 / math.sqrt(1.04) + 0 + 1) / 3)
    assert scores["pool_size"] == 3


def test_matching_ties_count_against_the_match():
    # Every translation points along (1, 0), as do native rows 0 and 1: rows 0 and 1 each tie with the
    # other (rank 1 + 1 = 2). Row 2's target (0, 1) has cos 0, below those two (rank 3). Row 3 is a
    # zero vector: cos 0 with all four, so everything ties with its target and it ranks 4, without NaN.
    translated = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [0.0, 0.0]])
    native = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    scores = matching_scores(translated, native)
    assert scores["mean_rank"] == pytest.approx((2 + 2 + 3 + 4) / 4)
    assert scores["median_rank"] == pytest.approx(2.5)
    assert scores["top1_accuracy"] == 0.0
    assert scores["mrr"] == pytest.approx((1 / 2 + 1 / 2 + 1 / 3 + 1 / 4) / 4)
    assert not any(math.isnan(value) for value in scores.values())


def test_matching_identical_and_unrelated():
    native = random_matrix(300, 12, 19)
    perfect = matching_scores(native.float().numpy(), native.float().numpy())
    assert perfect["top1_accuracy"] == 1.0 and perfect["mean_rank"] == 1.0 and perfect["mrr"] == 1.0
    assert perfect["mean_cosine"] == pytest.approx(1.0)
    unrelated = matching_scores(random_matrix(300, 12, 20), native)
    assert unrelated["top1_accuracy"] <= 5 / 300  # chance is 1/300
    assert abs(unrelated["mean_rank"] - 150.5) < 20  # uniform ranks: mean (n+1)/2, sd of the mean ~5
    assert abs(unrelated["mean_cosine"]) < 0.05


# ---------------------------------------------------------------- retrieval

RANKED = {
    "q1": ["d1", "d2", "d3", "d5"],
    "q2": ["d3", "d1", "d2"],
    "q3": ["d2"],
    "q4": ["d1", "d2", "d3"],
    "q5": ["d1", "d2", "d3"],
}
RELEVANT = {"q1": {"d2", "d5"}, "q2": {"d3"}, "q3": {"d2", "d4"}, "q4": set(), "q5": {"d9"}}
# At k = 3:
# q1: d2 at rank 2; d5 is relevant but at rank 4. recall 1/2; DCG 1/log2(3), ideal 1 + 1/log2(3).
# q2: the one relevant document first. recall 1, nDCG 1.
# q3: a list shorter than k; d4 never retrieved. recall 1/2; DCG 1 (rank 1), ideal 1 + 1/log2(3).
# q4: nothing relevant, not scored. q5: the relevant document is missing: 0 and 0.
Q1_NDCG = (1 / LOG2_3) / (1 + 1 / LOG2_3)
Q3_NDCG = 1 / (1 + 1 / LOG2_3)


@pytest.mark.parametrize(
    ("queries", "recall", "ndcg"),
    [
        (["q1"], 1 / 2, Q1_NDCG),
        (["q2"], 1.0, 1.0),
        (["q3"], 1 / 2, Q3_NDCG),
        (["q5"], 0.0, 0.0),
        (["q1", "q2", "q3", "q4", "q5"], (1 / 2 + 1 + 1 / 2 + 0) / 4, (Q1_NDCG + 1 + Q3_NDCG + 0) / 4),
    ],
)
def test_retrieval_scores_by_hand(queries, recall, ndcg):
    scores = retrieval_scores({q: RANKED[q] for q in queries}, {q: RELEVANT[q] for q in queries}, k=3)
    assert scores["recall@3"] == pytest.approx(recall, abs=1e-6)  # torchmetrics works in float32
    assert scores["ndcg@3"] == pytest.approx(ndcg, abs=1e-6)
    assert scores["queries"] == len([q for q in queries if RELEVANT[q]])


def test_retrieval_scores_edge_cases():
    assert math.isnan(retrieval_scores({"q4": ["d1"]}, {"q4": set()}, k=3)["recall@3"])
    with pytest.raises(ValueError, match="no ranking"):
        retrieval_scores({"q1": ["d2"]}, {"q1": {"d2"}, "q2": {"d1"}}, k=3)


def test_chance_scores_by_hand():
    # Pool 5, k = 2, one relevant document: recall 2/5; E[DCG] = (1/5)(1 + 1/log2 3), ideal 1.
    scores = chance_scores({"a": {"x"}, "empty": set()}, pool_size=5, k=2)
    assert scores == pytest.approx({"recall@2": 0.4, "ndcg@2": (1 + 1 / LOG2_3) / 5, "queries": 1.0})


# (10, 2): three relevant documents but k = 2, so the ideal DCG stops at two hits.
@pytest.mark.parametrize(("pool_size", "k"), [(8, 3), (4, 10), (10, 2)])
def test_chance_scores_match_random_rankings(pool_size, k):
    relevant = {"one": {"d0"}, "three": {"d1", "d4", "d6"} & {f"d{i}" for i in range(pool_size)}}
    pool = [f"d{i}" for i in range(pool_size)]
    rng = np.random.default_rng(0)
    ranked, copies = {}, {}
    for repeat in range(1500):
        for query, docs in relevant.items():
            ranked[f"{query}-{repeat}"] = list(rng.permutation(pool))
            copies[f"{query}-{repeat}"] = docs
    simulated = retrieval_scores(ranked, copies, k=k)
    expected = chance_scores(relevant, pool_size, k=k)
    assert simulated[f"recall@{k}"] == pytest.approx(expected[f"recall@{k}"], abs=0.015)
    assert simulated[f"ndcg@{k}"] == pytest.approx(expected[f"ndcg@{k}"], abs=0.015)
    assert expected["queries"] == 2


def test_retention_and_gap_closed():
    assert retention(0.3, 0.6) == pytest.approx(0.5)
    assert math.isnan(retention(0.3, 0.0))
    assert gap_closed(0.55, 0.1, 1.0) == pytest.approx(0.5)
    assert gap_closed(0.1, 0.1, 1.0) == 0.0 and gap_closed(1.0, 0.1, 1.0) == 1.0
    assert gap_closed(0.05, 0.1, 1.0) == pytest.approx(-0.05 / 0.9)  # below the floor: negative
    assert math.isnan(gap_closed(0.3, 0.2, 0.2))


def test_topk_jaccard_by_hand():
    a = {"q1": ["1", "2", "3"], "q2": ["4", "5", "6"], "only_a": ["1"]}
    b = {"q1": ["3", "2", "9"], "q2": ["7", "8", "9"]}
    # k = 3: q1 {2, 3} of {1, 2, 3, 9} = 1/2, q2 0. k = 2: q1 {2} of {1, 2, 3} = 1/3.
    assert topk_jaccard(a, b, k=3) == pytest.approx(1 / 4)
    assert topk_jaccard(a, b, k=2) == pytest.approx(1 / 6)
    assert math.isnan(topk_jaccard({"x": ["1"]}, b))
