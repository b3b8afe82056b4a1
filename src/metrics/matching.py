"""Can each translated vector pick out its own native vector from the whole test pool? (vec2vec-style.)

Every score is relative to the pool: top-1 of 1/n is chance, so pool_size always goes with them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from src.metrics.neighbours import row_blocks, unit_rows


def matching_scores(
    translated: np.ndarray | torch.Tensor,
    native: np.ndarray | torch.Tensor,
    top_ks: Sequence[int] = (1, 5),
) -> dict[str, float]:
    """Rank of the true native vector among all n by cosine to translated[i]: top-k, ranks, MRR, mean cosine.

    Rank 1 is best, and ties count against the match: rank = 1 + #{j != i : sim_ij >= sim_ii}, so
    duplicate native vectors or a zero translation (cosine 0 with all) cannot win by a tie.
    """
    translated, native = unit_rows(translated), unit_rows(native)
    if translated.shape != native.shape:
        raise ValueError(f"translated and native must have the same shape, got {tuple(translated.shape)} "
                         f"and {tuple(native.shape)}.")
    n = translated.shape[0]
    ranks = torch.empty(n, dtype=torch.float64)
    true_cosine = torch.empty(n, dtype=torch.float64)
    for rows in row_blocks(n, n):
        sims = translated[rows] @ native.T
        own = sims[torch.arange(rows.stop - rows.start), torch.arange(rows.start, rows.stop)]
        # The true target's own entry is counted too (sim_ii >= sim_ii): that is the "1 +".
        ranks[rows] = (sims >= own.unsqueeze(1)).sum(dim=1).double()
        true_cosine[rows] = own
    scores = {f"top{k}_accuracy": float((ranks <= k).double().mean()) for k in top_ks}
    scores.update(
        mean_rank=float(ranks.mean()),
        median_rank=float(ranks.quantile(0.5)),  # the mean of the two middle ranks when n is even
        mrr=float((1 / ranks).mean()),
        mean_cosine=float(true_cosine.mean()),
        pool_size=float(n),
    )
    return scores
