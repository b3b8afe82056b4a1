"""The linear translator: one affine map from A's space to B's, full rank."""

from __future__ import annotations

from torch import Tensor, nn

from embtrans.translators.initialise import check_init


class LinearTranslator(nn.Module):
    """z_B ≈ W z_A + b, with W of shape (d_B, d_A); its rank is at most min(d_A, d_B)."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, init: str = "random") -> None:
        """``init``: random, or lstsq / procrustes to start from that closed-form map (initialise.py)."""
        super().__init__()
        self.map = nn.Linear(in_dim, out_dim, bias=bias)
        self.init = check_init(init)

    def forward(self, source: Tensor) -> Tensor:
        return self.map(source)
