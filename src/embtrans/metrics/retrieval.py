"""Scores for ranked search results (the search itself runs elsewhere, through ChromaDB), and what chance scores.

Relevance is binary. Only queries with at least one relevant document in the pool are scored, the
same ones in retrieval_scores and chance_scores, so the two can be read against each other.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor
from torchmetrics.retrieval import RetrievalNormalizedDCG, RetrievalRecall


def scored_queries(relevant: dict[str, set[str]]) -> list[str]:
    """The queries every score is taken over, in this order: those with a relevant document."""
    return [query for query, docs in relevant.items() if docs]


def retrieval_per_query(ranked: dict[str, list[str]], relevant: dict[str, set[str]], k: int = 10) -> dict[str, np.ndarray]:
    """recall@k and nDCG@k of each query of scored_queries(relevant), by torchmetrics, in that order."""
    queries = scored_queries(relevant)
    missing = [query for query in queries if query not in ranked]
    if missing:
        raise ValueError(f"{len(missing)} queries with relevant documents have no ranking, e.g. {missing[:3]}.")
    if not queries:
        return {f"recall@{k}": np.empty(0), f"ndcg@{k}": np.empty(0)}

    preds, target, indexes = [], [], []
    for index, query in enumerate(queries):
        top = list(dict.fromkeys(ranked[query]))[:k]
        # Positions a short list leaves empty hold nothing relevant: padding them keeps the
        # unretrieved relevant documents below rank k, where neither metric counts them.
        labels = [doc in relevant[query] for doc in top] + [False] * (k - len(top))
        # Retrieved documents score k..1; every relevant document not in the top k scores 0, so
        # it still counts in recall's denominator and the ideal DCG. RetrievalRecall never counts
        # a document scored <= 0 as retrieved, which is what we want for these.
        unretrieved = len(relevant[query] - set(top))
        preds += [float(k - position) for position in range(k)] + [0.0] * unretrieved
        target += labels + [True] * unretrieved
        indexes += [index] * (k + unretrieved)

    preds_t, target_t = torch.tensor(preds, dtype=torch.float64), torch.tensor(target)
    indexes_t = torch.tensor(indexes, dtype=torch.long)
    scores = {}
    # Every query fed has a positive. torchmetrics' default for one without ("neg") would silently
    # score it 0, and "skip" returns 0.0 when nothing is left, so "error" guards that invariant.
    # Queries come back in index order, which is the order of ``queries``.
    metrics = {"recall": RetrievalRecall(top_k=k, empty_target_action="error", aggregation=lambda v, dim=None: v),
               "ndcg": RetrievalNormalizedDCG(top_k=k, empty_target_action="error", aggregation=lambda v, dim=None: v)}
    for name, metric in metrics.items():
        metric.update(preds_t, target_t, indexes=indexes_t)
        # np.atleast_1d: torchmetrics squeezes a one-query result to a scalar.
        scores[f"{name}@{k}"] = np.atleast_1d(metric.compute().numpy()).astype(np.float64)
    return scores


def retrieval_scores(ranked: dict[str, list[str]], relevant: dict[str, set[str]], k: int = 10) -> dict[str, float]:
    """recall@k and nDCG@k by torchmetrics, averaged over the queries with at least one relevant document."""
    return per_query_means(retrieval_per_query(ranked, relevant, k))


def per_query_means(per_query: dict[str, np.ndarray]) -> dict[str, float]:
    """Each per-query score's mean (NaN with no query), and how many queries it is over."""
    count = len(next(iter(per_query.values())))
    means = {name: float(values.mean()) if count else math.nan for name, values in per_query.items()}
    return {**means, "queries": float(count)}


def _discounts(count: int) -> torch.Tensor:
    return 1 / torch.log2(torch.arange(2, count + 2, dtype=torch.float64))


def chance_per_query(relevant: dict[str, set[str]], pool_size: int, k: int = 10) -> dict[str, np.ndarray]:
    """Expected recall@k and nDCG@k of a uniformly random ranking of the pool, per query of scored_queries.

    Each of the top min(k, N) positions holds a relevant document with probability r/N, so
    E[recall@k] = min(k, N)/N and E[DCG@k] = sum_i (r/N)/log2(i+1); the ideal DCG is fixed.
    """
    shown = min(k, pool_size)
    recall, ndcg = [], []
    for query in scored_queries(relevant):
        hits = len(relevant[query])
        if hits > pool_size:
            raise ValueError(f"Query {query!r} has {hits} relevant documents in a pool of {pool_size}.")
        recall.append(shown / pool_size)
        expected_dcg = hits / pool_size * _discounts(shown).sum()
        ndcg.append(float(expected_dcg / _discounts(min(hits, k)).sum()))
    return {f"recall@{k}": np.array(recall, dtype=np.float64), f"ndcg@{k}": np.array(ndcg, dtype=np.float64)}


def chance_scores(relevant: dict[str, set[str]], pool_size: int, k: int = 10) -> dict[str, float]:
    """chance_per_query, averaged over the same queries as retrieval_scores."""
    return per_query_means(chance_per_query(relevant, pool_size, k))


def retention(value: float, native: float) -> float:
    """The share of the native score a translated space keeps (NaN when native is 0)."""
    return value / native if native != 0 else math.nan


def gap_closed(value: float, floor: float, native: float) -> float:
    """Where the value sits between a floor (0, e.g. chance) and native (1); NaN when they coincide."""
    return (value - floor) / (native - floor) if native != floor else math.nan


def topk_jaccards(ranked_a: dict[str, list[str]], ranked_b: dict[str, list[str]], k: int = 10) -> dict[str, float]:
    """Per query both rankings share, the Jaccard of their top-k sets (two empty lists agree: 1)."""
    scores = {}
    for query in ranked_a:
        if query in ranked_b:
            a, b = set(ranked_a[query][:k]), set(ranked_b[query][:k])
            scores[query] = len(a & b) / len(a | b) if a | b else 1.0
    return scores


def topk_jaccard(ranked_a: dict[str, list[str]], ranked_b: dict[str, list[str]], k: int = 10) -> float:
    """Mean over the queries both rankings share of the Jaccard of their top-k sets (NaN if none shared)."""
    scores = topk_jaccards(ranked_a, ranked_b, k)
    return sum(scores.values()) / len(scores) if scores else math.nan


def ndcg_at_k(scores: Tensor, relevant: Tensor, k: int) -> Tensor:
    """Binary-relevance nDCG@k of each row of a (queries, documents) score matrix, all rows at once:
    torchmetrics' retrieval_normalized_dcg, one query per call, costs 70 ms an epoch on 418 queries
    (tests/training/test_validation_search.py checks the two agree)."""
    k = min(k, scores.shape[1])
    discounts = 1 / torch.log2(torch.arange(2, k + 2, device=scores.device, dtype=torch.float64))
    gains = relevant.gather(1, scores.topk(k, dim=1).indices).double()
    ideal = (torch.arange(k, device=scores.device) < relevant.sum(1, keepdim=True)).double()
    return (gains @ discounts) / (ideal @ discounts)
