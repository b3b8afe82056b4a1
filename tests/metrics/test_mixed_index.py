"""src/embtrans/metrics/mixed_index.py: a search worked out by hand, the pure native and pure translated indexes
against an independent numpy search, nested shares, and planted translators (a perfect one, one rotated off
B's distribution)."""

import math

import numpy as np
import pytest

from embtrans.metrics.mixed_index import (
    mixed_index_per_query,
    mixed_index_scores,
    mixed_index_search,
    translated_passages,
)
from embtrans.metrics.retrieval import retrieval_per_query, scored_queries
from tests.metrics.helpers import random_rotation


def corpus(n_passages=400, n_queries=120, d=64, seed=0):
    """B-like vectors: every passage shares one common direction (as real embeddings do), each query is a
    noisy copy of one passage, which is relevant to it, and every third query also has a second relevant
    passage. A few passages are relevant to nothing; the last query has nothing relevant (not scored)."""
    rng = np.random.default_rng(seed)
    passages = 2.0 + rng.normal(size=(n_passages, d))
    targets = rng.choice(n_passages, size=n_queries, replace=False)
    queries = passages[targets] + 0.7 * rng.normal(size=(n_queries, d))
    passage_ids = [f"p{i}" for i in range(n_passages)]
    query_ids = [f"q{j}" for j in range(n_queries)]
    relevant = {query: {passage_ids[target]} for query, target in zip(query_ids, targets)}
    for j in range(0, n_queries, 3):
        relevant[query_ids[j]].add(passage_ids[(targets[j] + 1) % n_passages])
    relevant[query_ids[-1]] = set()
    return queries, query_ids, passages, passage_ids, relevant


def reference_ranking(queries, passages, passage_ids, query_ids, relevant, k):
    """The top k by cosine, from numpy's stable sort of each row: ties to the lower index."""
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    p = passages / np.linalg.norm(passages, axis=1, keepdims=True)
    order = np.argsort(-(q @ p.T), axis=1, kind="stable")[:, :k]
    row = {query: j for j, query in enumerate(query_ids)}
    return {query: [passage_ids[i] for i in order[row[query]]] for query in scored_queries(relevant)}


def test_mixed_index_search_by_hand():
    def at(*degrees):
        angles = np.deg2rad(degrees)
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)

    query = at(0.0)
    native, translated = 3.0 * at(20.0, 40.0, 60.0), at(80.0, 45.0, 5.0)  # lengths do not matter
    # Only p0 translated: p0 at 80°, p1 at 40°, p2 at 60°. Only p2 translated: 20°, 40°, 5°.
    found = mixed_index_search(query, native, translated, [np.array([True, False, False]),
                                                           np.array([False, False, True])], k=2)
    assert [top.tolist() for top in found] == [[[1, 2]], [[2, 0]]]
    # k beyond the index: every passage, in order.
    assert mixed_index_search(query, native, translated, [np.zeros(3, dtype=bool)], k=5)[0].tolist() == [[0, 1, 2]]
    # Ties go to the lower passage index: p1 native and p2 translated both sit at 40°, p0 translated at 80°.
    # (The translated vectors are a reversed view, negative strides, which torch.as_tensor alone refuses.)
    native, translated = at(10.0, 40.0, 70.0), at(40.0, 60.0, 80.0)[::-1]
    assert mixed_index_search(query, native, translated, [np.array([True, False, True])], k=3)[0].tolist() == [[1, 2, 0]]


def test_share_0_is_the_native_search_and_share_1_the_translated_one():
    queries, query_ids, native, passage_ids, relevant = corpus()
    translated = np.random.default_rng(1).normal(size=native.shape)  # unrelated to native
    k = 10
    for share, passages, expected_share in ((0.0, native, 0.0), (1.0, translated, 1.0)):
        scores = mixed_index_per_query(queries, query_ids, native, translated, passage_ids, relevant, share, k=k)
        ranked = reference_ranking(queries, passages, passage_ids, query_ids, relevant, k)
        expected = retrieval_per_query(ranked, relevant, k)
        assert set(scores) == {"ndcg@10", "recall@10", "translated_share@10"}
        np.testing.assert_array_equal(scores["ndcg@10"], expected["ndcg@10"])
        np.testing.assert_array_equal(scores["recall@10"], expected["recall@10"])
        assert scores["translated_share@10"].tolist() == [expected_share] * (len(query_ids) - 1)
    # The top-k indices themselves, against the same reference.
    masks = [np.zeros(len(passage_ids), dtype=bool), np.ones(len(passage_ids), dtype=bool)]
    native_top, translated_top = mixed_index_search(queries, native, translated, masks, k=k)
    for top, passages in ((native_top, native), (translated_top, translated)):
        ranked = reference_ranking(queries, passages, passage_ids, query_ids, relevant, k)
        assert [[passage_ids[i] for i in row] for row in top.numpy()[:-1]] == list(ranked.values())


