"""src/metrics/matching.py against answers worked out by hand, plus perfect and chance-level cases."""

import math

import pytest
import torch

from src.metrics.matching import matching_scores
from tests.metrics.helpers import random_matrix

def test_matching_by_hand():
    translated = torch.tensor([[1.0, 0.2], [1.0, 0.0], [1.0, 1.0]])
    native = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # Row 0: cos to its target 1/sqrt(1.04) = 0.981 beats 0.832 and 0.196: rank 1.
    # Row 1 = (1, 0): its target (0, 1) has cos 0, below rows 0 (1) and 2 (0.707): rank 3.
    # Row 2 = (1, 1): its target is the same direction: rank 1.
    scores = matching_scores(translated, native, top_ks=(1, 2, 5))
    assert scores["top1_accuracy"] == pytest.approx(2 / 3)
    assert scores["top2_accuracy"] == pytest.approx(2 / 3)
    assert scores["top5_accuracy"] == 1.0
    assert scores["mean_rank"] == pytest.approx(5 / 3)
    assert scores["median_rank"] == 1.0
    assert scores["mrr"] == pytest.approx((1 + 1 / 3 + 1) / 3)
    assert scores["mean_cosine"] == pytest.approx((1 / math.sqrt(1.04) + 0 + 1) / 3)
    assert scores["pool_size"] == 3


def test_matching_ties_count_against_the_match():
    # Every translation points along (1, 0), as do native rows 0 and 1: rows 0 and 1 each tie with the
    # other (rank 1 + 1 = 2). Row 2's target (0, 1) has cos 0, below those two (rank 3). Row 3 is a
    # zero vector: cos 0 with all four, so everything ties with its target and it ranks 4, without NaN.
    translated = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [0.0, 0.0]])
    native = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    scores = matching_scores(translated, native)
    assert scores["mean_rank"] == pytest.approx((2 + 2 + 3 + 4) / 4)
    assert scores["median_rank"] == pytest.approx(2.5)
    assert scores["top1_accuracy"] == 0.0
    assert scores["mrr"] == pytest.approx((1 / 2 + 1 / 2 + 1 / 3 + 1 / 4) / 4)
    assert not any(math.isnan(value) for value in scores.values())


def test_matching_identical_and_unrelated():
    native = random_matrix(300, 12, 19)
    perfect = matching_scores(native.float().numpy(), native.float().numpy())
    assert perfect["top1_accuracy"] == 1.0 and perfect["mean_rank"] == 1.0 and perfect["mrr"] == 1.0
    assert perfect["mean_cosine"] == pytest.approx(1.0)
    unrelated = matching_scores(random_matrix(300, 12, 20), native)
    assert unrelated["top1_accuracy"] <= 5 / 300  # chance is 1/300
    assert abs(unrelated["mean_rank"] - 150.5) < 20  # uniform ranks: mean (n+1)/2, sd of the mean ~5
    assert abs(unrelated["mean_cosine"]) < 0.05


