"""Intervals against independent references: a t quantile computed elsewhere, scipy's percentile bootstrap, a
slow loop-per-replicate bootstrap, and simulated coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from embtrans.stats import intervals
from embtrans.stats.intervals import LEVEL, Comparison, Interval, bootstrap, compare, seed_interval, seed_std

T_975_DF2 = 4.302652729749464  # Student t 97.5 % quantile with 2 degrees of freedom, from a t table / R's qt


def mean_of(name: str):
    return lambda means: means[name]


def width(interval: Interval) -> float:
    return interval.high - interval.low


def ratio(means):
    return means["x"] / means["native"]


def x_minus_y(means):
    return means["x"] - means["y"]


def non_negative(means):
    """The mean where it is >= 0, else nan: a statistic undefined for some replicates."""
    return np.where(means["x"] >= 0, means["x"], np.nan)


# --- Interval and seed intervals -----------------------------------------------------------------------------------


def test_interval_excludes_and_as_dict():
    interval = Interval(0.5, 0.2, 0.8)
    assert interval.level == LEVEL
    assert interval.excludes(0.0) and interval.excludes(0.9)
    assert not interval.excludes(0.2) and not interval.excludes(0.5)
    assert not Interval(0.5, math.nan, math.nan).excludes(0.0)
    assert interval.as_dict("ndcg") == {"ndcg": 0.5, "ndcg_low": 0.2, "ndcg_high": 0.8}


def test_seed_interval_is_a_t_interval():
    interval = seed_interval([1, 2, 3])
    half_width = T_975_DF2 * 1.0 / math.sqrt(3)  # std of 1, 2, 3 with ddof=1 is 1
    assert interval.estimate == pytest.approx(2.0)
    assert interval.low == pytest.approx(2.0 - half_width, rel=1e-12)
    assert interval.high == pytest.approx(2.0 + half_width, rel=1e-12)
    assert interval.method == "t over 3 seeds"


def test_seed_interval_with_one_or_no_values():
    one = seed_interval([0.7])
    assert one.estimate == 0.7 and math.isnan(one.low) and math.isnan(one.high)
    assert seed_interval([0.7, math.nan]).estimate == 0.7
    assert math.isnan(seed_interval([]).estimate) and math.isnan(seed_interval([math.nan]).estimate)


def test_seed_interval_drops_nan():
    assert seed_interval([1, math.nan, 2, 3]) == seed_interval([1, 2, 3])


def test_seed_std_uses_ddof_1():
    assert seed_std([1, 2, 3, 4]) == pytest.approx(math.sqrt(5 / 3))
    assert seed_std([2, math.nan, 4]) == pytest.approx(math.sqrt(2))
    assert math.isnan(seed_std([1.0])) and math.isnan(seed_std([1.0, math.nan]))


# --- Bootstrap against references --------------------------------------------------------------------------------


def test_one_seed_mean_matches_scipy_percentile_bootstrap():
    x = np.random.default_rng(1).exponential(size=400)  # skewed, so a symmetric interval would be wrong
    resamples = 100_000  # Monte Carlo error of each bound ~0.2 % of the width, so 1 % is a real check
    ours = bootstrap([{"x": x}], mean_of("x"), replicates=resamples, seed=2)
    reference = scipy.stats.bootstrap(
        (x,), np.mean, method="percentile", n_resamples=resamples, batch=10_000, rng=np.random.default_rng(3)
    ).confidence_interval
    assert ours.estimate == pytest.approx(x.mean(), rel=1e-12)
    assert abs(ours.low - reference.low) < 0.01 * width(ours)
    assert abs(ours.high - reference.high) < 0.01 * width(ours)
    assert ours.method == "bootstrap over 1 pair's test items (400 in all), 100000 resamples"


def slow_bootstrap(strata, statistic, replicates, rng):
    """One replicate at a time, resampling by index: the definition, with no count matrices."""
    values = np.empty(replicates)
    for b in range(replicates):
        per_stratum = []
        for stratum in strata:
            n_items = next(iter(stratum.values())).shape[-1]
            items = rng.integers(0, n_items, n_items)
            seeds = rng.integers(0, 3, 3)
            means = {
                name: np.atleast_2d(array)[seeds if array.ndim == 2 else [0]][:, items].mean()
                for name, array in stratum.items()
            }
            per_stratum.append(statistic(means))
        values[b] = np.mean(per_stratum)
    return np.quantile(values, [0.025, 0.975])


def test_matches_a_loop_per_replicate_reference_over_strata_and_seeds():
    rng = np.random.default_rng(4)
    strata = []
    for n_items in (150, 90):
        native = rng.uniform(0.5, 1.0, n_items)
        # Three seeds differing by a seed effect, so seed resampling matters for the width.
        x = native * rng.uniform(0.6, 0.9, n_items) + rng.normal(0, 0.03, (3, 1))
        strata.append({"x": x, "native": native})
    ours = bootstrap(strata, ratio, replicates=10_000, seed=5)
    reference_low, reference_high = slow_bootstrap(strata, ratio, 10_000, np.random.default_rng(6))
    assert abs(ours.low - reference_low) < 0.05 * width(ours)
    assert abs(ours.high - reference_high) < 0.05 * width(ours)
    assert ours.method == "bootstrap over 2 pairs' test items (240 in all) and 3 seeds, 10000 resamples"


def test_ratio_estimate_is_the_ratio_of_means():
    rng = np.random.default_rng(7)
    native = rng.uniform(0.5, 1.0, 200)
    x = native[np.newaxis, :] * rng.uniform(0.5, 1.0, (3, 200))
    interval = bootstrap([{"x": x, "native": native}], ratio, replicates=200)
    assert interval.estimate == x.mean() / native.mean()
    assert interval.low < interval.estimate < interval.high


def test_coverage_of_the_mean_is_near_the_level():
    rng = np.random.default_rng(8)
    true_mean, covered, trials = 3.0, 0, 200
    for trial in range(trials):
        sample = rng.normal(true_mean, 2.0, 100)
        interval = bootstrap([{"x": sample}], mean_of("x"), replicates=1000, seed=trial)
        covered += interval.low <= true_mean <= interval.high
    assert 0.90 <= covered / trials <= 0.99


# --- Pairing ----------------------------------------------------------------------------------------------------


def test_paired_difference_is_far_narrower_than_the_means():
    rng = np.random.default_rng(9)
    x = rng.normal(0.5, 1.0, 500)  # large item-to-item variation, shared by both translators
    y = x + 0.05 + rng.normal(0, 0.01, 500)
    difference = bootstrap([{"x": x, "y": y}], lambda m: m["y"] - m["x"], seed=10)
    mean_x = bootstrap([{"x": x}], mean_of("x"), seed=10)
    mean_y = bootstrap([{"y": y}], mean_of("y"), seed=11)
    assert difference.excludes(0.0) and difference.low > 0
    assert width(difference) < 0.05 * min(width(mean_x), width(mean_y))
    assert mean_x.high > mean_y.low  # unpaired, the two means' intervals overlap


def test_paired_difference_of_pure_noise_includes_zero():
    rng = np.random.default_rng(12)
    x = rng.normal(0.5, 1.0, 500)
    noise = rng.normal(0, 0.01, 500)
    y = x + (noise - noise.mean())  # zero-mean noise, exactly, so there is no effect to find
    difference = bootstrap([{"x": x, "y": y}], lambda m: m["y"] - m["x"], seed=13)
    assert not difference.excludes(0.0)


# --- Seeds ------------------------------------------------------------------------------------------------------


def test_seed_resampling_widens_the_interval_when_seeds_differ():
    base = np.random.default_rng(14).normal(0.5, 0.2, 300)
    offsets = base + np.array([[0.0], [0.1], [0.2]])
    with_seeds = bootstrap([{"x": offsets}], mean_of("x"), seed=15, resample_seeds=True)
    without_seeds = bootstrap([{"x": offsets}], mean_of("x"), seed=15, resample_seeds=False)
    assert width(with_seeds) > 1.5 * width(without_seeds)
    assert with_seeds.estimate == without_seeds.estimate == pytest.approx(base.mean() + 0.1)
    assert "and 3 seeds" in with_seeds.method and "(not resampled)" in without_seeds.method


def test_seed_resampling_changes_nothing_when_seeds_agree():
    identical = np.tile(np.random.default_rng(16).normal(0.5, 0.2, 300), (3, 1))
    with_seeds = bootstrap([{"x": identical}], mean_of("x"), seed=17, resample_seeds=True)
    without_seeds = bootstrap([{"x": identical}], mean_of("x"), seed=17, resample_seeds=False)
    assert width(with_seeds) == pytest.approx(width(without_seeds), rel=1e-9)


def test_seeds_are_paired_across_arrays():
    # y is x plus 0.1 seed by seed; seed effects are large, so only pairing seed i with seed i keeps the difference
    # at exactly 0.1.
    rng = np.random.default_rng(18)
    x = rng.normal(0.5, 0.05, 300) + np.array([[0.0], [0.5], [1.0]])
    difference = bootstrap([{"x": x, "y": x + 0.1}], lambda m: m["y"] - m["x"], seed=19)
    assert difference.low == pytest.approx(0.1) and difference.high == pytest.approx(0.1)


# --- Strata, validation, NaN --------------------------------------------------------------------------------------


def test_estimate_is_the_mean_over_strata_of_each_statistic():
    rng = np.random.default_rng(20)
    strata = [{"x": rng.uniform(0, 1, (2, n)), "native": rng.uniform(1, 2, n)} for n in (50, 80, 120)]
    interval = bootstrap(strata, ratio, replicates=100)
    expected = np.mean([stratum["x"].mean() / stratum["native"].mean() for stratum in strata])
    assert interval.estimate == pytest.approx(expected, rel=1e-12)


def test_items_must_match_within_a_stratum():
    with pytest.raises(ValueError, match=r"stratum 1.*n_items.*x \(2, 10\), y \(2, 11\)"):
        bootstrap([{"x": np.ones(5)}, {"x": np.ones((2, 10)), "y": np.ones((2, 11))}], mean_of("x"))


def test_multi_seed_arrays_must_share_their_seeds():
    with pytest.raises(ValueError, match=r"same number of seeds.*x \(3, 10\), y \(2, 10\)"):
        bootstrap([{"x": np.ones((3, 10)), "y": np.ones((2, 10)), "native": np.ones(10)}], mean_of("x"))


def test_one_seed_arrays_mix_with_multi_seed_arrays():
    x = np.random.default_rng(21).uniform(0, 1, (3, 40))
    interval = bootstrap([{"x": x, "native": np.ones((1, 40)), "other": np.full(40, 2.0)}], mean_of("x"))
    assert interval.estimate == pytest.approx(x.mean())


def test_statistic_must_return_one_value_per_replicate():
    with pytest.raises(ValueError, match=r"one value per replicate"):
        bootstrap([{"x": np.ones(10)}], lambda m: np.ones(3), replicates=5)


def test_nan_items_are_dropped_from_every_array_of_the_stratum():
    rng = np.random.default_rng(22)
    x, y = rng.normal(size=(3, 60)), rng.normal(size=60)
    x_with_nan, y_with_nan = x.copy(), y.copy()
    x_with_nan[1, 7] = np.nan  # one seed missing an item removes the item from every array
    y_with_nan[30] = np.nan
    keep = np.setdiff1d(np.arange(60), [7, 30])
    with_nan = bootstrap([{"x": x_with_nan, "y": y_with_nan}], x_minus_y, replicates=300, seed=23)
    dropped = bootstrap([{"x": x[:, keep], "y": y[keep]}], x_minus_y, replicates=300, seed=23)
    assert with_nan == dropped
    assert not math.isnan(with_nan.estimate)


def test_empty_strata_are_skipped_and_no_strata_give_nan():
    x = np.random.default_rng(24).normal(size=50)
    alone = bootstrap([{"x": x}], mean_of("x"), replicates=300)
    with_empty = bootstrap([{"x": np.full(20, np.nan)}, {"x": x}, {}], mean_of("x"), replicates=300)
    assert with_empty == alone
    nothing = bootstrap([{"x": np.full(5, np.nan)}], mean_of("x"))
    assert math.isnan(nothing.estimate) and math.isnan(nothing.low) and math.isnan(nothing.high)
    assert math.isnan(bootstrap([], mean_of("x")).estimate)


def test_non_finite_replicates_are_dropped_unless_most_are():
    noise = np.random.default_rng(25).normal(size=400)
    centred = noise - noise.mean()
    standard_error = centred.std() / math.sqrt(400)
    # Mean at +2 standard errors: about 2 % of replicates fall below 0 and are dropped; the bounds survive.
    mostly_finite = bootstrap([{"x": centred + 2 * standard_error}], non_negative, seed=26)
    assert 0 <= mostly_finite.low < mostly_finite.high
    # Mean at -2 standard errors: about 98 % are dropped, too few for bounds.
    mostly_nan = bootstrap([{"x": centred - 2 * standard_error}], non_negative, seed=26)
    assert math.isnan(mostly_nan.low) and math.isnan(mostly_nan.high)


def test_same_seed_same_interval_other_seed_other_interval():
    rng = np.random.default_rng(27)
    strata = [{"x": rng.normal(size=(3, 70)), "y": rng.normal(size=(3, 70))} for _ in range(2)]
    first = bootstrap(strata, x_minus_y, replicates=500, seed=28)
    assert bootstrap(strata, x_minus_y, replicates=500, seed=28) == first
    assert bootstrap(strata, x_minus_y, replicates=500, seed=29) != first


def test_replicates_drawn_in_blocks_give_the_same_interval(monkeypatch):
    # Blocks bound memory; drawing them must not change what the bootstrap estimates.
    x = np.random.default_rng(30).exponential(size=200)
    monkeypatch.setattr(intervals, "_BLOCK_ELEMENTS", 10**9)
    whole = bootstrap([{"x": x}], mean_of("x"), replicates=20_000, seed=31)
    monkeypatch.setattr(intervals, "_BLOCK_ELEMENTS", 200 * 3000)  # blocks of 3000 replicates, the last one short
    blocked = bootstrap([{"x": x}], mean_of("x"), replicates=20_000, seed=32)
    assert abs(blocked.low - whole.low) < 0.05 * width(whole)
    assert abs(blocked.high - whole.high) < 0.05 * width(whole)


def test_the_analysis_sized_case_is_vectorised():
    # 6 pairs x 4 arrays of 3 seeds x 3000 items, 2000 resamples: well under a second when no Python loop runs per
    # replicate (a loop would take minutes).
    rng = np.random.default_rng(33)
    strata = [{name: rng.uniform(0, 1, (3, 3000)) for name in ("a", "b", "c", "d")} for _ in range(6)]
    interval = bootstrap(strata, lambda m: (m["a"] - m["b"]) / m["c"] + m["d"])
    assert interval.low < interval.estimate < interval.high
    assert interval.method == "bootstrap over 6 pairs' test items (18000 in all) and 3 seeds, 2000 resamples"


# --- compare ------------------------------------------------------------------------------------------------------


def planted_strata(offsets, seed):
    """One stratum per offset: y = x + offset on every item, x with large item-to-item variation."""
    rng = np.random.default_rng(seed)
    strata = []
    for offset in offsets:
        x = rng.normal(0.5, 0.3, (3, 200))
        strata.append({"x": x, "y": x + offset})
    return strata


def test_compare_finds_a_planted_improvement():
    strata = planted_strata([0.1] * 4, seed=34)
    comparison = compare(strata, lambda m: m["y"] - m["x"], replicates=500)
    assert isinstance(comparison, Comparison)
    assert comparison.verdict == "higher"
    assert comparison.difference.estimate == pytest.approx(0.1)
    assert (comparison.strata_higher, comparison.strata_lower) == (4, 0)
    assert comparison.sign_p_value == pytest.approx(scipy.stats.binomtest(4, 4, 0.5).pvalue)
    assert compare(strata, lambda m: m["x"] - m["y"], replicates=500).verdict == "lower"


def test_compare_counts_signs_and_skips_zero_effects():
    strata = planted_strata([0.1, 0.2, -0.05, 0.0, 0.1], seed=35)
    comparison = compare(strata, lambda m: m["y"] - m["x"], replicates=500)
    assert (comparison.strata_higher, comparison.strata_lower) == (3, 1)
    assert comparison.sign_p_value == pytest.approx(scipy.stats.binomtest(3, 4, 0.5).pvalue)


def test_compare_finds_no_difference_in_noise():
    rng = np.random.default_rng(36)
    strata = []
    for _ in range(4):
        x = rng.normal(0.5, 0.3, (3, 200))
        noise = rng.normal(0, 0.05, (3, 200))
        strata.append({"x": x, "y": x + noise - noise.mean()})  # zero mean effect in every stratum
    comparison = compare(strata, lambda m: m["y"] - m["x"], replicates=500, seed=37)
    assert comparison.verdict == "no clear difference"
    assert not comparison.difference.excludes(0.0)


def test_compare_with_no_nonzero_stratum_has_no_sign_test():
    comparison = compare(planted_strata([0.0, 0.0], seed=38), lambda m: m["y"] - m["x"], replicates=200)
    assert comparison.verdict == "no clear difference"
    assert (comparison.strata_higher, comparison.strata_lower) == (0, 0)
    assert math.isnan(comparison.sign_p_value)
