"""src/embtrans/metrics/cka.py against answers worked out by hand, plus perfect and chance-level cases."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from embtrans.metrics.cka import cka_scores, hsic, kernel_cka, linear_cka, linear_kernel, rbf_kernel
from tests.metrics.helpers import random_matrix, random_rotation


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
    monkeypatch.setattr("embtrans.metrics.cka._CACHE_ELEMENTS", 120)
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


