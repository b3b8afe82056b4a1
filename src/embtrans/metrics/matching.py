"""Can each translated vector pick out its own native vector from the whole test pool? (vec2vec-style.)

Two directions, which differ when the translated space is uneven (hubs):
- translated_to_native: each translated vector ranks every native vector (its own text should come first);
- native_to_translated: each native vector ranks every translated vector, as vec2vec's evaluation does.
Every score is relative to the pool: top-1 of 1/n is chance, so pool_size always goes with them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from embtrans.metrics.neighbours import row_blocks, unit_rows

DIRECTIONS = ("translated_to_native", "native_to_translated")


def matching_ranks(translated: np.ndarray | torch.Tensor, native: np.ndarray | torch.Tensor,
                   direction: str = "translated_to_native") -> tuple[torch.Tensor, torch.Tensor]:
    """Per text i: the rank of its counterpart by cosine (1 is best), and the cosine of the two.

    Ties count against the match: rank = 1 + #{j != i : sim_ij >= sim_ii}, so duplicate vectors
    or a zero translation (cosine 0 with all) cannot win by a tie.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}.")
    translated, native = unit_rows(translated), unit_rows(native)
    if translated.shape != native.shape:
        raise ValueError(f"translated and native must have the same shape, got {tuple(translated.shape)} "
                         f"and {tuple(native.shape)}.")
    queries, gallery = (translated, native) if direction == "translated_to_native" else (native, translated)
    n = queries.shape[0]
    ranks = torch.empty(n, dtype=torch.float64)
    true_cosine = torch.empty(n, dtype=torch.float64)
    for rows in row_blocks(n, n):
        sims = queries[rows] @ gallery.T
        own = sims[torch.arange(rows.stop - rows.start), torch.arange(rows.start, rows.stop)]
        # The true counterpart's own entry is counted too (sim_ii >= sim_ii): that is the "1 +".
        ranks[rows] = (sims >= own.unsqueeze(1)).sum(dim=1).double()
        true_cosine[rows] = own
    return ranks, true_cosine


def matching_per_text(ranks: torch.Tensor, top_ks: Sequence[int] = (1, 5)) -> dict[str, np.ndarray]:
    """Per text: top-k hits (0/1), reciprocal rank and rank; their means are the reported scores."""
    ranks = torch.as_tensor(ranks, dtype=torch.float64)
    scores = {f"top{k}_accuracy": (ranks <= k).double().numpy() for k in top_ks}
    scores.update(mrr=(1 / ranks).numpy(), mean_rank=ranks.numpy())
    return scores


def matching_scores(
    translated: np.ndarray | torch.Tensor,
    native: np.ndarray | torch.Tensor,
    top_ks: Sequence[int] = (1, 5),
    direction: str = "translated_to_native",
) -> dict[str, float]:
    """Top-k accuracy, mean and median rank, MRR and mean cosine of the true counterpart, and the pool size."""
    ranks, true_cosine = matching_ranks(translated, native, direction)
    scores = {name: float(values.mean()) for name, values in matching_per_text(ranks, top_ks).items()}
    scores.update(
        median_rank=float(ranks.quantile(0.5)),  # the mean of the two middle ranks when n is even
        mean_cosine=float(true_cosine.mean()),
        pool_size=float(ranks.shape[0]),
    )
    return scores