def test_translated_passages_are_counted_and_nested():
    n = 101
    masks = {share: translated_passages(n, share, seed=7) for share in (0.0, 0.25, 0.5, 0.75, 1.0)}
    assert [int(mask.sum()) for mask in masks.values()] == [0, 25, 50, 76, 101]  # round(): 25.25, 50.5, 75.75
    for smaller, larger in zip(list(masks.values()), list(masks.values())[1:]):
        assert not (smaller & ~larger).any()
    assert (translated_passages(n, 0.5, seed=7) == masks[0.5]).all()
    assert (translated_passages(n, 0.5, seed=8) != masks[0.5]).any()
    for share in (-0.1, 1.5, math.nan):
        with pytest.raises(ValueError, match="share must be between 0 and 1"):
            translated_passages(n, share)


def test_a_perfect_translator_changes_nothing_at_any_share():
    queries, query_ids, native, passage_ids, relevant = corpus()
    native_top = reference_ranking(queries, native, passage_ids, query_ids, relevant, 10)

    def share_of_native_top(percent, seed):
        """Per query, how many of its native top 10 this seed stores translated, over 10."""
        translated = {passage_ids[i] for i in np.flatnonzero(translated_passages(len(passage_ids), percent / 100, seed))}
        return np.array([len(translated & set(top)) / 10 for top in native_top.values()])

    means, per_query = mixed_index_scores(queries, query_ids, native, native.copy(), passage_ids, relevant, k=10, seed=5)
    for percent in (0, 25, 50, 75, 100):
        np.testing.assert_array_equal(per_query[f"mixed{percent}_ndcg@10"], per_query["mixed0_ndcg@10"])
        np.testing.assert_array_equal(per_query[f"mixed{percent}_recall@10"], per_query["mixed0_recall@10"])
        # The same top 10 as the native search; the share is how many of them are stored translated.
        np.testing.assert_allclose(per_query[f"mixed{percent}_translated_share@10"], share_of_native_top(percent, 5),
                                   rtol=0, atol=1e-15)
        # Over draws of which passages are translated, that averages the share stored. (One draw can be off by
        # more: the queries' top-10 lists overlap, so their slots are not independent.)
        over_seeds = np.mean([share_of_native_top(percent, seed).mean() for seed in range(20)])
        assert over_seeds == pytest.approx(percent / 100, abs=0.02)


def test_a_translator_off_b_distribution_is_crowded_out():
    # Translated = native rotated in 64-d: B's queries share the native passages' common direction, not the
    # rotated one, so every native passage outranks every translated one, relevant or not.
    queries, query_ids, native, passage_ids, relevant = corpus()
    rotated = native @ random_rotation(64, seed=3).numpy()
    means, _ = mixed_index_scores(queries, query_ids, native, rotated, passage_ids, relevant,
                                  shares=(0.0, 0.5, 1.0), k=10)
    assert means["mixed50_translated_share@10"] < 0.1
    assert means["mixed100_translated_share@10"] == 1.0
    assert means["mixed0_ndcg@10"] > 0.8
    # At 50 % about half the relevant passages are translated, and lost below the native ones.
    assert means["mixed50_ndcg@10"] < 0.7 * means["mixed0_ndcg@10"]
    assert means["mixed100_ndcg@10"] < 0.3


def test_mixed_index_scores_names_and_means():
    queries, query_ids, native, passage_ids, relevant = corpus(n_passages=60, n_queries=30)
    translated = native + np.random.default_rng(2).normal(size=native.shape)
    means, per_query = mixed_index_scores(queries, query_ids, native, translated, passage_ids, relevant,
                                          shares=(0.1, 0.6), k=5, seed=3)
    names = {f"mixed{p}_{m}@5" for p in (10, 60) for m in ("ndcg", "recall", "translated_share")}
    assert set(per_query) == names and set(means) == names | {"queries"}
    assert means["queries"] == 29
    for name in names:
        assert per_query[name].shape == (29,)
        assert means[name] == pytest.approx(per_query[name].mean())
    single = mixed_index_per_query(queries, query_ids, native, translated, passage_ids, relevant, 0.6, k=5, seed=3)
    for name, values in single.items():
        np.testing.assert_array_equal(per_query[f"mixed60_{name}"], values)
    for shares in ((0.125,), (0.5, 0.5), ()):
        with pytest.raises(ValueError, match="whole percent"):
            mixed_index_scores(queries, query_ids, native, translated, passage_ids, relevant, shares=shares)


def test_input_checks():
    queries, query_ids, native, passage_ids, relevant = corpus(n_passages=40, n_queries=10)

    def run(**changes):
        args = dict(queries=queries, query_ids=query_ids, passages_native=native, passages_translated=native,
                    passage_ids=passage_ids, relevant=relevant, share=0.5)
        return mixed_index_per_query(**{**args, **changes})

    with pytest.raises(ValueError, match="must agree"):
        run(passages_translated=native[:, :10])
    with pytest.raises(ValueError, match="must agree"):
        run(queries=queries[:, :10])
    with pytest.raises(ValueError, match="one id"):
        run(passage_ids=passage_ids[:-1])
    with pytest.raises(ValueError, match="distinct"):
        run(query_ids=["q0"] * len(query_ids))
    with pytest.raises(ValueError, match="share must be between 0 and 1"):
        run(share=1.01)
    with pytest.raises(ValueError, match="no ranking"):
        run(relevant={**relevant, "elsewhere": {"p0"}})
