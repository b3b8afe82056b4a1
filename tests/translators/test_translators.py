"""Each architecture composes from the real configs with the documented shapes and parameter counts."""

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from embtrans.errors import UserError
from embtrans.paths import CONFIG_DIR
from embtrans.translators.mlp import MLPTranslator, full_rank


def net_from_config(arch, width, in_dim, out_dim, *overrides):
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR):
        cfg = compose("train", overrides=[f"arch={arch}", f"width={width}", *overrides])
    GlobalHydra.instance().clear()
    return instantiate(cfg.arch.net, in_dim=in_dim, out_dim=out_dim), cfg


def count(net):
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("in_dim, out_dim", [(384, 768), (768, 384), (384, 384)])
@pytest.mark.parametrize("width", [1, 8, 32])
def test_mlp_shapes_and_parameter_counts(in_dim, out_dim, width):
    h = width * min(in_dim, out_dim)
    mlp1, _ = net_from_config("mlp1", width, in_dim, out_dim)
    mlp2, _ = net_from_config("mlp2", width, in_dim, out_dim)
    assert mlp1.hidden == mlp2.hidden == h == width * full_rank(in_dim, out_dim)
    assert count(mlp1) == (in_dim * h + h) + (h * out_dim + out_dim)
    assert count(mlp2) == (in_dim * h + h) + (h * h + h) + (h * out_dim + out_dim)
    assert mlp1(torch.zeros(3, in_dim)).shape == (3, out_dim)


def test_linear_is_full_rank_and_ignores_width():
    small, cfg = net_from_config("linear", 1, 384, 768)
    large, _ = net_from_config("linear", 32, 384, 768)
    assert count(small) == count(large) == 384 * 768 + 768
    assert cfg.arch.uses_width is False
    assert small(torch.zeros(2, 384)).shape == (2, 768)


def test_mlp_options_change_the_network():
    plain, _ = net_from_config("mlp1", 1, 64, 32)
    options = ["arch.net.layer_norm=true", "arch.net.dropout=0.1", "arch.net.residual=true", "arch.net.activation=relu"]
    rich, _ = net_from_config("mlp1", 1, 64, 32, *options)
    kinds = [type(m).__name__ for m in rich.layers]
    assert kinds == ["Linear", "LayerNorm", "ReLU", "Dropout", "Linear"]
    assert count(rich) == count(plain) + 2 * 32 + (64 * 32 + 32)  # LayerNorm + the linear skip
    rich.eval()
    x = torch.randn(4, 64)
    assert torch.allclose(rich(x), rich.layers(x) + rich.skip(x))


@pytest.mark.parametrize("kwargs, message", [
    ({"width": 0}, "width must be a positive"),
    ({"hidden_layers": 0}, "at least one hidden layer"),
    ({"activation": "swish2"}, "unknown activation"),
    ({"dropout": 1.0}, "dropout"),
])
def test_bad_mlp_settings_are_clear_errors(kwargs, message):
    settings = {"in_dim": 8, "out_dim": 4, "hidden_layers": 1, "width": 1, **kwargs}
    with pytest.raises(UserError, match=message):
        MLPTranslator(**settings)
