"""lr_rule=mup: the weights fed by the hidden layer learn at lr / width; everything else at lr."""

import pytest
import torch

from embtrans.training.lit_module import parameter_groups
from embtrans.translators.mlp import MLPTranslator


def test_mup_scales_the_weights_fed_by_the_hidden_layer():
    net = MLPTranslator(6, 10, hidden_layers=2, width=4, residual=True)  # hidden = 4 x min(6, 10) = 24
    groups = parameter_groups(net, "mup", 1e-3)
    plain, scaled = groups
    assert plain["lr"] == 1e-3 and scaled["lr"] == pytest.approx(1e-3 / 4)
    scaled_shapes = sorted(tuple(p.shape) for p in scaled["params"])
    assert scaled_shapes == [(10, 24), (24, 24)]  # hidden -> output and hidden -> hidden
    # input weights, the skip and every bias at the base lr; each parameter exactly once
    assert len(plain["params"]) + len(scaled["params"]) == len(list(net.parameters()))
    assert {id(p) for p in plain["params"]} | {id(p) for p in scaled["params"]} == {id(p) for p in net.parameters()}
    optimizer = torch.optim.AdamW(groups, lr=1e-3)
    assert [g["lr"] for g in optimizer.param_groups] == [1e-3, pytest.approx(2.5e-4)]


def test_constant_is_one_group_and_width_one_changes_nothing():
    net = MLPTranslator(6, 10, hidden_layers=1, width=1)
    assert list(parameter_groups(net, "constant", 1e-3)) == list(net.parameters())
    plain, scaled = parameter_groups(net, "mup", 1e-3)
    assert scaled["lr"] == plain["lr"] == 1e-3
