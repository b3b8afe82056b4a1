"""Confidence intervals for multi-seed studies, and paired comparisons between translators.

A translator's score on one model pair is an array of per-item scores, one row per training seed. Three sources of
noise matter: which test items were drawn, which seeds were trained, and which model pairs were studied.
`seed_interval` covers seeds alone (a t interval over per-seed means); `bootstrap` covers items and seeds together,
conditional on the pairs studied ("on these pairs"); with ``across_pairs`` it is hierarchical, resampling the pairs
first and then each drawn pair's items and seeds: the interval for a claim about translators across model pairs.
Items that are not independent (queries about one passage) are resampled as clusters. Arrays of one pair share
items (and seed indices), so resampling them together keeps comparisons paired: a difference between two
translators is judged against the item-to-item variation of the difference, not of each score.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

LEVEL = 0.95

# Elements of one block of the (replicates, items) resample-count matrix: ~16 MB of float64, so memory stays bounded
# however many items a pair has. Smaller blocks fit the cache better but mean more BLAS calls, and each call can stall
# for a scheduler tick when another process holds a core; a few per pair is the measured compromise.
_BLOCK_ELEMENTS = 2_000_000

Statistic = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval; nan bounds when none can be computed."""

    estimate: float
    low: float
    high: float
    level: float = LEVEL
    method: str = ""

    def excludes(self, value: float = 0.0) -> bool:
        """True when `value` lies outside [low, high]; False when the bounds are nan (nothing is excluded)."""
        return bool(value < self.low or value > self.high)

    def as_dict(self, prefix: str) -> dict[str, float]:
        return {prefix: self.estimate, f"{prefix}_low": self.low, f"{prefix}_high": self.high}


@dataclass(frozen=True)
class Comparison:
    """A paired comparison: the effect of (first - second), its interval on these pairs (``difference``) and
    across pairs (``across``: nan bounds for fewer than MIN_PAIRS_ACROSS pairs), and how many pairs agree in sign."""

    difference: Interval
    verdict: str
    strata_higher: int
    strata_lower: int
    sign_p_value: float
    across: Interval = Interval(math.nan, math.nan, math.nan)
    across_verdict: str = "no clear difference"


# A percentile bootstrap over fewer pairs than this has too few distinct resamples to mean anything.
MIN_PAIRS_ACROSS = 3


# --- Intervals over seeds ------------------------------------------------------------------------------------------


