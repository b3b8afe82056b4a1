"""Retrieval from a half-migrated index: the state a live vector database passes through while its passages
are re-embedded from model A to model B by a translator.

One index holds every passage once: a share of them as translated A→B vectors, the rest as native B
vectors. B's natively embedded queries search it by cosine. Two things can go wrong at once: the translated
passages may be worse matches (nDCG@k and recall@k fall), and they may sit off B's distribution, so that
native passages crowd them out of the top k whatever their relevance (translated_share@k falls below the
share stored translated). Which passages are translated is random, but nested across shares for a seed:
those translated at 25 % are among those translated at 50 %, as in a migration that only moves forward.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from embtrans.metrics.neighbours import row_blocks, to_float64, top_k_stable, unit_rows
from embtrans.metrics.retrieval import per_query_means, retrieval_per_query, scored_queries

DEFAULT_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)


def translated_passages(n_passages: int, share: float, seed: int = 0) -> np.ndarray:
    """(n_passages,) booleans: which passages the index stores translated at this share.

    Exactly round(share * n_passages) of them (Python's round: halves to even), the first ones of one random
    permutation per seed (np.random.default_rng(seed)), so the set at a smaller share is within the set at
    a larger one.
    """
    _check_share(share)
    order = np.random.default_rng(seed).permutation(n_passages)
    mask = np.zeros(n_passages, dtype=bool)
    mask[order[:round(share * n_passages)]] = True
    return mask


def mixed_index_search(queries: np.ndarray | torch.Tensor, passages_native: np.ndarray | torch.Tensor,
                       passages_translated: np.ndarray | torch.Tensor, masks: Sequence[np.ndarray],
                       k: int = 10) -> list[torch.Tensor]:
    """For each mask (True: the passage is stored translated), the (n_queries, min(k, n_passages)) indices
    of each query's most cosine-similar passages in that mixed index, most similar first, ties to the lower
    passage index.

    The similarities to the native and the translated passages are computed once per block of queries and
    mixed per mask, so many shares cost two matrix products, not one each.
    """
    queries, native, translated = (unit_rows(x) for x in (queries, passages_native, passages_translated))
    _check_shapes(queries, native, translated)
    n_queries, n_passages = queries.shape[0], native.shape[0]
    if k < 1:
        raise ValueError(f"k must be at least 1, got k={k}.")
    if n_passages == 0:
        raise ValueError("The index needs at least one passage.")
    masks_t = [torch.as_tensor(np.ascontiguousarray(mask, dtype=bool)) for mask in masks]
    for mask in masks_t:
        if mask.shape != (n_passages,):
            raise ValueError(f"A mask must hold one boolean per passage ({n_passages}), got shape {tuple(mask.shape)}.")
    shown = min(k, n_passages)
    found = [torch.empty((n_queries, shown), dtype=torch.long) for _ in masks_t]
    for rows in row_blocks(n_queries, 2 * n_passages):
        sims_native, sims_translated = queries[rows] @ native.T, queries[rows] @ translated.T
        for out, mask in zip(found, masks_t):
            out[rows] = top_k_stable(torch.where(mask, sims_translated, sims_native), shown)
    return found


def mixed_index_per_query(queries: np.ndarray, query_ids: list[str], passages_native: np.ndarray,
                          passages_translated: np.ndarray, passage_ids: list[str], relevant: dict[str, set[str]],
                          share: float, k: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """Per query of scored_queries(relevant), in that order, searching the index with this share translated:
    ``ndcg@{k}`` and ``recall@{k}`` (retrieval_per_query), and ``translated_share@{k}``, the fraction of the
    query's top-k results stored translated (of min(k, n_passages) results; 0 at share 0, 1 at share 1).

    Row i of passages_native and passages_translated is passage_ids[i]; row j of queries is query_ids[j]
    (B's own vectors of the queries). A query with relevant passages but no row raises ValueError.
    """
    return _per_query(queries, query_ids, passages_native, passages_translated, passage_ids, relevant,
                      [share], k, seed)[0]


def mixed_index_scores(queries: np.ndarray, query_ids: list[str], passages_native: np.ndarray,
                       passages_translated: np.ndarray, passage_ids: list[str], relevant: dict[str, set[str]],
                       shares: Sequence[float] = DEFAULT_SHARES, k: int = 10,
                       seed: int = 0) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """mixed_index_per_query at every share, as (means, per_query).

    Both dicts are keyed ``mixed{percent}_{name}@{k}`` (e.g. ``mixed25_ndcg@10``,
    ``mixed25_translated_share@10``) for name in ndcg, recall, translated_share; means also holds
    ``queries``, how many queries each mean is over (per_query_means). The per-query arrays are in the
    order of scored_queries(relevant), the same at every share, so a bootstrap resamples one set of query
    indices for all of them. Shares must be whole percents, so that no two share a name.
    """
    labels = [_percent(share) for share in shares]
    if not labels or len(set(labels)) != len(labels):
        raise ValueError(f"shares must be one or more distinct whole percents, got {list(shares)}.")
    found = _per_query(queries, query_ids, passages_native, passages_translated, passage_ids, relevant,
                       list(shares), k, seed)
    per_query = {f"mixed{label}_{name}": values for label, scores in zip(labels, found) for name, values in scores.items()}
    return per_query_means(per_query), per_query


def _per_query(queries: np.ndarray, query_ids: list[str], passages_native: np.ndarray,
               passages_translated: np.ndarray, passage_ids: list[str], relevant: dict[str, set[str]],
               shares: list[float], k: int, seed: int) -> list[dict[str, np.ndarray]]:
    """mixed_index_per_query's scores for each share, in the order of shares."""
    queries_t = to_float64(queries)  # normalised once, by mixed_index_search
    if len(query_ids) != queries_t.shape[0] or len(passage_ids) != len(passages_native):
        raise ValueError(f"Each vector needs one id: {queries_t.shape[0]} queries with {len(query_ids)} ids, "
                         f"{len(passages_native)} passages with {len(passage_ids)} ids.")
    for kind, ids in (("query", query_ids), ("passage", passage_ids)):
        if len(set(ids)) != len(ids):
            raise ValueError(f"The {kind} ids must be distinct ({len(ids) - len(set(ids))} repeat).")
    # Only the scored queries are searched; one with no row is left for retrieval_per_query to report.
    row_of = {query: row for row, query in enumerate(query_ids)}
    searched = [query for query in scored_queries(relevant) if query in row_of]
    chosen = queries_t[[row_of[query] for query in searched]] if searched else queries_t[:0]
    masks = [translated_passages(len(passage_ids), share, seed) for share in shares]
    found = mixed_index_search(chosen, passages_native, passages_translated, masks, k)
    ids = np.asarray(passage_ids, dtype=object)
    results = []
    for mask, top in zip(masks, found):
        ranked = {query: ids[row].tolist() for query, row in zip(searched, top.numpy())}
        scores = retrieval_per_query(ranked, relevant, k)
        # Over min(k, n_passages) results: the mean of booleans, so exactly 0 (1) when none (all) are translated.
        scores[f"translated_share@{k}"] = mask[top.numpy()].mean(axis=1, dtype=np.float64)
        results.append(scores)
    return results


def _check_share(share: float) -> None:
    if not 0 <= share <= 1:  # NaN fails too
        raise ValueError(f"share must be between 0 and 1, got {share}.")


def _percent(share: float) -> int:
    _check_share(share)
    percent = round(share * 100)
    if not math.isclose(share * 100, percent, abs_tol=1e-9):
        raise ValueError(f"Each share must be a whole percent (it names the columns, mixed25_...), got {share}.")
    return percent


def _check_shapes(queries: torch.Tensor, native: torch.Tensor, translated: torch.Tensor) -> None:
    if native.shape != translated.shape or queries.shape[1] != native.shape[1]:
        raise ValueError(f"Queries (n, d) and both passage sets (m, d) must agree: got {tuple(queries.shape)}, "
                         f"native {tuple(native.shape)}, translated {tuple(translated.shape)}.")

