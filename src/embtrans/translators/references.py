"""Stronger closed-form references: regularised CCA as a reduced-rank map, and a mixture of local
Procrustes maps routed by k-means centroids.

Like the translators in closed_form.py, each has ``forward(source)`` and ``fit(x_train, y_train,
x_val, y_val) -> dict``: ``fit`` takes whole float32 tensors, solves in float64, chooses its settings
by validation MSE and copies the result into its weights (in the module's dtype).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits
from torch import Tensor, nn

from embtrans.errors import UserError
from embtrans.translators.closed_form import ProcrustesTranslator, check_pairs, checked_and_centred

F64 = torch.float64


def mse(predicted: Tensor, target: Tensor) -> float:
    return float(((predicted - target) ** 2).mean())


def numbers(values: Sequence, what: str, rule: str, ok) -> tuple[float, ...]:
    """The grid as floats, or one UserError naming the setting and what it must be."""
    grid = tuple(float(v) for v in values)
    if not grid or not all(ok(v) for v in grid):
        raise UserError(f"{what} must be a non-empty list of {rule}, got {list(values)}")
    return grid


class CCATranslator(nn.Module):
    """z_B ≈ μ_B + (z_A − μ_A) W, W of rank k, from regularised canonical correlation analysis.

    With Cxx, Cyy, Cxy the (centred) covariances, each ridged by r times its mean eigenvalue
    (Cxx_r = Cxx + r·trace(Cxx)/d_A·I, like lstsq's α), the SVD Cxx_r^{-1/2} Cxy Cyy_r^{-1/2} = U Σ Vᵀ
    gives A's canonical directions Cxx_r^{-1/2} U, B's Cyy_r^{-1/2} V and the canonical correlations Σ.
    The map keeps the first k pairs: project onto A's directions, scale by the correlations (the best
    prediction of B's canonical variates), and map back to B's coordinates (Cov(v, y) = Vᵀ Cyy_r^{1/2}):

        W = Cxx_r^{-1/2} U_k Σ_k V_kᵀ Cyy_r^{1/2}

    This is reduced-rank regression with weight Cyy_r^{-1}. At full rank U Σ Vᵀ is the whole
    whitened Cxy, so W = Cxx_r^{-1} Cxy: ridge least squares (lstsq with α = r), and r = 0 gives
    ordinary least squares (minimum-norm when Cxx is singular). k and r are chosen on the
    validation split.
    """

    def __init__(self, in_dim: int, out_dim: int, rank_fractions: Sequence[float], ridges: Sequence[float]) -> None:
        """``rank_fractions``: the grid of ranks as fractions of min(d_A, d_B) (1.0 is full rank);
        ``ridges``: the grid of ridge strengths. Both from conf/arch/cca.yaml."""
        super().__init__()
        fractions = numbers(rank_fractions, "rank_fractions", "fractions of min(d_A, d_B) in (0, 1]",
                            lambda f: 0 < f <= 1)
        self.ridges = numbers(ridges, "ridges", "ridge strengths >= 0", lambda r: r >= 0)
        full = min(in_dim, out_dim)
        self.ranks = tuple(sorted({max(1, round(f * full)) for f in fractions}))
        self.map = nn.Linear(in_dim, out_dim)
        self.register_buffer("rank", torch.tensor(-1))  # -1: not fitted
        self.register_buffer("ridge", torch.tensor(float("nan")))

    def forward(self, source: Tensor) -> Tensor:
        return self.map(source)

    @torch.no_grad()
    def fit(self, x_train: Tensor, y_train: Tensor, x_val: Tensor, y_val: Tensor) -> dict:
        xc, x_mean, yc, y_mean = checked_and_centred(x_train, y_train, x_val, y_val, self.map)
        # Gram matrices stand in for covariances: the 1/n cancels in both U Σ Vᵀ and W. One
        # eigendecomposition of each serves every ridge (as in lstsq).
        x_eig, x_vectors, x_unit = self._spectrum(xc)
        y_eig, y_vectors, y_unit = self._spectrum(yc)
        cross = x_vectors.T @ (xc.T @ yc) @ y_vectors  # Cxy in both eigenbases
        val_x = (x_val.to(F64) - x_mean) @ x_vectors
        val_y = y_val.to(F64) - y_mean

        def factors(ridge: float) -> tuple[Tensor, Tensor]:
            """W = x_vectors @ left @ right, column / row i of left / right holding canonical pair i."""
            x_reg, y_reg = x_eig + ridge * x_unit, y_eig + ridge * y_unit
            # Without a ridge, null directions (eigenvalue 0) get weight 0: pinv's rule.
            x_inv_sqrt = torch.where(x_reg > 0, x_reg.clamp(min=1e-300).rsqrt(), 0)
            y_inv_sqrt = torch.where(y_reg > 0, y_reg.clamp(min=1e-300).rsqrt(), 0)
            u, correlations, vt = torch.linalg.svd(x_inv_sqrt[:, None] * cross * y_inv_sqrt, full_matrices=False)
            left = x_inv_sqrt[:, None] * u * correlations  # A's canonical directions × Σ, in x's eigenbasis
            right = (vt * y_reg.sqrt()) @ y_vectors.T  # back into B's coordinates: (m, d_B)
            return left, right

        val_mse, solutions = {}, {}
        for ridge in self.ridges:
            left, right = solutions[ridge] = factors(ridge)
            val_variates = val_x @ left
            for rank in self.ranks:
                val_mse[ridge, rank] = mse(val_variates[:, :rank] @ right[:rank], val_y)
        # Ties go to the simpler map: the larger ridge, then the lower rank.
        order = sorted(val_mse, key=lambda rr: (-rr[0], rr[1]))
        ridge, rank = min(order, key=val_mse.__getitem__)
        left, right = solutions[ridge]
        weight = (x_vectors @ left[:, :rank] @ right[:rank]).T
        self.map.weight.copy_(weight)
        self.map.bias.copy_(y_mean - weight @ x_mean)
        self.rank.fill_(rank)
        self.ridge.fill_(ridge)
        return {"rank": rank, "ridge": ridge,
                "val_mse": {str(r): {str(k): val_mse[r, k] for k in self.ranks} for r in self.ridges}}

    @staticmethod
    def _spectrum(centred_rows: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Eigenvalues (rounding-level ones set to 0), eigenvectors and the mean eigenvalue of XᵀX."""
        gram = centred_rows.T @ centred_rows
        eigenvalues, vectors = torch.linalg.eigh(gram)
        rank_tol = eigenvalues.max().clamp(min=0) * max(centred_rows.shape) * torch.finfo(F64).eps
        eigenvalues = torch.where(eigenvalues > rank_tol, eigenvalues, 0)
        return eigenvalues, vectors, gram.trace() / gram.shape[0]


def route(source: Tensor, centroids: Tensor, spread: float) -> Tensor:
    """(rows, clusters) mixing weights: softmax of −‖x − c‖² / spread, or the nearest centroid
    alone when spread is 0. ‖x‖² is the same for every centroid, so it is left out of the logits:
    2x·c − ‖c‖² keeps the softmax and the argmax, and avoids cancelling two large numbers in float32."""
    # Outside any bf16 autocast: rounding the logits would move vectors across cluster borders.
    with torch.autocast(source.device.type, enabled=False):
        logits = 2 * source @ centroids.T.to(source.dtype) - centroids.square().sum(dim=1).to(source.dtype)
    if spread > 0:
        return torch.softmax(logits / spread, dim=1)
    return nn.functional.one_hot(logits.argmax(dim=1), len(centroids)).to(source.dtype)


def mixture(source: Tensor, centroids: Tensor, weight: Tensor, bias: Tensor, spread: float) -> Tensor:
    """Σ_j route_j(x) · (W_j x + b_j), one cluster at a time (no rows × clusters × d_B tensor)."""
    routing = route(source, centroids, spread)
    out = 0
    for j in range(len(centroids)):
        out = out + routing[:, j:j + 1] * (source @ weight[j].T + bias[j])
    return out


class LocalProcrustesTranslator(nn.Module):
    """A soft mixture of scaled Procrustes maps, one per k-means cluster of the A vectors.

    k-means (seeded) splits A's training vectors into K clusters; cluster j gets its own
    z_B ≈ s_j W_j z_A + b_j with W_j (semi-)orthogonal, fitted as ProcrustesTranslator on that
    cluster's pairs. A cluster with fewer than ``min_pairs_per_dim`` × min(d_A, d_B) pairs (too few to
    pin down a rotation in every direction) uses the global Procrustes map instead. A vector is
    translated by every map, mixed with weights softmax_j(−‖x − c_j‖² / (T·σ²)), where σ² is the
    mean squared distance of the training vectors to their centroid (so T does not depend on the
    scale of the embeddings) and T = 0 routes each vector to its nearest centroid only. K = 1 is
    global Procrustes. K and T are chosen on the validation split.

    The centroids and maps are buffers / parameters sized for the largest K of the grid (the first K
    rows in use), so ``state_dict()`` loads into a fresh instance built with the same settings.
    """

    def __init__(self, in_dim: int, out_dim: int, n_clusters: Sequence[int], temperatures: Sequence[float],
                 min_pairs_per_dim: float = 2.0, seed: int = 0, n_init: int = 3) -> None:
        """From conf/arch/local_procrustes.yaml: the grids of cluster counts and temperatures, the
        smallest cluster (per dimension) that gets its own map, and the k-means seed and restarts
        (the fit's own seed, not the run's: a closed-form fit is the same run for every seed)."""
        super().__init__()
        self.n_clusters_grid = tuple(int(k) for k in numbers(n_clusters, "n_clusters", "whole numbers >= 1",
                                                             lambda k: k >= 1 and k == int(k)))
        self.temperatures = numbers(temperatures, "temperatures", "temperatures >= 0", lambda t: t >= 0)
        if not min_pairs_per_dim >= 1:
            raise UserError(f"min_pairs_per_dim must be >= 1 (a cluster needs more pairs than dimensions to "
                            f"fix a rotation), got {min_pairs_per_dim}")
        if int(n_init) != n_init or n_init < 1:
            raise UserError(f"n_init must be a whole number >= 1, got {n_init}")
        self.min_pairs = math.ceil(min_pairs_per_dim * min(in_dim, out_dim))
        self.seed, self.n_init = int(seed), int(n_init)
        slots = max(self.n_clusters_grid)
        self.in_dim, self.out_dim = in_dim, out_dim
        self.weight = nn.Parameter(torch.zeros(slots, out_dim, in_dim))  # s_j W_j
        self.bias = nn.Parameter(torch.zeros(slots, out_dim))
        self.register_buffer("centroids", torch.zeros(slots, in_dim))
        self.register_buffer("n_clusters", torch.tensor(0))  # clusters in use; 0: not fitted
        self.register_buffer("temperature", torch.tensor(float("nan")))
        self.register_buffer("spread", torch.tensor(float("nan")))  # T·σ², the softmax's divisor

    def forward(self, source: Tensor) -> Tensor:
        k = int(self.n_clusters)
        if k == 0:  # not fitted yet: the first slot's map, as any net answers before training
            return nn.functional.linear(source, self.weight[0], self.bias[0])
        return mixture(source, self.centroids[:k], self.weight[:k], self.bias[:k], float(self.spread))

    @torch.no_grad()
    def fit(self, x_train: Tensor, y_train: Tensor, x_val: Tensor, y_val: Tensor) -> dict:
        check_pairs(x_train, y_train, self.in_dim, self.out_dim, "train")
        check_pairs(x_val, y_val, self.in_dim, self.out_dim, "val")
        if max(self.n_clusters_grid) > len(x_train):
            raise UserError(f"n_clusters={max(self.n_clusters_grid)} needs at least as many training rows, "
                            f"but there are {len(x_train)}: lower arch.net.n_clusters")
        x, y = x_train.to(F64), y_train.to(F64)
        x_val, y_val = x_val.to(F64), y_val.to(F64)
        global_map = procrustes(x, y)  # raises a UserError when the sources are all equal
        val_mse, fitted = {}, {}
        for k in self.n_clusters_grid:
            centroids, labels, spread = self._clusters(x, k)
            maps = [procrustes(x[labels == j], y[labels == j]) if self._enough(x[labels == j]) else global_map
                    for j in range(k)]
            weight, bias = torch.stack([m[0] for m in maps]), torch.stack([m[1] for m in maps])
            fallbacks = sum(m is global_map for m in maps) if k > 1 else 0
            fitted[k] = centroids, weight, bias, spread, fallbacks
            for t in self.temperatures:
                val_mse[k, t] = mse(mixture(x_val, centroids, weight, bias, t * spread), y_val)
        # Ties go to the simpler map: fewer clusters, then the smoother routing.
        order = sorted(val_mse, key=lambda kt: (kt[0], -kt[1]))
        k, t = min(order, key=val_mse.__getitem__)
        centroids, weight, bias, spread, fallbacks = fitted[k]
        for stored, value in ((self.centroids, centroids), (self.weight, weight), (self.bias, bias)):
            stored.zero_()  # the slots past k stay unused
            stored[:k].copy_(value)
        self.n_clusters.fill_(k)
        self.temperature.fill_(t)
        self.spread.fill_(t * spread)
        return {"n_clusters": k, "temperature": t, "fallback_clusters": fallbacks,
                "val_mse": {str(n): {str(temp): val_mse[n, temp] for temp in self.temperatures}
                            for n in self.n_clusters_grid}}

    def _enough(self, x: Tensor) -> bool:
        """Enough pairs for a map of its own: at least min_pairs, and not all the same source."""
        return len(x) >= max(self.min_pairs, 2) and not bool((x == x[0]).all())

    def _clusters(self, x: Tensor, k: int) -> tuple[Tensor, Tensor, float]:
        """Centroids (k, d_A), each row's cluster, and σ²: the mean squared distance to its centroid."""
        if k == 1:
            centroids, labels = x.mean(dim=0, keepdim=True), torch.zeros(len(x), dtype=torch.long, device=x.device)
        else:
            # k-means runs on the CPU with as many threads as torch may use (cores / n_jobs in a sweep).
            with threadpool_limits(limits=torch.get_num_threads()):
                kmeans = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.seed).fit(x.cpu().numpy())
            centroids = torch.from_numpy(kmeans.cluster_centers_).to(x)
            labels = torch.from_numpy(kmeans.labels_).to(x.device, torch.long)
        return centroids, labels, float((x - centroids[labels]).square().sum(dim=1).mean())


def procrustes(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """(s·W, b) of ProcrustesTranslator fitted in float64 on these pairs."""
    with torch.device("meta"):  # fit overwrites the weights: skip their random init (and the global RNG)
        translator = ProcrustesTranslator(x.shape[1], y.shape[1])
    translator.to_empty(device=x.device).to(F64).fit(x, y)
    return translator.map.weight.detach(), translator.map.bias.detach()
