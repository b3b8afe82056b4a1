"""Deterministic train / val / test assignment by group, from a seeded hash.

Hashing the group name (not drawing from an RNG) makes a text's side independent of which other
texts are present: the same for every model, for every ``limit``, and across library versions.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from embtrans.data.text_dataset import TextDataset
from embtrans.errors import UserError


def unit_hash(values: pd.Series, seed: int, salt: str) -> np.ndarray:
    """A number in [0, 1) per value, stable across processes and platforms."""
    def one(value: str) -> float:
        digest = hashlib.blake2b(f"{seed}\x1f{salt}\x1f{value}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    unique = values.astype(str).unique()
    lookup = {value: one(value) for value in unique}
    return values.astype(str).map(lookup).to_numpy(dtype=np.float64)


def assign_splits(groups: pd.Series, test_fraction: float, val_fraction: float, seed: int) -> np.ndarray:
    """'test' for about ``test_fraction`` of the groups; 'val' for about ``val_fraction`` of the rest."""
    if not 0 < test_fraction < 1 or not 0 <= val_fraction < 1:
        raise UserError(
            f"split fractions must lie in (0, 1): got test_fraction={test_fraction}, val_fraction={val_fraction}"
        )
    test = unit_hash(groups, seed, "test") < test_fraction
    # The validation slice is carved from train with its own hash, so the test side never moves.
    val = ~test & (unit_hash(groups, seed, "val") < val_fraction)
    return np.where(test, "test", np.where(val, "val", "train"))


def limit_groups(dataset: TextDataset, limit: int | None, seed: int) -> TextDataset:
    """At most ``limit`` texts, as whole groups taken in a seeded hash order.

    The order does not depend on ``limit``, so a smaller subset is contained in a larger one
    (and reuses its cached embeddings).
    """
    if limit is None:
        return dataset
    if limit < 1:
        raise UserError(f"dataset.limit must be a positive number of texts or null, not {limit}")
    texts = dataset.texts
    sizes = texts.groupby("group", sort=False).size()
    order = sizes.index[np.argsort(unit_hash(sizes.index.to_series(), seed, "limit"), kind="stable")]
    cumulative = sizes.loc[order].cumsum()
    chosen = set(order[cumulative.to_numpy() <= limit]) or {order[0]}
    return dataset.subset(texts["group"].isin(chosen))
