"""src/embtrans/metrics/retrieval.py against answers worked out by hand, plus perfect and chance-level cases."""

import math

import numpy as np
import pytest

from embtrans.metrics.retrieval import chance_scores, gap_closed, retention, retrieval_scores, topk_jaccard
from tests.metrics.helpers import LOG2_3

RANKED = {
    "q1": ["d1", "d2", "d3", "d5"],
    "q2": ["d3", "d1", "d2"],
    "q3": ["d2"],
    "q4": ["d1", "d2", "d3"],
    "q5": ["d1", "d2", "d3"],
}
RELEVANT = {"q1": {"d2", "d5"}, "q2": {"d3"}, "q3": {"d2", "d4"}, "q4": set(), "q5": {"d9"}}
# At k = 3:
# q1: d2 at rank 2; d5 is relevant but at rank 4. recall 1/2; DCG 1/log2(3), ideal 1 + 1/log2(3).
# q2: the one relevant document first. recall 1, nDCG 1.
# q3: a list shorter than k; d4 never retrieved. recall 1/2; DCG 1 (rank 1), ideal 1 + 1/log2(3).
# q4: nothing relevant, not scored. q5: the relevant document is missing: 0 and 0.
Q1_NDCG = (1 / LOG2_3) / (1 + 1 / LOG2_3)
Q3_NDCG = 1 / (1 + 1 / LOG2_3)


@pytest.mark.parametrize(
    ("queries", "recall", "ndcg"),
    [
        (["q1"], 1 / 2, Q1_NDCG),
        (["q2"], 1.0, 1.0),
        (["q3"], 1 / 2, Q3_NDCG),
        (["q5"], 0.0, 0.0),
        (["q1", "q2", "q3", "q4", "q5"], (1 / 2 + 1 + 1 / 2 + 0) / 4, (Q1_NDCG + 1 + Q3_NDCG + 0) / 4),
    ],
)
def test_retrieval_scores_by_hand(queries, recall, ndcg):
    scores = retrieval_scores({q: RANKED[q] for q in queries}, {q: RELEVANT[q] for q in queries}, k=3)
    assert scores["recall@3"] == pytest.approx(recall, abs=1e-6)  # torchmetrics works in float32
    assert scores["ndcg@3"] == pytest.approx(ndcg, abs=1e-6)
    assert scores["queries"] == len([q for q in queries if RELEVANT[q]])


def test_retrieval_scores_edge_cases():
    assert math.isnan(retrieval_scores({"q4": ["d1"]}, {"q4": set()}, k=3)["recall@3"])
    with pytest.raises(ValueError, match="no ranking"):
        retrieval_scores({"q1": ["d2"]}, {"q1": {"d2"}, "q2": {"d1"}}, k=3)


def test_chance_scores_by_hand():
    # Pool 5, k = 2, one relevant document: recall 2/5; E[DCG] = (1/5)(1 + 1/log2 3), ideal 1.
    scores = chance_scores({"a": {"x"}, "empty": set()}, pool_size=5, k=2)
    assert scores == pytest.approx({"recall@2": 0.4, "ndcg@2": (1 + 1 / LOG2_3) / 5, "queries": 1.0})


# (10, 2): three relevant documents but k = 2, so the ideal DCG stops at two hits.
@pytest.mark.parametrize(("pool_size", "k"), [(8, 3), (4, 10), (10, 2)])
def test_chance_scores_match_random_rankings(pool_size, k):
    relevant = {"one": {"d0"}, "three": {"d1", "d4", "d6"} & {f"d{i}" for i in range(pool_size)}}
    pool = [f"d{i}" for i in range(pool_size)]
    rng = np.random.default_rng(0)
    ranked, copies = {}, {}
    for repeat in range(1500):
        for query, docs in relevant.items():
            ranked[f"{query}-{repeat}"] = list(rng.permutation(pool))
            copies[f"{query}-{repeat}"] = docs
    simulated = retrieval_scores(ranked, copies, k=k)
    expected = chance_scores(relevant, pool_size, k=k)
    assert simulated[f"recall@{k}"] == pytest.approx(expected[f"recall@{k}"], abs=0.015)
    assert simulated[f"ndcg@{k}"] == pytest.approx(expected[f"ndcg@{k}"], abs=0.015)
    assert expected["queries"] == 2


def test_retention_and_gap_closed():
    assert retention(0.3, 0.6) == pytest.approx(0.5)
    assert math.isnan(retention(0.3, 0.0))
    assert gap_closed(0.55, 0.1, 1.0) == pytest.approx(0.5)
    assert gap_closed(0.1, 0.1, 1.0) == 0.0 and gap_closed(1.0, 0.1, 1.0) == 1.0
    assert gap_closed(0.05, 0.1, 1.0) == pytest.approx(-0.05 / 0.9)  # below the floor: negative
    assert math.isnan(gap_closed(0.3, 0.2, 0.2))


def test_topk_jaccard_by_hand():
    a = {"q1": ["1", "2", "3"], "q2": ["4", "5", "6"], "only_a": ["1"]}
    b = {"q1": ["3", "2", "9"], "q2": ["7", "8", "9"]}
    # k = 3: q1 {2, 3} of {1, 2, 3, 9} = 1/2, q2 0. k = 2: q1 {2} of {1, 2, 3} = 1/3.
    assert topk_jaccard(a, b, k=3) == pytest.approx(1 / 4)
    assert topk_jaccard(a, b, k=2) == pytest.approx(1 / 6)
    assert math.isnan(topk_jaccard({"x": ["1"]}, b))
