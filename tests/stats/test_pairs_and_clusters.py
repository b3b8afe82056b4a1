"""The two kinds of interval on planted data: on these pairs (items and seeds resampled, pairs fixed) and across
pairs (a hierarchical bootstrap, pairs first); and items resampled as clusters when they are not independent."""

from __future__ import annotations

import numpy as np
import pytest

from embtrans.stats.intervals import MIN_PAIRS_ACROSS, bootstrap, compare


def difference(means):
    return means["a"] - means["b"]


def planted_pairs(effects, items=400, noise=0.05, seed=0):
    """One stratum per pair: b is a baseline, a = b + that pair's effect, per-item noise on both."""
    rng = np.random.default_rng(seed)
    strata = []
    for effect in effects:
        b = rng.normal(0.5, 0.2, items)
        strata.append({"a": b + effect + rng.normal(0, noise, items), "b": b + rng.normal(0, noise, items)})
    return strata


def test_a_translator_better_on_every_pair_is_better_across_pairs():
    compared = compare(planted_pairs([0.04, 0.05, 0.06, 0.05, 0.045, 0.055]), difference, replicates=1000)
    assert compared.verdict == "higher" and compared.across_verdict == "higher"
    assert compared.across.low > 0 and compared.strata_higher == 6 and compared.sign_p_value < 0.05
    assert "hierarchical bootstrap over 6 pairs" in compared.across.method


def test_better_on_only_two_of_six_pairs_holds_on_these_pairs_but_not_across_pairs():
    compared = compare(planted_pairs([0.20, 0.18, -0.02, -0.03, -0.01, -0.02]), difference, replicates=1000)
    assert compared.verdict == "higher"  # the items of these six pairs do say it
    assert compared.difference.low > 0
    assert compared.across_verdict == "no clear difference" and compared.across.low < 0 < compared.across.high
    assert compared.across.high - compared.across.low > 4 * (compared.difference.high - compared.difference.low)
    assert (compared.strata_higher, compared.strata_lower) == (2, 4) and compared.sign_p_value > 0.5


def test_both_intervals_share_the_estimate_and_the_across_one_needs_enough_pairs():
    strata = planted_pairs([0.05, 0.02, 0.08])
    within = bootstrap(strata, difference, replicates=500)
    across = bootstrap(strata, difference, replicates=500, across_pairs=True)
    assert within.estimate == across.estimate
    assert within == compare(strata, difference, replicates=500).difference  # the same draws of items
    few = bootstrap(strata[: MIN_PAIRS_ACROSS - 1], difference, replicates=500, across_pairs=True)
    assert np.isnan(few.low) and np.isnan(few.high) and "too few" in few.method


def test_across_pairs_interval_matches_a_loop_over_pairs_then_items():
    """An independent reference: draw pairs, then each drawn pair's items, one replicate at a time. The two
    differ in draws, not in distribution: their bounds agree to within Monte Carlo error."""
    strata = planted_pairs([0.10, -0.05, 0.02, 0.07, 0.0], items=200, noise=0.1)
    fast = bootstrap(strata, difference, replicates=4000, across_pairs=True)
    rng = np.random.default_rng(1)
    values = []
    for _ in range(4000):
        drawn = rng.integers(0, len(strata), len(strata))
        per_pair = []
        for p in drawn:
            pick = rng.integers(0, 200, 200)
            per_pair.append(strata[p]["a"][pick].mean() - strata[p]["b"][pick].mean())
        values.append(np.mean(per_pair))
    low, high = np.quantile(values, [0.025, 0.975])
    assert fast.low == pytest.approx(low, abs=0.01) and fast.high == pytest.approx(high, abs=0.01)


def clustered_items(clusters=60, per_cluster=20, seed=0):
    """Scores whose items share their cluster's offset (queries about one passage): not independent."""
    rng = np.random.default_rng(seed)
    offsets = rng.normal(0, 0.3, clusters)
    labels = np.repeat(np.arange(clusters), per_cluster)
    return {"x": offsets[labels] + rng.normal(0, 0.05, labels.size)}, labels


def test_the_clustered_bootstrap_widens_when_items_share_a_cluster():
    stratum, labels = clustered_items()
    items = bootstrap([stratum], lambda m: m["x"], replicates=2000)
    clustered = bootstrap([stratum], lambda m: m["x"], replicates=2000, clusters=[labels])
    assert clustered.estimate == items.estimate
    # 60 independent clusters of 20 nearly equal items: the standard error is sqrt(20)-ish times larger
    assert (clustered.high - clustered.low) > 3 * (items.high - items.low)
    assert "60 clusters of 1200 items" in clustered.method


def test_one_item_per_cluster_is_the_item_bootstrap():
    stratum, _ = clustered_items(clusters=400, per_cluster=1)
    items = bootstrap([stratum], lambda m: m["x"], replicates=4000)
    singletons = bootstrap([stratum], lambda m: m["x"], replicates=4000, clusters=[np.arange(400)[::-1]])
    assert singletons.low == pytest.approx(items.low, abs=0.004) and singletons.high == pytest.approx(items.high, abs=0.004)


def test_clusters_follow_the_items_left_after_nan_and_must_label_every_item():
    stratum, labels = clustered_items(clusters=10, per_cluster=5)
    stratum["x"][labels == 3] = np.nan  # a whole cluster without a score
    interval = bootstrap([stratum], lambda m: m["x"], replicates=200, clusters=[labels])
    assert "9 clusters of 45 items" in interval.method
    with pytest.raises(ValueError, match="clusters must label each of its 50 items"):
        bootstrap([stratum], lambda m: m["x"], clusters=[labels[:-1]])
