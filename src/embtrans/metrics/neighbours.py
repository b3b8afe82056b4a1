"""Do the translated vectors keep each text's nearest neighbours from the native space?

The reference space is native B, the candidate is A translated into B, and row i is the same
text in both. Each space gets its own cosine k-NN lists; the lists are then compared row by row.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch
from torchmetrics import Metric
from torchmetrics.utilities.data import dim_zero_cat

# Rows per block of the (n, n) similarity matrix: about 4M float64 (32 MB) at a time.
_BLOCK_ELEMENTS = 4_000_000
# Neighbour lists kept by content (see knn_indices): the native space's, and a few translators'.
_MEMO_SIZE = 4
_KNN_MEMO: OrderedDict[tuple[str, int], torch.Tensor] = OrderedDict()


def to_float64(vectors: np.ndarray | torch.Tensor) -> torch.Tensor:
    """A (n, d) CPU float64 tensor from a numpy array (any view: one with negative strides, x[::-1], which
    torch.as_tensor refuses, is copied) or tensor (float32 in real use)."""
    if isinstance(vectors, np.ndarray):
        vectors = np.ascontiguousarray(vectors)  # no copy when it already is
    tensor = torch.as_tensor(vectors).detach().to(device="cpu", dtype=torch.float64)
    if tensor.ndim != 2:
        raise ValueError(f"Expected a (n, d) matrix, got shape {tuple(tensor.shape)}.")
    return tensor


def unit_rows(vectors: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Rows scaled to length 1; a zero row stays zero, so its cosine with anything is 0, not NaN."""
    x = to_float64(vectors)
    norms = x.norm(dim=1, keepdim=True)
    return x / torch.where(norms > 0, norms, torch.ones_like(norms))


