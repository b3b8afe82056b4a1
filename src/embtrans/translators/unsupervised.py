"""mini-vec2vec: an orthogonal map from A's space to B's fitted without a single paired text.

Dar (2025, arXiv 2510.02348), after the author's notebook (github.com/guy-dar/mini-vec2vec):

1. Each space is centred and its vectors put on the unit sphere.
2. *Anchors*: k-means in each space; the two sets of centroids are matched by the permutation that best
   agrees their (double-centred) similarity matrices, a quadratic assignment problem (scipy's 2-opt, best
   of several random starts). Repeated ``anchor_runs`` times, the matched centroids pooled.
3. *Pseudo-pairs*: every A vector is described by its cosines to A's anchors, every B vector by its
   cosines to the matched B anchors (relative representations, which live in one space); each A vector
   is paired with the mean of its ``neighbours`` nearest B vectors in that space, and Procrustes fits
   the rotation.
4. *Refinement by matching*: translate a sample of A, pair each with the mean of its nearest B vectors,
   fit Procrustes, move part way (``smoothing``). *Refinement by clustering*: k-means on A, k-means on B
   started from the translated A centroids, Procrustes between the two sets of centroids.

Choices of this implementation, beyond the paper:
- A sees the A vectors of one half of the training texts, B the B vectors of the other half
  (``disjoint_halves``): no text is on both sides.
- Each smoothed step is projected back onto the orthogonal matrices (the notebook averages two
  rotations, which is not one); the map stays a rotation throughout.
- Models of unequal dimension: both sides are reduced to d = min(d_A, d_B) by the principal axes of the
  larger side's own half, the rotation is found there, and the larger side's axes lift it back: the
  translator is semi-orthogonal, like Procrustes between unequal dimensions. A rotation needs equal
  dimensions; of the linear reductions, the principal axes keep the most of the larger space's variance
  and need no pairs.
- ``restarts`` independent fits (their own k-means and QAP draws); the one kept is the most
  self-consistent: the mean cosine of each translated held-out A vector to its nearest held-out B vector
  (``check_fraction`` of each half, never fitted on, still unpaired). No test text and no pair is used.
- A fit whose self-consistency is not clearly above that of maps that know no correspondence has found
  no alignment: fit() raises RunFailed, and the run is a failure, not a chance-level translator. Two such
  nulls, ``random_maps`` draws each, must both be beaten by ``min_z`` of their standard deviations and by
  their best draw: random rotations, and the principal axes of A matched in order to B's with random
  signs (matching the spectra makes translated vectors land near B's vectors without finding which is
  which; on Rotten Tomatoes such maps score above random rotations, and above failed alignments).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy.optimize import quadratic_assignment
from sklearn.cluster import KMeans
from torch import Tensor, nn

from embtrans.errors import RunFailed, UserError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    anchors: int = 20  # k-means centroids per anchor run
    anchor_runs: int = 10  # k-means + QAP runs whose matched centroids are pooled as anchors
    qap_starts: int = 10  # random starts of the 2-opt QAP solver per anchor run (the best is kept)
    neighbours: int = 50  # B vectors averaged into one pseudo-target
    match_iterations: int = 50  # refinement by matching
    match_sample: int = 1000  # A vectors per matching step
    clusters: int = 500  # centroids of the refinement by clustering (at most a tenth of the vectors)
    cluster_iterations: int = 1
    smoothing: float = 0.5  # weight of the previous rotation in each refinement step
    restarts: int = 3
    check_fraction: float = 0.2  # of each half, held out to score self-consistency
    random_maps: int = 20
    min_z: float = 4.0

    def check(self) -> None:
        whole = {"anchors": 2, "anchor_runs": 1, "qap_starts": 1, "neighbours": 1, "match_iterations": 0,
                 "match_sample": 1, "clusters": 2, "cluster_iterations": 0, "restarts": 1, "random_maps": 2}
        for name, least in whole.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise UserError(f"arch.net.{name}={value!r} must be a whole number >= {least}")
        if not 0 <= self.smoothing < 1:
            raise UserError(f"arch.net.smoothing={self.smoothing!r} must lie in [0, 1)")
        if not 0 < self.check_fraction < 1:
            raise UserError(f"arch.net.check_fraction={self.check_fraction!r} must lie in (0, 1)")


def disjoint_halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose A vectors are used, and rows whose B vectors are used: a seeded half each, no row in both."""
    order = np.random.default_rng([seed, 2]).permutation(n)
    a_rows, b_rows = np.sort(order[: n // 2]), np.sort(order[n // 2:])
    if np.intersect1d(a_rows, b_rows).size:  # by construction; checked because everything rests on it
        raise AssertionError("the A and B halves share texts")
    return a_rows, b_rows


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def procrustes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The rotation R minimising ‖x R − y‖ (rows are vectors)."""
    u, _, vt = np.linalg.svd(x.T.astype(np.float64) @ y.astype(np.float64))
    return u @ vt


def nearest_rotation(m: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(m)
    return u @ vt


def principal_axes(centred: np.ndarray, d: int) -> np.ndarray:
    """(D, d): the top-d principal directions of centred rows."""
    _, vectors = np.linalg.eigh(centred.T.astype(np.float64) @ centred.astype(np.float64))
    return vectors[:, ::-1][:, :d]


def double_centred(gram: np.ndarray) -> np.ndarray:
    return gram - gram.mean(0, keepdims=True) - gram.mean(1, keepdims=True) + gram.mean()


def nearest_mean(queries: np.ndarray, pool: np.ndarray, k: int) -> np.ndarray:
    """For each query row, the mean of the k pool rows most similar to it (inner product)."""
    k = min(k, len(pool))
    similarities = queries @ pool.T
    top = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
    return pool[top].mean(axis=1)


def matched_anchors(xa: np.ndarray, xb: np.ndarray, s: Settings, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Pooled k-means centroids of A and of B, row i of one matched to row i of the other."""
    anchors_a, anchors_b = [], []
    k = min(s.anchors, len(xa), len(xb))
    for _ in range(s.anchor_runs):
        centres_a = KMeans(k, n_init=1, random_state=int(rng.integers(2**31))).fit(xa).cluster_centers_
        centres_b = KMeans(k, n_init=1, random_state=int(rng.integers(2**31))).fit(xb).cluster_centers_
        kernel_a = double_centred(unit_rows(centres_a) @ unit_rows(centres_a).T)
        kernel_b = double_centred(unit_rows(centres_b) @ unit_rows(centres_b).T)
        best = max((quadratic_assignment(kernel_a, kernel_b, method="2opt",
                                         options={"maximize": True, "rng": rng})
                    for _ in range(s.qap_starts)), key=lambda result: result.fun)
        anchors_a.append(centres_a)
        anchors_b.append(centres_b[best.col_ind])
    return unit_rows(np.concatenate(anchors_a)), unit_rows(np.concatenate(anchors_b))


def initial_rotation(xa: np.ndarray, xb: np.ndarray, s: Settings, rng: np.random.Generator) -> np.ndarray:
    anchors_a, anchors_b = matched_anchors(xa, xb, s, rng)
    relative_a = unit_rows(xa @ anchors_a.T)
    relative_b = unit_rows(xb @ anchors_b.T)
    k = min(s.neighbours, len(xb))
    similarities = relative_a @ relative_b.T
    top = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
    return procrustes(xa, xb[top].mean(axis=1))


def refined(rotation: np.ndarray, xa: np.ndarray, xb: np.ndarray, s: Settings, rng: np.random.Generator) -> np.ndarray:
    for _ in range(s.match_iterations):
        sample = xa[rng.choice(len(xa), min(s.match_sample, len(xa)), replace=False)]
        step = procrustes(sample, nearest_mean(sample @ rotation, xb, s.neighbours))
        rotation = nearest_rotation(s.smoothing * rotation + (1 - s.smoothing) * step)
    clusters = min(s.clusters, len(xa) // 10, len(xb) // 10)
    for _ in range(s.cluster_iterations if clusters >= 2 else 0):
        centres_a = KMeans(clusters, n_init=1, random_state=int(rng.integers(2**31))).fit(xa).cluster_centers_
        centres_b = KMeans(clusters, init=centres_a @ rotation, n_init=1).fit(xb).cluster_centers_
        rotation = nearest_rotation(s.smoothing * rotation + (1 - s.smoothing) * procrustes(centres_a, centres_b))
    return rotation


def self_consistency(rotation: np.ndarray, check_a: np.ndarray, check_b: np.ndarray) -> float:
    """Mean cosine of each translated held-out A vector to its nearest held-out B vector (both unit rows)."""
    return float((check_a @ rotation @ check_b.T).max(axis=1).mean())


def random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-distributed: QR of a Gaussian matrix, signs fixed by R's diagonal."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def held_out(source: np.ndarray, target: np.ndarray, check_fraction: float, seed: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.random.Generator]:
    """(check_a, fit_a, check_b, fit_b): ``check_fraction`` of each side held out to score self-consistency,
    the rest to fit on; and the generator, which align() draws on next."""
    rng = np.random.default_rng([seed, 3])
    n_check_a = max(1, int(round(check_fraction * len(source))))
    n_check_b = max(1, int(round(check_fraction * len(target))))
    order_a, order_b = rng.permutation(len(source)), rng.permutation(len(target))
    return (source[order_a[:n_check_a]], source[order_a[n_check_a:]], target[order_b[:n_check_b]],
            target[order_b[n_check_b:]], rng)


def shared_axes(centred_a: np.ndarray, centred_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each side's map to d = min(d_A, d_B) dimensions: the larger side's top-d principal axes (D × d), the
    identity on the side that is already d-dimensional."""
    d = min(centred_a.shape[1], centred_b.shape[1])
    return tuple(principal_axes(c, d) if c.shape[1] > d else np.eye(c.shape[1]) for c in (centred_a, centred_b))


def align(source: np.ndarray, target: np.ndarray, s: Settings, seed: int) -> tuple[np.ndarray, dict]:
    """The rotation R (d × d) taking unit, centred source rows to target rows, from unpaired sets of equal
    dimension d, and what the fit found. Raises RunFailed when no restart beats random rotations."""
    check_a, fit_a, check_b, fit_b, rng = held_out(source, target, s.check_fraction, seed)
    n_check_a, n_check_b = len(check_a), len(check_b)
    scores, rotations = [], []
    for restart in range(s.restarts):
        restart_rng = np.random.default_rng([seed, 4, restart])
        rotation = refined(initial_rotation(fit_a, fit_b, s, restart_rng), fit_a, fit_b, s, restart_rng)
        rotations.append(rotation)
        scores.append(self_consistency(rotation, check_a, check_b))
        log.info("mini-vec2vec restart %d: self-consistency %.4f", restart, scores[-1])
    best = int(np.argmax(scores))
    found = {"restart_scores": scores, "kept_restart": best, "self_consistency": scores[best],
             "check_vectors": {"a": n_check_a, "b": n_check_b}}
    axes_a, axes_b = principal_axes(fit_a, source.shape[1]), principal_axes(fit_b, target.shape[1])
    nulls = {"random rotations": lambda: random_rotation(source.shape[1], rng),
             "principal axes matched in order, random signs": lambda: spectral_rotation(axes_a, axes_b, rng)}
    for name, draw in nulls.items():
        chance = np.array([self_consistency(draw(), check_a, check_b) for _ in range(s.random_maps)])
        z = (scores[best] - chance.mean()) / max(chance.std(ddof=1), 1e-12)
        found.setdefault("null_maps", {})[name] = {"mean": float(chance.mean()), "sd": float(chance.std(ddof=1)),
                                                   "max": float(chance.max()), "z": float(z)}
        if not (z >= s.min_z and scores[best] > chance.max()):
            raise RunFailed(
                f"the unsupervised alignment found nothing: its self-consistency on held-out training vectors, "
                f"{scores[best]:.4f}, is {z:.1f} standard deviations above that of {s.random_maps} {name} (mean "
                f"{chance.mean():.4f}, best {chance.max():.4f}); at least {s.min_z:g} and above their best are "
                f"needed. The two spaces may share too little structure for their anchors to match, or there are "
                f"too few vectors ({len(source):,} and {len(target):,})")
    return rotations[best], found


def spectral_rotation(axes_a: np.ndarray, axes_b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A's i-th principal axis onto B's i-th, each with a random sign: a map that matches the two spectra, as any
    alignment of the distributions can, without finding which text is which. Beating random rotations alone
    is easy; a found alignment must beat these too."""
    return axes_a @ np.diag(rng.choice([-1.0, 1.0], size=axes_a.shape[1])) @ axes_b.T


class MiniVec2VecTranslator(nn.Module):
    """z_B ≈ μ_B + s · W (z_A − μ_A) with W (semi-)orthogonal, fitted by ``align`` on unpaired halves.

    Like the closed forms it keeps its map in ``self.map`` (an nn.Linear), so checkpoints, ``forward``
    and evaluation are theirs. The scale s makes the translated vectors' mean squared norm (about B's
    mean) that of B's centred vectors: a property of each set, no pair needed.
    """

    def __init__(self, in_dim: int, out_dim: int, seed: int = 0, **settings) -> None:
        super().__init__()
        self.settings = Settings(**settings)
        self.settings.check()
        self.seed = int(seed)
        self.map = nn.Linear(in_dim, out_dim)

    def forward(self, source: Tensor) -> Tensor:
        return self.map(source)

    @torch.no_grad()
    def fit(self, x_train: Tensor, y_train: Tensor, x_val: Tensor | None = None, y_val: Tensor | None = None) -> dict:
        """The validation pairs are not used (they are pairs). Rows of x_train and y_train are the same
        texts; only A's half of x_train and B's half of y_train are read."""
        in_dim, out_dim = self.map.in_features, self.map.out_features
        if x_train.ndim != 2 or y_train.ndim != 2 or x_train.shape[1] != in_dim or y_train.shape[1] != out_dim:
            raise UserError(f"train: expected (rows, {in_dim}) and (rows, {out_dim}) tensors, got "
                            f"{tuple(x_train.shape)} and {tuple(y_train.shape)}")
        a_rows, b_rows = disjoint_halves(len(x_train), self.seed)
        source = x_train[a_rows].numpy().astype(np.float64)
        target = y_train[b_rows].numpy().astype(np.float64)
        if min(len(source), len(target)) < 20:
            raise UserError(f"train: {len(x_train)} texts are too few to align two spaces without pairs; raise dataset.limit")
        mean_a, mean_b = source.mean(0), target.mean(0)
        centred_a, centred_b = source - mean_a, target - mean_b
        axes_a, axes_b = shared_axes(centred_a, centred_b)
        rotation, found = align(unit_rows(centred_a @ axes_a), unit_rows(centred_b @ axes_b), self.settings, self.seed)
        weight = axes_b @ rotation.T @ axes_a.T  # (d_B, d_A): x_A -> rows' R in the reduced spaces, lifted to B
        translated_norm = np.sqrt(((centred_a @ weight.T) ** 2).sum(1).mean())
        scale = float(np.sqrt((centred_b ** 2).sum(1).mean()) / translated_norm)
        self.map.weight.copy_(torch.from_numpy(scale * weight))
        self.map.bias.copy_(torch.from_numpy(mean_b - scale * weight @ mean_a))
        kept = {side: float((np.linalg.norm(c @ axes, axis=1) ** 2).sum() / (np.linalg.norm(c, axis=1) ** 2).sum())
                for side, c, axes in (("a", centred_a, axes_a), ("b", centred_b, axes_b))}
        return {**found, "scale": scale, "texts": {"a": len(a_rows), "b": len(b_rows)}, "shared_dim": rotation.shape[0],
                "variance_kept": kept, "settings": asdict(self.settings), "paired_texts_read": 0}
