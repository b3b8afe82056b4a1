"""The 80/20 split is stable, identical whatever else is present, and never splits a group."""

import numpy as np
import pytest

from embtrans.data.split import assign_splits, limit_groups
from embtrans.errors import UserError


def test_split_is_stable_and_keeps_groups_whole(rotten_tomatoes):
    groups = rotten_tomatoes.texts["group"]
    split = assign_splits(groups, 0.2, 0.1, seed=0)
    assert np.array_equal(split, assign_splits(groups, 0.2, 0.1, seed=0))
    sides = rotten_tomatoes.texts.assign(split=split).groupby("group")["split"].nunique()
    assert (sides == 1).all()
    by_id = dict(zip(rotten_tomatoes.texts["id"], split))
    assert all(by_id[q] == by_id[p] for q, ps in rotten_tomatoes.relevance.items() for p in ps)


def test_split_fractions_are_close_to_asked(rotten_tomatoes):
    split = assign_splits(rotten_tomatoes.texts["group"].drop_duplicates(), 0.2, 0.1, seed=0)
    assert abs((split == "test").mean() - 0.2) < 0.03
    assert abs((split == "val").mean() - 0.08) < 0.03  # 10 % of the remaining 80 %


def test_a_texts_side_does_not_depend_on_other_texts(rotten_tomatoes):
    groups = rotten_tomatoes.texts["group"]
    full = assign_splits(groups, 0.2, 0.1, seed=0)
    half = assign_splits(groups[::2], 0.2, 0.1, seed=0)
    assert np.array_equal(full[::2], half)


def test_seed_changes_the_split(rotten_tomatoes):
    groups = rotten_tomatoes.texts["group"]
    assert not np.array_equal(assign_splits(groups, 0.2, 0.1, 0), assign_splits(groups, 0.2, 0.1, 1))


def test_limit_takes_whole_groups_and_nests(rotten_tomatoes):
    small, large = limit_groups(rotten_tomatoes, 500, 0), limit_groups(rotten_tomatoes, 2000, 0)
    assert 0 < len(small) <= 500 and len(small) < len(large) <= 2000
    assert set(small.texts["id"]) <= set(large.texts["id"])
    full_sizes = rotten_tomatoes.texts.groupby("group").size()
    small_sizes = small.texts.groupby("group").size()
    assert small_sizes.equals(full_sizes.loc[small_sizes.index])
    assert all(q in set(small.texts["id"]) for q in small.relevance)


def test_bad_limit_and_fractions_are_clear_errors(rotten_tomatoes):
    with pytest.raises(UserError, match="dataset.limit"):
        limit_groups(rotten_tomatoes, 0, 0)
    with pytest.raises(UserError, match="test_fraction"):
        assign_splits(rotten_tomatoes.texts["group"], 1.5, 0.1, 0)