def row_blocks(n_rows: int, n_cols: int) -> list[slice]:
    """Row slices that keep each (rows, n_cols) block near _BLOCK_ELEMENTS."""
    step = max(1, _BLOCK_ELEMENTS // max(1, n_cols))
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def knn_indices(vectors: np.ndarray | torch.Tensor, k: int) -> torch.Tensor:
    """The k most cosine-similar other rows of each row, most similar first; ties go to the lower index.

    The last few results are kept by the vectors' content: an analysis compares every translator of
    a pair against the same native vectors, whose neighbours are then searched once.
    """
    x = unit_rows(vectors)
    key = (content_key(x), k)
    if key not in _KNN_MEMO:
        _KNN_MEMO[key] = _knn_indices(x, k)
        while len(_KNN_MEMO) > _MEMO_SIZE:
            _KNN_MEMO.popitem(last=False)
    _KNN_MEMO.move_to_end(key)
    return _KNN_MEMO[key].clone()


def content_key(x: torch.Tensor) -> str:
    """A digest of a tensor's values and shape (what the memos of repeated reference work are keyed by)."""
    array = np.ascontiguousarray(x.numpy())
    return hashlib.blake2b(array.data, digest_size=16, key=str(array.shape).encode()[:64]).hexdigest()


def _knn_indices(x: torch.Tensor, k: int) -> torch.Tensor:
    """The k most cosine-similar other rows of each row, most similar first; ties go to the lower index."""
    n = x.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and n - 1 = {n - 1} (a row is not its own neighbour), got k={k}.")
    out = torch.empty((n, k), dtype=torch.long)
    for rows in row_blocks(n, n):
        sims = x[rows] @ x.T
        own = torch.arange(rows.start, rows.stop)
        sims[own - rows.start, own] = -math.inf
        out[rows] = top_k_stable(sims, k)
    return out


def top_k_stable(sims: torch.Tensor, k: int) -> torch.Tensor:
    """The columns of each row's k largest values, largest first, equal values in column order: what a
    stable descending sort's first k columns are, at the cost of a top-k (faster: benchmarks/analysis_cost.py;
    docs/performance.md).

    topk promises nothing about ties, so its k columns are put in (value, column) order, and the rare
    row with a tie across the k-th value (more columns than k reach it) is sorted in full.
    """
    values, columns = torch.topk(sims, k, dim=1)  # largest first
    tied = (sims >= values[:, -1:]).sum(dim=1) > k
    by_column = columns.sort(dim=1).indices
    columns, values = columns.gather(1, by_column), values.gather(1, by_column)
    columns = columns.gather(1, torch.sort(values, dim=1, descending=True, stable=True).indices)
    if tied.any():
        columns[tied] = torch.sort(sims[tied], dim=1, descending=True, stable=True).indices[:, :k]
    return columns


def _check_pair(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    nn_ref, nn_cand = torch.as_tensor(nn_ref), torch.as_tensor(nn_cand)
    if nn_ref.shape != nn_cand.shape or nn_ref.ndim != 2 or nn_ref.shape[1] == 0:
        raise ValueError(
            f"Neighbour lists must both be (n, k), k >= 1; got {tuple(nn_ref.shape)} and {tuple(nn_cand.shape)}."
        )
    return nn_ref, nn_cand


def _matches(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> torch.Tensor:
    """(n, k, k) booleans: entry [i, a, b] says ref position a and cand position b hold the same item.

    A neighbour list never repeats an item, so every row has at most one match per position.
    """
    return nn_ref.unsqueeze(2) == nn_cand.unsqueeze(1)


def _overlap(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> torch.Tensor:
    return _matches(nn_ref, nn_cand).sum(dim=(1, 2)).double()


def jaccard_per_row(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> torch.Tensor:
    """|A ∩ B| / |A ∪ B| of the two neighbour sets, per row."""
    nn_ref, nn_cand = _check_pair(nn_ref, nn_cand)
    both = _overlap(nn_ref, nn_cand)
    return both / (2 * nn_ref.shape[1] - both)


def jaccard_at_k(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> float:
    """Mean over rows of |A ∩ B| / |A ∪ B| of the two neighbour sets."""
    return float(jaccard_per_row(nn_ref, nn_cand).mean())


def mutual_knn_per_row(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> torch.Tensor:
    """|A ∩ B| / k per row (the mutual k-NN alignment of the platonic-representation paper)."""
    nn_ref, nn_cand = _check_pair(nn_ref, nn_cand)
    return _overlap(nn_ref, nn_cand) / nn_ref.shape[1]


def mutual_knn(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> float:
    """Mean over rows of |A ∩ B| / k (the mutual k-NN alignment of the platonic-representation paper)."""
    return float(mutual_knn_per_row(nn_ref, nn_cand).mean())


def _prefix_agreement(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> torch.Tensor:
    """(n, k) float64: A_d = |top-d of ref ∩ top-d of cand| / d for d = 1..k, per row."""
    nn_ref, nn_cand = _check_pair(nn_ref, nn_cand)
    k = nn_ref.shape[1]
    # An item at ref position a and cand position b joins both prefixes at depth max(a, b) + 1, so
    # the overlap at depth d counts the shared items whose max(a, b) < d.
    matches = _matches(nn_ref, nn_cand)
    shared = matches.any(dim=2).double()
    depth = torch.maximum(torch.arange(k), matches.byte().argmax(dim=2))
    new_at_depth = torch.zeros(nn_ref.shape, dtype=torch.float64).scatter_add_(1, depth, shared)
    return new_at_depth.cumsum(dim=1) / torch.arange(1, k + 1, dtype=torch.float64)


def rbo_per_row(nn_ref: torch.Tensor, nn_cand: torch.Tensor, p: float = 0.9) -> torch.Tensor:
    """RBO_ext of Webber, Moffat & Zobel (2010, eq. 32) for two lists of length k, per row.

    RBO_ext = A_k p^k + (1 - p) / p · sum_{d=1..k} A_d p^d, with A_d the overlap of the two top-d
    prefixes divided by d: the extrapolation that assumes the agreement seen at depth k goes on.
    This is the RBO the ``rbo`` package, ir-measures and papers report. Identical lists score 1,
    disjoint lists 0.
    """
    agreement = _prefix_agreement(nn_ref, nn_cand)
    k = agreement.shape[1]
    powers = torch.tensor(p, dtype=torch.float64) ** torch.arange(1, k + 1, dtype=torch.float64)
    return agreement[:, -1] * powers[-1] + (1 - p) / p * (agreement @ powers)


def rank_biased_overlap(nn_ref: torch.Tensor, nn_cand: torch.Tensor, p: float = 0.9) -> float:
    """RBO_ext (see rbo_per_row), mean over rows."""
    return float(rbo_per_row(nn_ref, nn_cand, p).mean())


def normalised_rbo_per_row(nn_ref: torch.Tensor, nn_cand: torch.Tensor, p: float = 0.9) -> torch.Tensor:
    """sum_d p^(d-1) A_d / sum_d p^(d-1) over d = 1..k, per row (reported as rbo_normalised@k).

    A weighted mean of the prefix agreements; not Webber et al.'s RBO (see rbo_per_row), so its
    numbers cannot be compared with published RBO values. Kept for earlier analyses.
    """
    agreement = _prefix_agreement(nn_ref, nn_cand)
    weights = torch.tensor(p, dtype=torch.float64) ** torch.arange(agreement.shape[1], dtype=torch.float64)
    return (agreement @ weights) / weights.sum()


def normalised_truncated_rbo(nn_ref: torch.Tensor, nn_cand: torch.Tensor, p: float = 0.9) -> float:
    """normalised_rbo_per_row, mean over rows."""
    return float(normalised_rbo_per_row(nn_ref, nn_cand, p).mean())


def edit_distance_per_row(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> torch.Tensor:
    """The Levenshtein distance between the ordered lists divided by k, per row.

    0 means identical lists; 1 that every position needs an edit (e.g. disjoint lists). Each table
    cell of the DP is computed for every row at once.
    """
    nn_ref, nn_cand = _check_pair(nn_ref, nn_cand)
    ref, cand = nn_ref.numpy(), nn_cand.numpy()
    n, k = ref.shape
    # The classic DP, one table row at a time.
    previous = np.tile(np.arange(k + 1, dtype=np.int64), (n, 1))
    for i in range(1, k + 1):
        current = np.empty_like(previous)
        current[:, 0] = i
        for j in range(1, k + 1):
            substitute = previous[:, j - 1] + (ref[:, i - 1] != cand[:, j - 1])
            current[:, j] = np.minimum(np.minimum(previous[:, j], current[:, j - 1]) + 1, substitute)
        previous = current
    return torch.from_numpy(previous[:, k] / k)


def knn_edit_distance(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> float:
    """Mean over rows of the Levenshtein distance between the ordered lists, divided by k."""
    return float(edit_distance_per_row(nn_ref, nn_cand).mean())


def knn_edit_similarity(nn_ref: torch.Tensor, nn_cand: torch.Tensor) -> float:
    """1 - knn_edit_distance: the edit-distance k-NN similarity as platonic-rep reports it
    (``edit_distance_knn`` in its metrics.py: 1 - mean distance / k), higher is closer."""
    return 1 - knn_edit_distance(nn_ref, nn_cand)


def chance_jaccard(n_items: int, k: int) -> float:
    """Expected Jaccard of two independent uniformly random k-subsets of n_items items.

    The overlap is hypergeometric: P(x) = C(k, x) C(n_items - k, k - x) / C(n_items, k).
    """
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be between 1 and n_items = {n_items}, got k={k}.")
    total = math.comb(n_items, k)
    expected = 0.0
    for x in range(max(0, 2 * k - n_items), k + 1):
        # Exact integers, then one correctly rounded division each: no overflow for any n.
        expected += math.comb(k, x) * math.comb(n_items - k, k - x) / total * x / (2 * k - x)
    return expected


def neighbourhood_agreement_per_text(
    reference: np.ndarray | torch.Tensor,
    candidate: np.ndarray | torch.Tensor,
    ks: Sequence[int] = (10,),
    rbo_p: float = 0.9,
) -> dict[str, np.ndarray]:
    """Every neighbour score at each k, per row (text): what a bootstrap over texts resamples."""
    reference, candidate = to_float64(reference), to_float64(candidate)
    if reference.shape[0] != candidate.shape[0]:
        raise ValueError(f"Both spaces must hold the same n rows, got {reference.shape[0]} and {candidate.shape[0]}.")
    ks = sorted({int(k) for k in ks})
    if not ks:
        raise ValueError("ks must name at least one k.")
    # The top-k list is a prefix of the top-(max k) list, ties included, so one search serves every k.
    nn_ref, nn_cand = knn_indices(reference, ks[-1]), knn_indices(candidate, ks[-1])
    scores: dict[str, np.ndarray] = {}
    for k in ks:
        ref, cand = nn_ref[:, :k], nn_cand[:, :k]
        scores[f"jaccard@{k}"] = jaccard_per_row(ref, cand).numpy()
        scores[f"mutual_knn@{k}"] = mutual_knn_per_row(ref, cand).numpy()
        scores[f"rbo@{k}"] = rbo_per_row(ref, cand, p=rbo_p).numpy()
        scores[f"rbo_normalised@{k}"] = normalised_rbo_per_row(ref, cand, p=rbo_p).numpy()
        scores[f"knn_edit_similarity@{k}"] = 1 - edit_distance_per_row(ref, cand).numpy()
    return scores


def neighbourhood_agreement(
    reference: np.ndarray | torch.Tensor,
    candidate: np.ndarray | torch.Tensor,
    ks: Sequence[int] = (10,),
    rbo_p: float = 0.9,
) -> dict[str, float]:
    """Every neighbour score at each k (mean over texts), with the Jaccard two random neighbour lists would get."""
    return agreement_means(neighbourhood_agreement_per_text(reference, candidate, ks, rbo_p), ks)


def agreement_means(per_text: dict[str, np.ndarray], ks: Sequence[int]) -> dict[str, float]:
    """neighbourhood_agreement_per_text's scores averaged over texts, with the Jaccard two random
    neighbour lists of the same n would get at each k."""
    scores = {name: float(values.mean()) for name, values in per_text.items()}
    n = len(next(iter(per_text.values())))
    for k in sorted({int(k) for k in ks}):
        scores[f"chance_jaccard@{k}"] = chance_jaccard(n - 1, k)
    return scores


class NeighbourhoodAgreement(Metric):
    """neighbourhood_agreement as a torchmetrics Metric: k-NN needs the whole set, so rows are kept."""

    full_state_update = False
    is_differentiable = False
    higher_is_better = True

    reference: list[torch.Tensor]
    candidate: list[torch.Tensor]

    def __init__(self, ks: Sequence[int] = (10,), rbo_p: float = 0.9, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ks = tuple(ks)
        self.rbo_p = rbo_p
        self.add_state("reference", default=[], dist_reduce_fx="cat")
        self.add_state("candidate", default=[], dist_reduce_fx="cat")

    def update(self, candidate: torch.Tensor, reference: torch.Tensor) -> None:
        candidate, reference = torch.as_tensor(candidate), torch.as_tensor(reference)
        if candidate.shape[0] != reference.shape[0]:
            raise ValueError(
                f"A batch needs as many candidate as reference rows, got {candidate.shape[0]} and {reference.shape[0]}."
            )
        self.candidate.append(candidate)
        self.reference.append(reference)

    def compute(self) -> dict[str, float]:
        return neighbourhood_agreement(
            dim_zero_cat(self.reference), dim_zero_cat(self.candidate), ks=self.ks, rbo_p=self.rbo_p
        )
