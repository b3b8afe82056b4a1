"""Closed-form translators: ridge least squares and orthogonal Procrustes.

Both keep their affine map in ``self.map = nn.Linear(in_dim, out_dim)``, like LinearTranslator, so
checkpoints, ``forward`` and evaluation are the same; only ``fit`` differs. ``fit`` takes whole
float32 tensors, solves in float64 and copies the result into ``self.map`` (in the map's dtype).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from embtrans.errors import UserError


def check_pairs(source: Tensor, target: Tensor, in_dim: int, out_dim: int, split: str) -> None:
    if source.ndim != 2 or target.ndim != 2:
        raise UserError(f"{split}: expected 2-D (rows, dim) tensors, got shapes {tuple(source.shape)} and "
                        f"{tuple(target.shape)}")
    if len(source) != len(target):
        raise UserError(f"{split}: {len(source)} source rows but {len(target)} target rows; they must be pairs")
    if source.shape[1] != in_dim or target.shape[1] != out_dim:
        raise UserError(f"{split}: dims are {source.shape[1]} -> {target.shape[1]}, "
                        f"but the translator maps {in_dim} -> {out_dim}")
    if len(source) == 0:
        raise UserError(f"{split}: no rows to fit or validate on")


def centred(x: Tensor) -> tuple[Tensor, Tensor]:
    x = x.to(torch.float64)
    mean = x.mean(dim=0)
    return x - mean, mean


def checked_and_centred(x_train: Tensor, y_train: Tensor, x_val: Tensor, y_val: Tensor,
                        map_: nn.Linear) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """What a fit with a validation split starts from: both splits checked against the map's dims,
    the training pairs centred in float64 (x - x̄, x̄, y - ȳ, ȳ)."""
    check_pairs(x_train, y_train, map_.in_features, map_.out_features, "train")
    check_pairs(x_val, y_val, map_.in_features, map_.out_features, "val")
    return (*centred(x_train), *centred(y_train))


class LeastSquaresTranslator(nn.Module):
    """z_B ≈ W z_A + b by ridge regression, the ridge strength chosen on the validation split.

    The penalty is α·s·‖W‖²_F with s = trace(XcᵀXc) / d_A (the mean eigenvalue), so α does not
    depend on the scale of the embeddings; the intercept is not penalised (X and Y are centred on
    their training means). α = 0 is the minimum-norm least-squares solution, also when XᵀX is
    singular.
    """

    def __init__(self, in_dim: int, out_dim: int, alphas: Sequence[float]) -> None:
        """``alphas``: the grid of ridge strengths, from conf/arch/lstsq.yaml (its one source)."""
        super().__init__()
        self.alphas = tuple(float(a) for a in alphas)
        if not self.alphas or min(self.alphas) < 0:
            raise UserError(f"alphas must be a non-empty list of ridge strengths >= 0, got {list(alphas)}")
        self.map = nn.Linear(in_dim, out_dim)
        self.register_buffer("alpha", torch.tensor(float("nan")))

    def forward(self, source: Tensor) -> Tensor:
        return self.map(source)

    @torch.no_grad()
    def fit(self, x_train: Tensor, y_train: Tensor, x_val: Tensor, y_val: Tensor) -> dict:
        xc, x_mean, yc, y_mean = checked_and_centred(x_train, y_train, x_val, y_val, self.map)
        gram = xc.T @ xc
        # One eigendecomposition of XcᵀXc (= the right singular vectors and squared singular values
        # of Xc) serves every α. It halves the fit time of an SVD of the tall Xc on CPU; it squares
        # the condition number, which float64 absorbs for float32 inputs and outputs.
        eigenvalues, vectors = torch.linalg.eigh(gram)
        # Eigenvalues at rounding level are exact zeros (pinv's rule): the minimum-norm solution.
        rank_tol = eigenvalues.max().clamp(min=0) * max(xc.shape) * torch.finfo(torch.float64).eps
        kept = eigenvalues > rank_tol
        penalty_unit = gram.trace() / gram.shape[0]
        projected_xy = vectors.T @ (xc.T @ yc)  # Vᵀ XcᵀYc
        val_x = (x_val.to(torch.float64) - x_mean) @ vectors
        val_y = y_val.to(torch.float64) - y_mean

        def weight_t(alpha: float) -> Tensor:  # Wᵀ in the eigenbasis, (d_A, d_B)
            inverse = torch.where(kept, 1 / (eigenvalues + alpha * penalty_unit), torch.zeros_like(eigenvalues))
            return inverse[:, None] * projected_xy

        val_mse = {a: float(((val_x @ weight_t(a) - val_y) ** 2).mean()) for a in self.alphas}
        chosen = min(sorted(self.alphas, reverse=True), key=val_mse.__getitem__)  # ties -> larger α
        weight = (vectors @ weight_t(chosen)).T
        self.map.weight.copy_(weight)
        self.map.bias.copy_(y_mean - weight @ x_mean)
        self.alpha.fill_(chosen)
        return {"alpha": chosen, "val_mse": {str(a): m for a, m in val_mse.items()}}


class ProcrustesTranslator(nn.Module):
    """z_B ≈ s·W z_A + b with W orthogonal (or semi-orthogonal) and one global scale s.

    After centring both spaces on their training means, W = U Vᵀ from the SVD Ycᵀ Xc = U Σ Vᵀ
    (d_B × d_A): the rotation that best aligns the two clouds. When d_A ≠ d_B, W is semi-orthogonal:
    orthonormal columns if d_B > d_A, orthonormal rows if d_B < d_A. That is the solution of the
    square problem with the smaller space zero-padded to the larger dimension, restricted to the real
    coordinates. s = trace(Σ) / ‖Xc Wᵀ‖²_F is the least-squares scale for that W; when d_B ≥ d_A it
    equals trace(Σ) / ‖Xc‖²_F. (When d_B < d_A, W drops part of Xc, and dividing by ‖Xc‖²_F, the
    zero-padded problem's scale, would shrink every prediction.)
    """

    def __init__(self, in_dim: int, out_dim: int, scale: bool = True) -> None:
        super().__init__()
        self.map = nn.Linear(in_dim, out_dim)
        self.fit_scale = scale  # the default for fit(); a config can set arch.net.scale=false
        self.register_buffer("scale", torch.tensor(float("nan")))

    def forward(self, source: Tensor) -> Tensor:
        return self.map(source)

    @torch.no_grad()
    def fit(self, x_train: Tensor, y_train: Tensor, x_val: Tensor | None = None, y_val: Tensor | None = None,
            scale: bool | None = None) -> dict:
        """The validation split is only checked: there is nothing to choose. ``scale=None`` uses the
        constructor's choice; without a scale, s = 1."""
        in_dim, out_dim = self.map.in_features, self.map.out_features
        check_pairs(x_train, y_train, in_dim, out_dim, "train")
        if x_val is not None or y_val is not None:
            if x_val is None or y_val is None:
                raise UserError("val: pass both source and target, or neither")
            check_pairs(x_val, y_val, in_dim, out_dim, "val")
        xc, x_mean = centred(x_train)
        yc, y_mean = centred(y_train)
        u, sigma, vt = torch.linalg.svd(yc.T @ xc, full_matrices=False)
        weight = u @ vt
        s = 1.0
        if scale is None:
            scale = self.fit_scale
        if scale:
            rotated_norm = (xc @ weight.T).square().sum()
            if rotated_norm == 0:
                raise UserError("train: the source vectors are all equal, so no scale can be fitted")
            s = float(sigma.sum() / rotated_norm)
        self.map.weight.copy_(s * weight)
        self.map.bias.copy_(y_mean - s * weight @ x_mean)
        self.scale.fill_(s)
        if in_dim == out_dim:
            dims = "square: W is orthogonal"
        elif out_dim > in_dim:
            dims = f"d_A={in_dim} < d_B={out_dim}: W has orthonormal columns (A zero-padded to d_B)"
        else:
            dims = f"d_A={in_dim} > d_B={out_dim}: W has orthonormal rows (B zero-padded to d_A)"
        return {"scale": s, "dims": dims}
