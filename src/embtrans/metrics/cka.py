"""Centered Kernel Alignment (Kornblith et al. 2019) between two spaces over the same rows, with a permutation null.

CKA compares the two spaces' similarity structure, so it needs no map between them and is blind to
rotation and isotropic scale. A score alone says little at a given n and d: the null (rows of one
space shuffled) says what unrelated spaces of the same shape would score.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch

from embtrans.metrics.neighbours import content_key, to_float64

Array = np.ndarray | torch.Tensor

# Kernel entries per block of the permutation null's gathered sum: 32k float64 = 256 KB, cache-sized.
_CACHE_ELEMENTS = 32_768


def linear_kernel(x: Array) -> torch.Tensor:
    """The Gram matrix X Xᵀ."""
    x = to_float64(x)
    return x @ x.T


def rbf_kernel(x: Array, sigma_fraction: float = 0.8) -> torch.Tensor:
    """exp(-d² / 2σ²) with σ a fraction of the median pairwise distance, so the scale of X drops out."""
    x = to_float64(x)
    n = x.shape[0]
    if n < 2:
        raise ValueError("The RBF bandwidth needs at least two rows.")
    x = x - x.mean(dim=0)  # distances do not change; the Gram-based squares lose less to rounding
    norms = (x * x).sum(dim=1)
    squared = (norms.unsqueeze(1) + norms.unsqueeze(0) - 2 * (x @ x.T)).clamp_min_(0)
    squared.fill_diagonal_(0)
    upper = torch.triu_indices(n, n, offset=1)
    # numpy's median: linear-time, and the mean of the two middle values (torch.median takes the lower).
    sigma = sigma_fraction * float(np.median(squared[upper[0], upper[1]].sqrt().numpy()))
    if sigma <= 0:
        raise ValueError("The RBF bandwidth is 0: at least half of the row pairs are identical.")
    return torch.exp(-squared / (2 * sigma**2))


class _Moments:
    """What HSIC needs from one kernel matrix, so a row-permuted copy costs one gathered sum.

    Under a row permutation p, L becomes L[p][:, p]: its diagonal and row sums are just permuted,
    its total is unchanged, and only the cross term sum(K * L[p][:, p]) needs the full matrix.
    """

    def __init__(self, kernel: torch.Tensor) -> None:
        n = kernel.shape[0]
        if kernel.shape != (n, n):
            raise ValueError(f"A kernel matrix must be square, got {tuple(kernel.shape)}.")
        self.kernel = kernel
        self.n = n
        self.diagonal = kernel.diagonal().clone()
        self.row_sums = kernel.sum(dim=1)
        self.total = self.row_sums.sum()


def _hsic(k: _Moments, l: _Moments, debiased: bool, cross: torch.Tensor | None = None,
          permutations: torch.Tensor | None = None) -> torch.Tensor:
    """HSIC(K, L) from the moments.

    With permutations (P, n), one HSIC per row p, of K with L[p][:, p]; cross (P,) must then hold
    sum(K * L[p][:, p]) for each.
    """
    n = k.n
    if permutations is None:
        cross = (k.kernel * l.kernel).sum() if cross is None else cross
        l_diagonal, l_rows = l.diagonal, l.row_sums
    else:
        l_diagonal, l_rows = l.diagonal[permutations], l.row_sums[permutations]
    if not debiased:
        # tr(HKH HLH) = sum(K * L) - 2/n (K1)·(L1) + (1ᵀK1)(1ᵀL1)/n², with H the centring matrix.
        trace = cross - 2 / n * (l_rows @ k.row_sums) + k.total * l.total / n**2
        return trace / (n - 1) ** 2
    if n <= 3:
        raise ValueError(f"Debiased HSIC needs n > 3, got n={n}.")
    # Song et al. 2012 on K̃, L̃ (diagonals zeroed), written with the moments of K and L.
    trace = cross - l_diagonal @ k.diagonal
    k_rows, l_rows = k.row_sums - k.diagonal, l_rows - l_diagonal
    k_total, l_total = k.total - k.diagonal.sum(), l.total - l.diagonal.sum()
    return (trace + k_total * l_total / ((n - 1) * (n - 2)) - 2 / (n - 2) * (l_rows @ k_rows)) / (n * (n - 3))


_MOMENTS_MEMO: OrderedDict[tuple, _Moments] = OrderedDict()


def kernel_moments(x: torch.Tensor, kernel: str, rbf_sigma_fraction: float) -> _Moments:
    """A kernel matrix's moments, the last few kept by the rows' content: every translator of a pair is
    compared with the same native sample, whose kernel is then built once."""
    key = (content_key(x), kernel, rbf_sigma_fraction if kernel == "rbf" else None)
    if key not in _MOMENTS_MEMO:
        matrix = linear_kernel(x) if kernel == "linear" else rbf_kernel(x, rbf_sigma_fraction)
        _MOMENTS_MEMO[key] = _Moments(matrix)
        while len(_MOMENTS_MEMO) > 4:
            _MOMENTS_MEMO.popitem(last=False)
    _MOMENTS_MEMO.move_to_end(key)
    return _MOMENTS_MEMO[key]


def _permuted_crosses(k: _Moments, l: _Moments, permutations: torch.Tensor) -> torch.Tensor:
    """sum(K * L[p][:, p]) for each permutation p, the one O(n²) step of the null.

    The sum runs over blocks of rows, so each gathered block is used while it is still in cache
    instead of writing and re-reading a whole permuted (n, n) copy. It is numpy (still float64)
    because numpy's take and einsum run on one thread: thousands of small multi-threaded torch or
    BLAS calls were 2x slower when the machine was idle and 20x slower when another process was busy.
    """
    kernel_k, kernel_l = k.kernel.numpy(), l.kernel.numpy()
    block = max(1, _CACHE_ELEMENTS // k.n)
    crosses = np.zeros(permutations.shape[0])
    for index, p in enumerate(permutations.numpy()):
        for start in range(0, k.n, block):
            gathered = kernel_l[p[start:start + block]].take(p, axis=1)
            crosses[index] += np.einsum("ij,ij->", kernel_k[start:start + block], gathered)
    return torch.from_numpy(crosses)


def hsic(K: torch.Tensor, L: torch.Tensor, debiased: bool = False) -> float:
    """Biased HSIC tr(KHLH)/(n-1)², or the unbiased estimator of Song et al. 2012 (needs n > 3)."""
    k, l = _Moments(to_float64(K)), _Moments(to_float64(L))
    if k.n != l.n:
        raise ValueError(f"Both kernels must cover the same rows, got {k.n} and {l.n}.")
    return float(_hsic(k, l, debiased))


def kernel_cka(K: torch.Tensor, L: torch.Tensor, debiased: bool = False) -> float:
    """HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))."""
    k, l = _Moments(to_float64(K)), _Moments(to_float64(L))
    if k.n != l.n:
        raise ValueError(f"Both kernels must cover the same rows, got {k.n} and {l.n}.")
    return float(_hsic(k, l, debiased) / torch.sqrt(_hsic(k, k, debiased) * _hsic(l, l, debiased)))


def linear_cka(x: Array, y: Array) -> float:
    """Linear CKA in feature space: ||YᵀX||²_F / (||XᵀX||_F ||YᵀY||_F) on centred columns.

    Equal to the biased kernel form with linear kernels, at O(n d²) instead of O(n²).
    """
    x, y = to_float64(x), to_float64(y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must hold the same rows, got {x.shape[0]} and {y.shape[0]}.")
    x, y = x - x.mean(dim=0), y - y.mean(dim=0)
    return float((y.T @ x).square().sum() / ((x.T @ x).norm() * (y.T @ y).norm()))


def cka_scores(
    x: Array,
    y: Array,
    kernels: Sequence[str] = ("linear", "rbf"),
    debiased: Sequence[bool] = (False, True),
    n_permutations: int = 100,
    max_samples: int = 1500,
    seed: int = 0,
    rbf_sigma_fraction: float = 0.8,
) -> dict[str, float]:
    """CKA for each kernel and estimator, each with its permutation null and p-value.

    The null shuffles the rows of y; the same seeded permutations serve every variant. The p-value
    is (1 + #{null >= observed}) / (1 + n_permutations), so it is never 0.
    """
    x, y = to_float64(x), to_float64(y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must hold the same rows, got {x.shape[0]} and {y.shape[0]}.")
    generator = torch.Generator().manual_seed(seed)
    if x.shape[0] > max_samples:
        # The kernels are (n, n): a random subset keeps memory and time bounded.
        rows = torch.randperm(x.shape[0], generator=generator)[:max_samples].sort().values
        x, y = x[rows], y[rows]
    n = x.shape[0]
    permutations = torch.stack([torch.randperm(n, generator=generator) for _ in range(n_permutations)]) \
        if n_permutations else torch.empty((0, n), dtype=torch.long)
    # Centring the features changes no CKA (kernels see only centred Gram matrices) but keeps the
    # linear kernel's uncentred sums small, so the moment formulas lose nothing to cancellation.
    x, y = x - x.mean(dim=0), y - y.mean(dim=0)

    scores: dict[str, float] = {}
    for kernel in kernels:
        if kernel not in ("linear", "rbf"):
            raise ValueError(f"Unknown kernel {kernel!r}: use 'linear' or 'rbf'.")
        k, l = kernel_moments(x, kernel, rbf_sigma_fraction), kernel_moments(y, kernel, rbf_sigma_fraction)
        # The identity permutation goes through the same summation as the null, so ties compare equal.
        identity = torch.arange(n).unsqueeze(0)
        crosses = _permuted_crosses(k, l, torch.cat([identity, permutations]))
        for unbiased in debiased:
            name = f"cka_{kernel}_debiased" if unbiased else f"cka_{kernel}"
            scale = torch.sqrt(_hsic(k, k, unbiased) * _hsic(l, l, unbiased))
            observed = float(_hsic(k, l, unbiased, crosses[:1], identity)[0] / scale)
            null = _hsic(k, l, unbiased, crosses[1:], permutations) / scale
            scores[name] = observed
            scores[f"{name}_null_mean"] = float(null.mean()) if n_permutations else math.nan
            scores[f"{name}_null_p95"] = float(null.quantile(0.95)) if n_permutations else math.nan
            scores[f"{name}_p_value"] = (1 + int((null >= observed).sum())) / (1 + n_permutations)
    scores["cka_samples"] = float(n)
    scores["cka_permutations"] = float(n_permutations)
    return scores