def _drop_nan(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    return array[~np.isnan(array)]


def seed_std(values: Sequence[float]) -> float:
    """Standard deviation over seeds (ddof=1); nan for fewer than 2 non-NaN values."""
    array = _drop_nan(values)
    return float(np.std(array, ddof=1)) if array.size >= 2 else math.nan


def seed_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """Mean over seeds with a Student-t interval (scipy.stats.t), std with ddof=1. One value: low = high = nan.
    NaN values are dropped first; no values: estimate nan."""
    _check_level(level)
    array = _drop_nan(values)
    if array.size == 0:
        return Interval(math.nan, math.nan, math.nan, level, "no seeds")
    mean = float(array.mean())
    if array.size == 1:
        return Interval(mean, math.nan, math.nan, level, "1 seed: no interval")
    half_width = scipy_stats.t.ppf((1 + level) / 2, df=array.size - 1) * seed_std(array) / math.sqrt(array.size)
    return Interval(mean, float(mean - half_width), float(mean + half_width), level, f"t over {array.size} seeds")


# --- Paired bootstrap over items and seeds ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stratum:
    """One pair's arrays, validated and without NaN items: every array's seed rows stacked into one matrix, so one
    matrix product gives every array's per-replicate item means."""

    rows: np.ndarray  # (all arrays' seed rows, n_items)
    slices: dict[str, slice]  # each array's rows within `rows`
    n_seeds: int  # seeds of the multi-seed arrays; 1 when every array has a single row
    clusters: np.ndarray | None = None  # each item's cluster, 0..n_clusters-1; None: every item its own

    @property
    def n_items(self) -> int:
        return self.rows.shape[1]

    @property
    def n_clusters(self) -> int:
        return self.n_items if self.clusters is None else int(self.clusters.max()) + 1


def _as_seed_rows(name: str, value: np.ndarray) -> np.ndarray:
    """An array as (n_seeds, n_items) float64: a 1-D array is one seed."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"array {name!r} must be (n_seeds, n_items) or (n_items,), with a seed row, not {array.shape}")
    return array


def _prepare_stratum(index: int, stratum: Mapping[str, np.ndarray], clusters: Sequence | None = None) -> _Stratum | None:
    """Validate one stratum and drop items that are NaN in any array; None when nothing is left to resample.
    ``clusters`` labels each item with its cluster (any hashable values), or is None."""
    arrays = {name: _as_seed_rows(name, value) for name, value in stratum.items()}
    if not arrays:
        return None
    shapes = ", ".join(f"{name} {array.shape}" for name, array in arrays.items())
    if len({array.shape[1] for array in arrays.values()}) > 1:
        raise ValueError(f"stratum {index}: arrays must share their items (n_items), got {shapes}")
    seed_counts = {array.shape[0] for array in arrays.values() if array.shape[0] > 1}
    if len(seed_counts) > 1:
        # Row i of every array is one seed, so arrays with different seeds cannot be paired by position.
        raise ValueError(f"stratum {index}: multi-seed arrays must have the same number of seeds, got {shapes}: "
                         "align them by seed first (row i of every array the same seed), keeping the seeds all share")
    rows = np.concatenate(list(arrays.values()), axis=0)
    kept = ~np.isnan(rows).any(axis=0)
    rows = rows[:, kept]
    if rows.shape[1] == 0:
        return None
    codes = None
    if clusters is not None:
        labels = np.asarray(clusters)
        if labels.shape != (kept.size,):
            raise ValueError(f"stratum {index}: clusters must label each of its {kept.size} items, got {labels.shape}")
        codes = np.unique(labels[kept], return_inverse=True)[1].ravel()
    slices, start = {}, 0
    for name, array in arrays.items():
        slices[name] = slice(start, start + array.shape[0])
        start += array.shape[0]
    return _Stratum(rows, slices, seed_counts.pop() if seed_counts else 1, codes)


def _prepare_strata(strata: Sequence[Mapping[str, np.ndarray]],
                    clusters: Sequence[Sequence | None] | None = None) -> list[_Stratum]:
    if clusters is not None and len(clusters) != len(strata):
        raise ValueError(f"clusters must be given per stratum: {len(clusters)} for {len(strata)} strata")
    labels = clusters if clusters is not None else [None] * len(strata)
    prepared = (_prepare_stratum(index, stratum, label) for index, (stratum, label) in enumerate(zip(strata, labels)))
    return [stratum for stratum in prepared if stratum is not None]


# Resample counts already drawn, by the generator state they were drawn from: an analysis bootstraps every
# metric of a translator (and every translator of a pair) from the same seed over the same items, so the same
# draws recur hundreds of times. A hit also moves the generator on to where drawing would have left it, so the
# results are exactly those of drawing anew. A few entries: each is (replicates, n) float64, ~26 MB at 3,200 items.
_COUNTS_MEMO: OrderedDict[tuple, tuple[np.ndarray, dict]] = OrderedDict()
_COUNTS_MEMO_SIZE = 6


def _resample_counts(rng: np.random.Generator, n: int, replicates: int) -> np.ndarray:
    """How often each of n units is drawn in each replicate's resample with replacement: (replicates, n) float64.

    The same distribution as rng.multinomial(n, [1/n] * n, size=replicates), drawn as uniform indices and counted,
    because numpy's multinomial draws one binomial per cell and is ~7x slower at thousands of items. Read-only.
    """
    key = (repr(rng.bit_generator.state), n, replicates)
    if key in _COUNTS_MEMO:
        counts, after = _COUNTS_MEMO[key]
        rng.bit_generator.state = after
        _COUNTS_MEMO.move_to_end(key)
        return counts
    draws = rng.integers(0, n, size=(replicates, n))
    draws += (np.arange(replicates) * n)[:, np.newaxis]  # one bincount for all rows: row r counts into [r*n, r*n+n)
    counts = np.bincount(draws.ravel(), minlength=replicates * n).reshape(replicates, n).astype(np.float64)
    counts.flags.writeable = False
    _COUNTS_MEMO[key] = (counts, rng.bit_generator.state)
    while len(_COUNTS_MEMO) > _COUNTS_MEMO_SIZE:
        _COUNTS_MEMO.popitem(last=False)
    return counts


def _evaluate(statistic: Statistic, means: Mapping[str, np.ndarray], size: int) -> np.ndarray:
    """The statistic on `size` replicates of means, as a (size,) float array."""
    values = np.asarray(statistic(means), dtype=np.float64)
    try:
        return np.broadcast_to(values, (size,))
    except ValueError:
        message = f"statistic must return one value per replicate, shape ({size},), not {values.shape}"
        raise ValueError(message) from None


def _point_statistic(stratum: _Stratum, statistic: Statistic) -> float:
    """The statistic on the plain means of each array (over all its seeds and items)."""
    means = {name: np.array([stratum.rows[rows].mean()]) for name, rows in stratum.slices.items()}
    return float(_evaluate(statistic, means, 1)[0])


def _seed_mean(item_means: np.ndarray, seed_counts: np.ndarray | None) -> np.ndarray:
    """Per-replicate mean over seeds of (n_seeds, B) item means: weighted by resampled seed counts (B, n_seeds)
    for a multi-seed array when seeds are resampled, else plain."""
    if seed_counts is None or item_means.shape[0] == 1:
        return item_means.mean(axis=0)
    return np.einsum("sb,bs->b", item_means, seed_counts) / item_means.shape[0]


def _replicate_statistic(
    stratum: _Stratum, statistic: Statistic, replicates: int, rng: np.random.Generator, resample_seeds: bool
) -> np.ndarray:
    """The statistic on each of `replicates` resamples of one stratum: (replicates,).

    Every array of the stratum gets the same item counts and the same seed counts, which is what pairs them.
    Items and seeds come from two streams spawned from `rng`, so the item resamples do not depend on whether seeds
    are resampled too: the two choices are compared on the same item resamples.
    """
    item_rng, seed_rng = rng.spawn(2)
    block = max(1, _BLOCK_ELEMENTS // stratum.n_items)
    values = []
    for start in range(0, replicates, block):
        size = min(block, replicates - start)
        if stratum.clusters is None:
            item_counts = _resample_counts(item_rng, stratum.n_items, size)
            item_means = stratum.rows @ item_counts.T / stratum.n_items  # (rows, size)
        else:  # whole clusters are drawn: each item weighs as often as its cluster was drawn
            item_counts = _resample_counts(item_rng, stratum.n_clusters, size)[:, stratum.clusters]
            item_means = stratum.rows @ item_counts.T / item_counts.sum(axis=1)
        resampled = resample_seeds and stratum.n_seeds > 1
        seed_counts = _resample_counts(seed_rng, stratum.n_seeds, size) if resampled else None
        means = {name: _seed_mean(item_means[rows], seed_counts) for name, rows in stratum.slices.items()}
        values.append(_evaluate(statistic, means, size))
    return np.concatenate(values)


def _percentile_bounds(values: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of the finite replicate values; nan when fewer than half of them are finite, since the
    surviving ones would then be a biased remnant of the bootstrap distribution."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.size < values.size / 2:
        return math.nan, math.nan
    low, high = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2], method="linear")
    return float(low), float(high)


def _describe(strata: list[_Stratum], replicates: int, resample_seeds: bool, across_pairs: bool = False) -> str:
    pairs = "1 pair's" if len(strata) == 1 else f"{len(strata)} pairs'"
    items = f"test items ({sum(s.n_items for s in strata)} in all)"
    if any(s.clusters is not None for s in strata):
        items = (f"test items in clusters ({sum(s.n_clusters for s in strata)} clusters of "
                 f"{sum(s.n_items for s in strata)} items)")
    text = (f"hierarchical bootstrap over {len(strata)} pairs, then each drawn pair's {items}" if across_pairs
            else f"bootstrap over {pairs} {items}")
    seed_counts = sorted({s.n_seeds for s in strata if s.n_seeds > 1})
    if seed_counts:
        seeds = str(seed_counts[0]) if len(seed_counts) == 1 else f"{seed_counts[0]}-{seed_counts[-1]}"
        text += f" and {seeds} seeds" if resample_seeds else f", means over {seeds} seeds (not resampled)"
    return f"{text}, {replicates} resamples"


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, not {level}")


def bootstrap(
    strata: Sequence[Mapping[str, np.ndarray]],
    statistic: Callable[[Mapping[str, np.ndarray]], np.ndarray],
    *,
    replicates: int = 2000,
    seed: int = 0,
    level: float = LEVEL,
    resample_seeds: bool = True,
    clusters: Sequence[Sequence | None] | None = None,
    across_pairs: bool = False,
) -> Interval:
    """Percentile bootstrap of `statistic`, averaged over strata (model pairs), resampling each stratum's items
    and, with `resample_seeds`, its seeds, the same way for all of the stratum's arrays (a paired bootstrap).

    Each stratum maps names to (n_seeds, n_items) or (n_items,) arrays; row i of every multi-seed array of a
    stratum must be the same seed (the caller aligns them), and a one-row array counts for every seed (a
    deterministic fit, or a reference). `statistic` maps each name to its per-replicate means, (B,), and returns
    (B,) values. Items that are NaN in any array of a stratum are dropped from all of them; strata left empty are
    skipped. Replicates with a non-finite value are dropped. `clusters` (one label array per stratum, or None for
    a stratum whose items are independent) makes the resampling draw whole clusters. `across_pairs` also resamples
    the strata themselves (a hierarchical bootstrap): the interval of a claim across pairs, nan for fewer than
    MIN_PAIRS_ACROSS strata.
    """
    return bootstrap_both(strata, statistic, replicates=replicates, seed=seed, level=level,
                          resample_seeds=resample_seeds, clusters=clusters)[1 if across_pairs else 0]


def bootstrap_both(
    strata: Sequence[Mapping[str, np.ndarray]],
    statistic: Callable[[Mapping[str, np.ndarray]], np.ndarray],
    *,
    replicates: int = 2000,
    seed: int = 0,
    level: float = LEVEL,
    resample_seeds: bool = True,
    clusters: Sequence[Sequence | None] | None = None,
) -> tuple[Interval, Interval, list[_Stratum]]:
    """bootstrap()'s interval on these pairs and its interval across pairs, from the same per-pair replicates
    (each is what bootstrap() returns alone), with the strata they were taken over."""
    _check_level(level)
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, not {replicates}")
    prepared = _prepare_strata(strata, clusters)
    if not prepared:
        nothing = Interval(math.nan, math.nan, math.nan, level, "bootstrap over no test items")
        return nothing, nothing, prepared
    estimate = float(np.mean([_point_statistic(stratum, statistic) for stratum in prepared]))
    rng = np.random.default_rng(seed)  # one generator, drawn stratum by stratum in order: reproducible
    per_stratum = np.array([_replicate_statistic(stratum, statistic, replicates, rng, resample_seeds)
                            for stratum in prepared])  # (pairs, replicates)
    low, high = _percentile_bounds(per_stratum.mean(axis=0), level)
    within = Interval(estimate, low, high, level, _describe(prepared, replicates, resample_seeds))
    if len(prepared) < MIN_PAIRS_ACROSS:
        across = Interval(estimate, math.nan, math.nan, level,
                          f"{len(prepared)} pair(s): too few for an interval across pairs")
    else:
        # Its own stream, so the items' and seeds' draws are those of the interval on these pairs. A pair drawn
        # twice in one replicate brings that replicate's item resample twice, not two independent ones: the
        # between-pair spread, which dominates, is resampled exactly; the within-pair part a little less.
        pair_counts = _resample_counts(np.random.default_rng([seed, len(prepared)]), len(prepared), replicates)
        low, high = _percentile_bounds(np.einsum("rp,pr->r", pair_counts, per_stratum) / len(prepared), level)
        across = Interval(estimate, low, high, level, _describe(prepared, replicates, resample_seeds, across_pairs=True))
    return within, across, prepared


# --- Paired comparisons -------------------------------------------------------------------------------------------


def _verdict(difference: Interval) -> str:
    if difference.low > 0:
        return "higher"
    if difference.high < 0:
        return "lower"
    return "no clear difference"  # the interval includes 0, or could not be computed


def _sign_test(higher: int, lower: int) -> float:
    """Two-sided sign test over strata with a nonzero effect: do pairs agree on the direction more than chance?"""
    if higher + lower == 0:
        return math.nan
    return float(scipy_stats.binomtest(higher, higher + lower, 0.5).pvalue)


def compare(
    strata: Sequence[Mapping[str, np.ndarray]],
    statistic: Callable[[Mapping[str, np.ndarray]], np.ndarray],
    *,
    replicates: int = 2000,
    seed: int = 0,
    level: float = LEVEL,
    resample_seeds: bool = True,
    clusters: Sequence[Sequence | None] | None = None,
) -> Comparison:
    """Paired comparison: the bootstrap of a difference statistic (which must be 0 for no effect) on these pairs
    and across pairs, plus per-stratum signs, so a verdict can say how large the effect is, whether it holds
    beyond the pairs studied, and how many pairs share its direction."""
    within, across, prepared = bootstrap_both(strata, statistic, replicates=replicates, seed=seed, level=level,
                                              resample_seeds=resample_seeds, clusters=clusters)
    estimates = np.array([_point_statistic(stratum, statistic) for stratum in prepared])
    higher, lower = int(np.sum(estimates > 0)), int(np.sum(estimates < 0))
    return Comparison(within, _verdict(within), higher, lower, _sign_test(higher, lower), across, _verdict(across))
