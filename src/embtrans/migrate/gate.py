"""The quality gate: on the held-out calibration texts, how well do translated vectors stand in for the
native ones? Estimated with a bootstrap interval over the texts; the migration goes ahead only when
each interval's lower bound clears its threshold.

- matching top-1: the share of held-out texts whose translated vector is nearer (cosine) to the text's
  own native vector than to any other held-out text's (vec2vec's top-1 accuracy, the analysis'
  src/embtrans/metrics/matching.py, where a tie counts against the match);
- cosine: the mean cosine between each translated vector and its native one;
- nDCG@10 retention, when calibration.queries names relevant documents: the queries, embedded by B,
  search the held-out documents stored natively by B and translated; the translated search's mean
  nDCG@10 over the native one's (the analysis' retention), resampled over queries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embtrans.metrics.matching import matching_per_text, matching_ranks
from embtrans.metrics.neighbours import unit_rows
from embtrans.stats.intervals import Interval, bootstrap


@dataclass
class Estimate:
    name: str
    interval: Interval
    threshold: float | None
    key: str = ""  # the gate's setting for it

    @property
    def passed(self) -> bool:
        return self.threshold is None or self.interval.low >= self.threshold

    def line(self) -> str:
        i = self.interval
        text = f"{self.name} {i.estimate:.3f} [{i.low:.3f}, {i.high:.3f}]"
        if self.threshold is not None:
            text += f" (needs its lower bound at or above {self.threshold:g}: {'pass' if self.passed else 'FAIL'})"
        return text


def estimates(translated: np.ndarray, native: np.ndarray, gate, replicates: int = 1000, seed: int = 0) -> list[Estimate]:
    """The gate's estimates on the held-out texts, row i of both arrays being text i."""
    ranks, own = matching_ranks(translated, native)
    top1 = matching_per_text(ranks, top_ks=(1,))["top1_accuracy"]
    found = []
    for name, values, key in (("matching top-1", top1, "min_top1"), ("cosine", own.numpy(), "min_cosine")):
        interval = bootstrap([{"v": values}], lambda means: means["v"], replicates=replicates, seed=seed,
                             level=gate.get("level", 0.95))
        threshold = gate.get(key)
        found.append(Estimate(name, interval, None if threshold is None else float(threshold), key))
    return found


def search_retention(queries: np.ndarray, translated: np.ndarray, native: np.ndarray, relevant: np.ndarray, gate,
                     seed: int = 0, k: int = 10) -> Estimate:
    """nDCG@k of B's queries over the translated documents, as a share of theirs over the native ones."""
    import torch

    from embtrans.metrics.retrieval import ndcg_at_k

    scored = relevant.any(axis=1)
    q = unit_rows(queries[scored])
    relevant_t = torch.from_numpy(relevant[scored])
    per_query = {name: ndcg_at_k(q @ unit_rows(docs).T, relevant_t, k).numpy()
                 for name, docs in (("translated", translated), ("native", native))}
    interval = bootstrap([per_query], lambda means: means["translated"] / means["native"],
                         replicates=int(gate.get("replicates", 1000)), seed=seed, level=gate.get("level", 0.95))
    threshold = gate.get("min_retention")
    return Estimate(f"nDCG@{k} retention ({int(scored.sum())} queries)", interval,
                    None if threshold is None else float(threshold), "min_retention")
