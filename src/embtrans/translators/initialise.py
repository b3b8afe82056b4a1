"""Starting a trained translator where a closed-form map ends: `arch.net.init=random|lstsq|procrustes`.

With lstsq or procrustes the linear translator's map, or an MLP's linear skip (arch.net.residual=true),
starts as that closed-form map fitted on the training split, and an MLP's output layer starts at
zero, so the network begins exactly at the closed form and learns only what it adds.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from omegaconf import DictConfig
from torch import nn

from embtrans.errors import UserError

INITS = ("random", "lstsq", "procrustes")


def check_init(init: str) -> str:
    if init not in INITS:
        raise UserError(f"arch.net.init={init} is not one of {', '.join(INITS)}")
    return init


def closed_form_parts(net: nn.Module) -> tuple[nn.Linear | None, nn.Linear | None]:
    """The affine map d_A -> d_B inside the net that a closed form can stand for (None if it has
    none), and the layer to zero so that the whole net starts as that map (None if nothing else adds
    to its output)."""
    from embtrans.translators.linear import LinearTranslator
    from embtrans.translators.mlp import MLPTranslator

    if isinstance(net, LinearTranslator):
        return net.map, None
    if isinstance(net, MLPTranslator):
        return net.skip, net.layers[-1]  # the MLP branch's output layer
    return None, None


@torch.no_grad()
def start_from_closed_form(net: nn.Module, closed_form: Mapping[str, DictConfig], train, val) -> dict:
    """Apply the net's `init`; return what the closed-form fit chose (empty for random)."""
    from embtrans.translators.baselines import closed_form_maps  # Hydra's instantiate: not for Translator.load

    if hasattr(net, "start"):  # a translator with its own start (orthogonal.py): means, rotation, scale
        return net.start(train.source, train.target)
    init = getattr(net, "init", "random")
    if init == "random":
        return {}
    layer, branch_output = closed_form_parts(net)
    if layer is None or layer.bias is None:
        raise UserError(f"arch.net.init={init} starts the net's affine map from the closed form: it needs a linear "
                        "translator with a bias, or an MLP with arch.net.residual=true (whose skip it starts)")
    fitted = closed_form_maps({init: closed_form[init]}, layer.in_features, layer.out_features)[init]
    chosen = fitted.fit(train.source, train.target, val.source, val.target)
    layer.weight.copy_(fitted.map.weight)
    layer.bias.copy_(fitted.map.bias)
    if branch_output is not None:
        branch_output.weight.zero_()
        branch_output.bias.zero_()
    return {"init": init, **{key: value for key, value in chosen.items() if not isinstance(value, dict)}}
