"""Every reference a learned translator is read against, scored on the test split."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import Tensor, nn

from embtrans.metrics.regression import mean_vector_scores, regression_scores
from embtrans.translators.closed_form import check_pairs


def _test_keys(scores: dict) -> dict:
    return {f"test/{k}": v for k, v in scores.items()}


def closed_form_maps(configs: Mapping[str, DictConfig], in_dim: int, out_dim: int) -> dict[str, nn.Module]:
    """Unfitted closed-form translators from their arch configs (``closed_form.<name>`` in train.yaml and
    analyze.yaml is conf/arch/<name>.yaml), so a grid edited there is the one every baseline uses."""
    return {name: instantiate(config.net, in_dim=in_dim, out_dim=out_dim) for name, config in configs.items()}


@torch.no_grad()
def baseline_scores(x_train: Tensor, y_train: Tensor, x_val: Tensor, y_val: Tensor,
                    x_test: Tensor, y_test: Tensor, closed_form: Mapping[str, nn.Module]) -> dict[str, dict]:
    """mean_vector (ignores the input), identity (the A vectors themselves; only when d_A = d_B),
    and each closed-form map (lstsq, procrustes), fitted on the training split (lstsq picks its
    ridge strength on validation) and scored on the test split, with the numbers its fit chose."""
    in_dim, out_dim = x_train.shape[-1], y_train.shape[-1]
    check_pairs(x_test, y_test, in_dim, out_dim, "test")
    if in_dim == out_dim:
        identity = _test_keys(regression_scores(x_test, y_test))
    else:
        identity = {"skipped": f"d_A != d_B ({in_dim} -> {out_dim})"}
    scores = {"mean_vector": _test_keys(mean_vector_scores(y_train, y_test)), "identity": identity}
    for name, translator in closed_form.items():
        translator = translator.to(x_test.dtype)  # in the inputs' dtype, so float64 data is scored in float64
        fitted = translator.fit(x_train, y_train, x_val, y_val)
        chosen = {key: value for key, value in fitted.items() if isinstance(value, Real)}  # alpha, scale
        scores[name] = {**_test_keys(regression_scores(translator(x_test), y_test)), **chosen}
    return scores
