"""Every reference a learned translator is read against, scored on the test split."""

from __future__ import annotations

import torch
from torch import Tensor

from src.analysis.regression import mean_vector_scores, regression_scores
from src.translators.closed_form import LeastSquaresTranslator, ProcrustesTranslator


def _test_keys(scores: dict) -> dict:
    return {f"test/{k}": v for k, v in scores.items()}


def baseline_scores(x_train: Tensor, y_train: Tensor, x_val: Tensor, y_val: Tensor,
                    x_test: Tensor, y_test: Tensor) -> dict[str, dict]:
    """mean_vector (ignore the input), identity (only when d_A = d_B), lstsq and procrustes,
    each fitted on the training split only (lstsq picks its ridge strength on validation)."""
    baselines = {"mean_vector": _test_keys(mean_vector_scores(y_train, y_test))}
    if x_test.shape[1] == y_test.shape[1]:
        baselines["identity"] = _test_keys(regression_scores(x_test, y_test))
    else:
        baselines["identity"] = {"skipped": f"d_A = {x_test.shape[1]} != d_B = {y_test.shape[1]}"}
    lstsq = LeastSquaresTranslator(x_train.shape[1], y_train.shape[1])
    fit = lstsq.fit(x_train, y_train, x_val, y_val)
    procrustes = ProcrustesTranslator(x_train.shape[1], y_train.shape[1])
    rotation = procrustes.fit(x_train, y_train)
    with torch.no_grad():
        baselines["lstsq"] = {**_test_keys(regression_scores(lstsq(x_test), y_test)), "alpha": fit["alpha"]}
        baselines["procrustes"] = {**_test_keys(regression_scores(procrustes(x_test), y_test)),
                                   "scale": rotation["scale"]}
    return baselines
