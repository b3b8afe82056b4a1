"""Every reference a learned translator is read against, scored on the test split."""

from __future__ import annotations

import torch
from torch import Tensor

from src.analysis.regression import mean_vector_scores, regression_scores
from src.translators.closed_form import LeastSquaresTranslator, ProcrustesTranslator, check_pairs


def _test_keys(scores: dict) -> dict:
    return {f"test/{k}": v for k, v in scores.items()}


@torch.no_grad()
def baseline_scores(x_train: Tensor, y_train: Tensor, x_val: Tensor, y_val: Tensor,
                    x_test: Tensor, y_test: Tensor) -> dict[str, dict]:
    """mean_vector (ignores the input), identity (the A vectors themselves; only when d_A = d_B),
    lstsq and procrustes, each fitted on the training split (lstsq picks its ridge strength on
    validation) and scored on the test split."""
    in_dim, out_dim = x_train.shape[-1], y_train.shape[-1]
    check_pairs(x_test, y_test, in_dim, out_dim, "test")
    # In the inputs' dtype, so float64 data is scored in float64.
    lstsq = LeastSquaresTranslator(in_dim, out_dim).to(x_test.dtype)
    lstsq_fit = lstsq.fit(x_train, y_train, x_val, y_val)
    procrustes = ProcrustesTranslator(in_dim, out_dim).to(x_test.dtype)
    procrustes_fit = procrustes.fit(x_train, y_train)
    if in_dim == out_dim:
        identity = _test_keys(regression_scores(x_test, y_test))
    else:
        identity = {"skipped": f"d_A != d_B ({in_dim} -> {out_dim})"}
    return {
        "mean_vector": _test_keys(mean_vector_scores(y_train, y_test)),
        "identity": identity,
        "lstsq": {**_test_keys(regression_scores(lstsq(x_test), y_test)), "alpha": lstsq_fit["alpha"]},
        "procrustes": {**_test_keys(regression_scores(procrustes(x_test), y_test)), "scale": procrustes_fit["scale"]},
    }
