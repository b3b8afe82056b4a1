"""src/embtrans/metrics/regression.py: per-text errors average to the torchmetrics scores."""

import pytest
import torch

from embtrans.metrics.regression import mean_vector_scores, regression_per_text, regression_scores
from tests.metrics.helpers import random_matrix


def test_per_text_errors_average_to_torchmetrics_scores():
    predicted, target = random_matrix(30, 7, 1), random_matrix(30, 7, 2)
    per_text = regression_per_text(predicted, target)
    scores = regression_scores(predicted, target)
    assert per_text["mse"].shape == (30,)
    assert per_text["mse"].mean() == pytest.approx(scores["mse"])
    assert per_text["cosine"].mean() == pytest.approx(scores["cosine"])
    assert per_text["mse"][0] == pytest.approx(float(((predicted[0] - target[0]) ** 2).mean()))


def test_mean_vector_predicts_the_training_mean():
    train, test = torch.tensor([[0.0, 2.0], [2.0, 0.0]]), torch.tensor([[1.0, 1.0], [3.0, 1.0]])
    assert mean_vector_scores(train, test)["mse"] == pytest.approx((0 + 0 + 4 + 0) / 4)
