"""MLP translators: one or two hidden layers whose width is a multiple of the full rank."""

from __future__ import annotations

from torch import Tensor, nn

from embtrans.errors import UserError
from embtrans.translators.initialise import check_init

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh}


def full_rank(in_dim: int, out_dim: int) -> int:
    """The rank of a full-rank linear map d_A -> d_B: min(d_A, d_B).

    Hidden sizes are multiples of it, so a width-1 MLP has the same bottleneck as the linear map
    (384 for MiniLM -> mpnet, 384 -> 768) and width 32 is 32 times that.
    """
    return min(in_dim, out_dim)


class MLPTranslator(nn.Module):
    """``hidden_layers`` blocks of Linear -> [LayerNorm] -> activation -> [Dropout], then a Linear to d_B.

    With ``residual`` a learned linear map d_A -> d_B is added to the output, so the MLP only has
    to learn what a linear map cannot (the residual adapters of Drift-Adapter and aecp).
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden_layers: int,
        width: int,
        activation: str = "gelu",
        layer_norm: bool = False,
        dropout: float = 0.0,
        residual: bool = False,
        init: str = "random",
    ) -> None:
        super().__init__()
        if width < 1:
            raise UserError(f"width must be a positive multiple of the full rank, not {width}")
        if hidden_layers < 1:
            raise UserError(f"an MLP needs at least one hidden layer, not {hidden_layers}")
        if activation not in ACTIVATIONS:
            raise UserError(f"unknown activation {activation!r}: choose one of {', '.join(ACTIVATIONS)}")
        if not 0 <= dropout < 1:
            raise UserError(f"dropout must lie in [0, 1), not {dropout}")
        self.width = width
        self.hidden = width * full_rank(in_dim, out_dim)
        blocks, size = [], in_dim
        for _ in range(hidden_layers):
            blocks.append(nn.Linear(size, self.hidden))
            if layer_norm:
                blocks.append(nn.LayerNorm(self.hidden))
            blocks.append(ACTIVATIONS[activation]())
            if dropout:
                blocks.append(nn.Dropout(dropout))
            size = self.hidden
        blocks.append(nn.Linear(size, out_dim))
        self.layers = nn.Sequential(*blocks)
        self.skip = nn.Linear(in_dim, out_dim) if residual else None
        # random, or lstsq / procrustes: the skip starts as that closed form, the MLP branch at zero
        self.init = check_init(init)

    def forward(self, source: Tensor) -> Tensor:
        out = self.layers(source)
        return out + self.skip(source) if self.skip is not None else out
