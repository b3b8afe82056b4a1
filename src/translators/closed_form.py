"""Closed-form translators: ridge least squares and orthogonal Procrustes.

The references every learned translator is read against: least squares is the best linear map
on the training pairs, Procrustes the best rotation (the map latent-space translation work uses).
Both are solved in float64 and stored in an ``nn.Linear``, so they checkpoint, test and translate
exactly like the trained ``LinearTranslator``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from src.errors import UserError


def _check(x: Tensor, y: Tensor, layer: nn.Linear) -> None:
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise UserError(f"closed-form fit needs paired 2-d arrays, got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.shape[1] != layer.in_features or y.shape[1] != layer.out_features:
        raise UserError(
            f"closed-form fit expects {layer.in_features}-d sources and {layer.out_features}-d targets, "
            f"got {x.shape[1]}-d and {y.shape[1]}-d"
        )


def _store(layer: nn.Linear, weight: Tensor, bias: Tensor) -> None:
    layer.weight.copy_(weight.to(layer.weight.dtype))
    layer.bias.copy_(bias.to(layer.bias.dtype))


class LeastSquaresTranslator(nn.Module):
    """Ridge regression with an unpenalised intercept; alpha chosen by validation MSE.

    The penalty is alpha * s * ||W||², s = trace(XcᵀXc) / d_A (the mean eigenvalue), so alpha is
    scale-free. One SVD of the centred training sources serves every alpha; alpha = 0 is the
    minimum-norm least-squares solution even when XᵀX is singular.
    """

    def __init__(self, in_dim: int, out_dim: int, alphas=(0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)) -> None:
        super().__init__()
        self.map = nn.Linear(in_dim, out_dim)
        self.alphas = [float(a) for a in alphas]
        if not self.alphas or min(self.alphas) < 0:
            raise UserError(f"lstsq alphas must be a non-empty list of numbers >= 0, not {alphas}")
        self.register_buffer("alpha", torch.tensor(float("nan")))

    def forward(self, source: Tensor) -> Tensor:
        return self.map(source)

    @torch.no_grad()
    def fit(self, x_train: Tensor, y_train: Tensor, x_val: Tensor, y_val: Tensor) -> dict:
        _check(x_train, y_train, self.map)
        x, y = x_train.double(), y_train.double()
        x_mean, y_mean = x.mean(0), y.mean(0)
        u, singular, vh = torch.linalg.svd(x - x_mean, full_matrices=False)
        uty = u.T @ (y - y_mean)
        scale = (singular**2).sum() / x.shape[1]
        tolerance = singular.max() * max(x.shape) * torch.finfo(torch.float64).eps

        def solve(alpha: float) -> Tensor:  # (d_A, d_B): W with y ≈ (x - x_mean) W + y_mean
            if alpha == 0:
                inverse = torch.where(singular > tolerance, 1 / singular, torch.zeros_like(singular))
            else:
                inverse = singular / (singular**2 + alpha * scale)
            return vh.T @ (inverse[:, None] * uty)

        val_mse = {}
        for alpha in self.alphas:
            prediction = (x_val.double() - x_mean) @ solve(alpha) + y_mean
            val_mse[alpha] = float(((prediction - y_val.double()) ** 2).mean())
        best = min(self.alphas, key=lambda a: (val_mse[a], -a))  # ties go to the stronger penalty
        weight = solve(best)
        _store(self.map, weight.T, y_mean - x_mean @ weight)
        self.alpha.fill_(best)
        return {"alpha": best, "val_mse": {str(a): m for a, m in val_mse.items()}}


class ProcrustesTranslator(nn.Module):
    """y ≈ s · W (x − x̄) + ȳ with W orthogonal: W = U Vᵀ from the SVD of Ycᵀ Xc.

    When d_A ≠ d_B, W (d_B × d_A) is semi-orthogonal — orthonormal columns if d_B > d_A, rows if
    d_B < d_A — which equals padding the smaller space with zeros and fitting a rotation. ``s`` is
    the least-squares isotropic scale for that rotation (1 without ``scale``).
    """

    def __init__(self, in_dim: int, out_dim: int, scale: bool = True) -> None:
        super().__init__()
        self.map = nn.Linear(in_dim, out_dim)
        self.use_scale = scale
        self.register_buffer("scale", torch.tensor(float("nan")))

    def forward(self, source: Tensor) -> Tensor:
        return self.map(source)

    @torch.no_grad()
    def fit(self, x_train: Tensor, y_train: Tensor, x_val: Tensor | None = None, y_val: Tensor | None = None) -> dict:
        _check(x_train, y_train, self.map)
        x, y = x_train.double(), y_train.double()
        x_mean, y_mean = x.mean(0), y.mean(0)
        xc, yc = x - x_mean, y - y_mean
        u, singular, vh = torch.linalg.svd(yc.T @ xc, full_matrices=False)
        rotation = u @ vh  # (d_B, d_A)
        scale = float(singular.sum() / (xc**2).sum()) if self.use_scale else 1.0
        weight = scale * rotation
        _store(self.map, weight, y_mean - weight @ x_mean)
        self.scale.fill_(scale)
        shape = "orthogonal" if rotation.shape[0] == rotation.shape[1] else "semi-orthogonal (smaller space zero-padded)"
        return {"scale": scale, "map": shape}
