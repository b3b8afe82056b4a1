"""src/embtrans/metrics/matching.py against answers worked out by hand, plus perfect and chance-level cases."""

import math

import pytest
import torch

from embtrans.metrics.matching import matching_per_text, matching_ranks, matching_scores
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




def test_the_two_matching_directions_by_hand():
    # Both texts translate to (1, 0): a hub. Each translation ranking the natives finds text 0 first,
    # so text 0 matches and text 1 ranks 2. Each native ranking the translations (vec2vec) sees a tie
    # between the two identical translations, which counts against the match: both rank 2.
    translated = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    native = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    forward = matching_scores(translated, native, top_ks=(1,), direction="translated_to_native")
    backward = matching_scores(translated, native, top_ks=(1,), direction="native_to_translated")
    assert forward["top1_accuracy"] == 0.5 and forward["mean_rank"] == 1.5
    assert backward["top1_accuracy"] == 0.0 and backward["mean_rank"] == 2.0


def test_native_to_translated_is_translated_to_native_with_roles_swapped():
    translated, native = random_matrix(40, 5, 1), random_matrix(40, 5, 2)
    assert torch.equal(matching_ranks(translated, native, "native_to_translated")[0],
                       matching_ranks(native, translated, "translated_to_native")[0])
    with pytest.raises(ValueError, match="direction"):
        matching_ranks(translated, native, "sideways")


def test_per_text_matching_averages_to_the_scores():
    translated, native = random_matrix(50, 4, 3), random_matrix(50, 4, 4)
    ranks, _ = matching_ranks(translated, native)
    per_text = matching_per_text(ranks, top_ks=(1, 5))
    scores = matching_scores(translated, native, top_ks=(1, 5))
    for name, values in per_text.items():
        assert values.shape == (50,) and values.mean() == pytest.approx(scores[name]), name
