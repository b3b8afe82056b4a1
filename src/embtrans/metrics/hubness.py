"""Hubness of a space: do a few points turn up in everyone's nearest neighbours?

A map into B's space can concentrate its outputs (regression towards the mean does), and then a few
translated vectors become hubs that every search returns, while others (anti-hubs) are never found.
Radovanović, Nanopoulos & Ivanović (2010, "Hubs in space", JMLR 11) measure it through the k-occurrence
N_k(x), how many other points have x among their k nearest neighbours, and its skewness.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import skew

from embtrans.metrics.neighbours import knn_indices


def k_occurrence(vectors: np.ndarray | torch.Tensor, k: int = 10) -> np.ndarray:
    """(n,) int64: for each row, how many other rows have it among their k most cosine-similar other rows.

    The neighbour lists are neighbours.knn_indices' (ties to the lower index, a row is never its own
    neighbour), searched in row blocks of about 32 MB, so 12,000 points never hold an n × n matrix.
    The counts sum to n · k.
    """
    neighbours = knn_indices(vectors, k)
    return np.bincount(neighbours.numpy().ravel(), minlength=neighbours.shape[0]).astype(np.int64)


def hubness_scores(vectors: np.ndarray | torch.Tensor, k: int = 10) -> dict[str, float]:
    """``hubness_skew@{k}``, ``hub_share@{k}`` and ``antihub_share@{k}`` of the k-occurrence counts.

    - hubness_skew: their skewness, scipy.stats.skew with its default bias=True (the population moment
      ratio m3 / m2^1.5, as Radovanović et al.); 0 when every count is the same (no spread, nothing skewed).
    - hub_share: the share of points whose k-occurrence exceeds 2k (strictly), twice the mean count k: the
      usual hub threshold, scikit-hubness's default (hub_size=2; its code counts N_k >= 2k, its docstring
      says >, and its hub_occurrence is the share of neighbour slots hubs hold, not of points).
    - antihub_share: the share of points no other point has among its k nearest (k-occurrence 0).
    """
    counts = k_occurrence(vectors, k)
    spread = counts.min() != counts.max()
    return {f"hubness_skew@{k}": float(skew(counts.astype(np.float64))) if spread else 0.0,
            f"hub_share@{k}": float(np.mean(counts > 2 * k)),
            f"antihub_share@{k}": float(np.mean(counts == 0))}
