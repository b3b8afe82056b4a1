"""The plan's "do 20 % semantic search and compare", run through Chroma queries.

B's test queries (encoded natively by B, as after a migration) search the test passages stored
(1) natively by B: the ceiling, (2) translated A -> B: what migration without re-embedding gives.
The floor is one thing for every pair: a random ranking, in its exact expectation, so gap closed means
the same on every pair. Raw A (B's queries over A's passages, not translating at all) is shown beside
it where the dimensions allow, and A's own search (A queries over A passages): the model being replaced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from embtrans.analysis.chroma_store import EmbeddingStore
from embtrans.metrics.retrieval import (
    chance_per_query,
    gap_closed,
    per_query_means,
    retention,
    retrieval_per_query,
    retrieval_scores,
    scored_queries,
    topk_jaccard,
    topk_jaccards,
)


def search(store: EmbeddingStore, collection: str, queries: np.ndarray, query_ids: list[str],
           pool: list[str], k: int) -> dict[str, list[str]]:
    """Query id -> the ids of the k nearest pool documents in the collection, best first.

    The collection holds exactly the pool (the test passages), so the search needs no filter: a
    filtered Chroma query costs time in proportion to the whole collection (figures in docs/analysis.md,
    "Chroma"; benchmarks/analysis_cost.py times the analysis)."""
    stored = store.count(collection)
    if stored != len(pool):
        raise ValueError(f"the Chroma collection {collection} holds {stored} vectors, not the {len(pool)} "
                         "passages searched")
    ranked = store.search(collection, queries, min(k, len(pool)))
    return dict(zip(query_ids, ranked))


def exact_search(queries: np.ndarray, query_ids: list[str], pool_vectors: np.ndarray, pool: list[str], k: int,
                 chunk: int = 2048) -> dict[str, list[str]]:
    """What ``search`` returns, by exact cosine over every pool vector instead of a Chroma collection: for
    translators scored on the data curve only, whose passages need no collection of their own."""
    passages = F.normalize(torch.from_numpy(np.ascontiguousarray(pool_vectors, dtype=np.float32)), dim=-1)
    asked = F.normalize(torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)), dim=-1)
    ids = np.asarray(pool, dtype=object)
    ranked = []
    for start in range(0, len(asked), chunk):
        top = torch.topk(asked[start:start + chunk] @ passages.T, min(k, len(pool)), dim=1).indices.numpy()
        ranked += [list(ids[row]) for row in top]
    return dict(zip(query_ids, ranked))


def reference_searches(store: EmbeddingStore, native_a: str, native_b: str, queries_a: np.ndarray,
                       queries_b: np.ndarray, query_ids: list[str], pool: list[str], relevant: dict,
                       k: int) -> dict:
    """Scores (and rankings) of the searches that do not depend on the translator, with the per-query
    scores of native B and of the floor (``items``, in the order of scored_queries(relevant))."""
    native = search(store, native_b, queries_b, query_ids, pool, k)
    source = search(store, native_a, queries_a, query_ids, pool, k)
    same_dim = queries_a.shape[1] == queries_b.shape[1]
    untranslated = search(store, native_a, queries_b, query_ids, pool, k) if same_dim else None
    per_query = {"native": retrieval_per_query(native, relevant, k), "floor": chance_per_query(relevant, len(pool), k)}
    if untranslated:
        per_query["untranslated"] = retrieval_per_query(untranslated, relevant, k)
    scores = {
        "native": per_query_means(per_query["native"]),
        "source": retrieval_scores(source, relevant, k),
        "floor": per_query_means(per_query["floor"]),
        "floor_kind": "random ranking (expected)",
        "pool_size": len(pool),
    }
    if untranslated:
        scores["untranslated"] = per_query_means(per_query["untranslated"])
    items = {f"{name}_{side}": values.tolist() for side, arrays in per_query.items() for name, values in arrays.items()}
    return {"scores": scores, "native_ranking": native, "items": items}


def translated_search_scores(translated: dict[str, list[str]], reference: dict, relevant: dict,
                             k: int) -> tuple[dict, dict]:
    """Raw scores of the translated search, as retention of native B and as share of the floor -> native
    gap closed, and the Jaccard of the top k fetched by native and translated search; with the
    per-query recall, nDCG and top-k Jaccard (in the order of scored_queries(relevant))."""
    per_query = retrieval_per_query(translated, relevant, k)
    scores = per_query_means(per_query)
    ref = reference["scores"]
    result = {f"{name}": scores[name] for name in (f"recall@{k}", f"ndcg@{k}")}
    for name in (f"recall@{k}", f"ndcg@{k}"):
        result[f"{name}_native"] = ref["native"][name]
        result[f"{name}_floor"] = ref["floor"][name]
        result[f"{name}_source"] = ref["source"][name]
        if "untranslated" in ref:  # raw A in B's index: only where the dimensions match
            result[f"{name}_untranslated"] = ref["untranslated"][name]
        result[f"{name}_retention"] = retention(scores[name], ref["native"][name])
        result[f"{name}_gap_closed"] = gap_closed(scores[name], ref["floor"][name], ref["native"][name])
    jaccards = topk_jaccards(reference["native_ranking"], translated, k)
    per_query[f"top{k}_jaccard"] = np.array([jaccards[q] for q in scored_queries(relevant)], dtype=np.float64)
    result[f"top{k}_jaccard"] = topk_jaccard(reference["native_ranking"], translated, k)
    result["floor_kind"] = ref["floor_kind"]
    result["retrieval_queries"] = scores["queries"]
    result["retrieval_pool"] = ref["pool_size"]
    return result, per_query


def worked_examples(native: dict[str, list[str]], translated: dict[str, list[str]], relevant: dict,
                    texts: pd.DataFrame, count: int, k: int) -> list[dict]:
    """A handful of queries spread from most to least agreement between the two searches: for each, the
    documents fetched in both spaces and those fetched in only one, with their texts."""
    text_of = dict(zip(texts["id"].astype(str), texts["text"]))
    agreement = topk_jaccards(native, translated, k)
    ordered = sorted(agreement, key=lambda q: (-agreement[q], q))
    picks = [ordered[round(i)] for i in np.linspace(0, len(ordered) - 1, min(count, len(ordered)))] if ordered else []

    def docs(ids, query):
        return [{"id": d, "text": text_of[d], "relevant": d in relevant.get(query, ())} for d in ids]

    examples = []
    for query in dict.fromkeys(picks):
        fetched_native, fetched_translated = native[query][:k], translated[query][:k]
        examples.append({
            "query_id": query,
            "query": text_of[query],
            "relevant": docs(sorted(relevant.get(query, ())), query),
            "jaccard": agreement[query],
            "both": docs([d for d in fetched_native if d in fetched_translated], query),
            "only_native": docs([d for d in fetched_native if d not in fetched_translated], query),
            "only_translated": docs([d for d in fetched_translated if d not in fetched_native], query),
        })
    return examples


def examples_markdown(title: str, examples: list[dict]) -> str:
    """The worked examples as Markdown, texts shortened to one line each."""

    def line(doc: dict) -> str:
        text = " ".join(str(doc["text"]).split())
        return f"- `{doc['id']}`{' (relevant)' if doc['relevant'] else ''}: {text[:240]}{'…' if len(text) > 240 else ''}"

    parts = [f"# Worked searches: {title}", ""]
    for example in examples:
        parts += [f"## Query `{example['query_id']}` (top-k Jaccard {example['jaccard']:.2f})", "",
                  f"> {' '.join(str(example['query']).split())}", ""]
        for key, heading in (("relevant", "Relevant"), ("both", "Fetched in both spaces"),
                             ("only_native", "Fetched only by native B"), ("only_translated", "Fetched only by translated A→B")):
            parts += [f"**{heading}**", ""] + ([line(d) for d in example[key]] or ["- (none)"]) + [""]
    return "\n".join(parts)
