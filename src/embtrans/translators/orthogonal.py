"""A translator that keeps model A's geometry: z_B ≈ μ_B + s · W (z_A − μ_A), with W (semi-)orthogonal.

An orthogonal map moves every A vector rigidly, so the translated passages keep A's angles and
neighbourhoods exactly; what training may change is *which* rotation, and one global scale. It starts at
Procrustes (the closed form: the rotation and least-squares scale that best fit the training pairs) and a
contrastive objective (loss=mse+infonce) then turns it towards what retrieval needs. It cannot collapse
into a narrow cone as an unconstrained map trained on InfoNCE does (linear_retrieval's vectors sit at
cosine 0.27 to their targets on the pairs into e5_small), and its output is centred on B's training mean,
so its vectors stay in B's region of the space.

W stays orthogonal through training by construction: torch's orthogonal parametrization with the Cayley
map (``torch.nn.utils.parametrizations.orthogonal``). When d_A ≠ d_B, W is semi-orthogonal (orthonormal
columns if d_B > d_A, orthonormal rows if d_B < d_A), as Procrustes' is.

``whiten`` (a shrinkage in [0, 1], or null for none) maps both spaces through ZCA whitening before the
rotation and colours the result back into B (Maiorca et al., "Latent space translation via semantic
alignment", NeurIPS 2023): ŷ = μ_B + s · C_B^{1/2} W C_A^{-1/2} (z_A − μ_A), each covariance shrunk
towards its mean eigenvalue by ``whiten`` (1: scalar covariances, the plain map again up to a scale).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import orthogonal

from embtrans.errors import UserError

SCALES = ("learned", "fixed")
ORTHOGONAL_INITS = ("procrustes", "random")


def shrunk_covariance(centred: Tensor, shrinkage: float) -> Tensor:
    """(1 − shrinkage) · C + shrinkage · (trace C / d) · I, with C the rows' covariance (float64)."""
    covariance = centred.T @ centred / max(1, len(centred) - 1)
    mean_eigenvalue = covariance.trace() / len(covariance)
    identity = torch.eye(len(covariance), dtype=covariance.dtype, device=covariance.device)
    return (1 - shrinkage) * covariance + shrinkage * mean_eigenvalue * identity


def matrix_power_symmetric(matrix: Tensor, power: float) -> Tensor:
    """M^power for a symmetric positive semi-definite M; eigenvalues at rounding level count as that level."""
    eigenvalues, vectors = torch.linalg.eigh(matrix)
    floor = eigenvalues.max().clamp(min=0) * len(matrix) * torch.finfo(matrix.dtype).eps
    return (vectors * eigenvalues.clamp(min=float(floor)) ** power) @ vectors.T


class OrthogonalTranslator(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, scale: str = "learned", whiten: float | None = None,
                 init: str = "procrustes") -> None:
        """``scale``: learned (trained with the rotation) or fixed (Procrustes' least-squares scale).
        ``init``: procrustes (the closed-form fit on the training split) or random (a random rotation;
        the means, whitening and scale are still fitted on the training split)."""
        super().__init__()
        if scale not in SCALES:
            raise UserError(f"arch.net.scale={scale} is not one of {', '.join(SCALES)}")
        if init not in ORTHOGONAL_INITS:
            raise UserError(f"arch.net.init={init} is not one of {', '.join(ORTHOGONAL_INITS)} for an orthogonal map")
        if whiten is not None and not 0 <= float(whiten) <= 1:
            raise UserError(f"arch.net.whiten={whiten} must be a shrinkage in [0, 1], or null for no whitening")
        self.init, self.scale_mode = init, scale
        self.whiten = None if whiten is None else float(whiten)
        self.rotation = nn.Linear(in_dim, out_dim, bias=False)
        # Cayley: a few times faster than the matrix exponential for non-square maps on CPU, and far
        # faster than Householder reflections (the default for non-square), at the same guarantee.
        orthogonal(self.rotation, orthogonal_map="cayley")
        log_scale = torch.zeros(())
        if scale == "learned":
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_scale", log_scale)
        self.register_buffer("source_mean", torch.zeros(in_dim))
        self.register_buffer("target_mean", torch.zeros(out_dim))
        if self.whiten is not None:
            self.register_buffer("source_whitening", torch.eye(in_dim))
            self.register_buffer("target_colouring", torch.eye(out_dim))

    @property
    def weight(self) -> Tensor:
        """W, (d_B, d_A): orthonormal columns or rows, whatever training did."""
        return self.rotation.weight

    def forward(self, source: Tensor) -> Tensor:
        centred = source - self.source_mean
        if self.whiten is not None:
            centred = centred @ self.source_whitening
        rotated = self.rotation(centred)
        if self.whiten is not None:
            rotated = rotated @ self.target_colouring
        return self.target_mean + self.log_scale.exp() * rotated

    @torch.no_grad()
    def start(self, x_train: Tensor, y_train: Tensor) -> dict:
        """Fit the means, the whitening, and (init=procrustes) the Procrustes rotation and its least-squares
        scale on the training pairs, in float64; return what was fitted."""
        x, y = x_train.to(torch.float64), y_train.to(torch.float64)
        x_mean, y_mean = x.mean(0), y.mean(0)
        xc, yc = x - x_mean, y - y_mean
        colouring = None
        if self.whiten is not None:
            whitening = matrix_power_symmetric(shrunk_covariance(xc, self.whiten), -0.5)
            target_cov = shrunk_covariance(yc, self.whiten)
            colouring = matrix_power_symmetric(target_cov, 0.5)
            xc_w, yc_w = xc @ whitening, yc @ matrix_power_symmetric(target_cov, -0.5)
            self.source_whitening.copy_(whitening)
            self.target_colouring.copy_(colouring)
        else:
            xc_w, yc_w = xc, yc
        if self.init == "procrustes":
            u, _, vt = torch.linalg.svd(yc_w.T @ xc_w, full_matrices=False)
            rotation = u @ vt
        else:
            rotation = self.weight.detach().to(torch.float64)  # the parametrization's random start
        predicted = xc_w @ rotation.T
        if colouring is not None:
            predicted = predicted @ colouring
        norm = predicted.square().sum()
        if norm == 0:
            raise UserError("train: the source vectors are all equal, so no scale can be fitted")
        scale = float((predicted * yc).sum() / norm)  # least squares for this rotation
        if scale <= 0:
            raise UserError(f"train: the fitted rotation anti-correlates with B (scale {scale:.3g}); "
                            "use arch.net.init=procrustes")
        self.rotation.weight = rotation.to(self.weight.dtype)
        self.log_scale.fill_(math.log(scale))
        self.source_mean.copy_(x_mean)
        self.target_mean.copy_(y_mean)
        return {"init": self.init, "scale": scale, "whiten": self.whiten}
