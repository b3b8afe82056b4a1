"""The texts of one run, split, with their A and B embeddings: what training and analysis share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig

from embtrans.data.embedding_cache import EmbeddingCache
from embtrans.data.split import assign_splits, limit_groups, unit_hash
from embtrans.data.text_dataset import TextDataset
from embtrans.errors import UserError


@dataclass
class PairedEmbeddings:
    dataset: TextDataset
    split: np.ndarray  # 'train' | 'val' | 'test' per text row ('unused': a training text dataset.train_pairs left out)
    source: np.ndarray  # (n, d_A) float32, model A's vectors of dataset.texts
    target: np.ndarray  # (n, d_B) float32, model B's vectors of the same texts
    source_manifest: dict
    target_manifest: dict

    def rows(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.split == split)

    def split_sizes(self) -> dict[str, int]:
        sizes = {name: int((self.split == name).sum()) for name in ("train", "val", "test")}
        unused = int((self.split == UNUSED).sum())
        return sizes | ({UNUSED: unused} if unused else {})


def load_text_dataset(dataset_cfg: DictConfig) -> TextDataset:
    """The configured dataset, validated and cut to ``limit`` whole groups."""
    dataset = instantiate(dataset_cfg.loader).validate()
    limit = dataset_cfg.get("limit")
    kept = limit_groups(dataset, limit, dataset_cfg.split_seed)
    try:
        return kept.validate()
    except UserError as error:
        if limit is None:
            raise
        texts = f"{len(kept)} text" + ("s" if len(kept) != 1 else "")
        raise UserError(f"dataset.limit={limit} is too small: with the {texts} it keeps, {error}; "
                        "raise dataset.limit") from None


def load_paired_embeddings(cfg: DictConfig, show_progress: bool = True) -> PairedEmbeddings:
    if cfg.model_a.name == cfg.model_b.name:
        raise UserError(
            f"model_a and model_b are both {cfg.model_a.name!r}: a translator needs two different models"
        )
    dataset = load_text_dataset(cfg.dataset)
    split = assign_splits(dataset.texts["group"], cfg.dataset.test_fraction, cfg.dataset.val_fraction,
                          cfg.dataset.split_seed)
    for name in ("train", "val", "test"):
        if not (split == name).any():
            raise UserError(
                f"the {name} split of {dataset.name!r} is empty ({len(dataset)} texts in "
                f"{dataset.texts['group'].nunique()} groups"
                + (f", as dataset.limit={cfg.dataset.limit} keeps" if cfg.dataset.get("limit") else "")
                + "): raise dataset.limit"
                + (" or dataset.val_fraction" if name == "val" else "")
            )
    split = keep_train_pairs(split, dataset.texts["id"], train_pairs_setting(cfg), cfg.get("seed", 0))
    cache = EmbeddingCache(cfg.paths.embedding_cache_dir, show_progress=show_progress)
    source, source_manifest = cache.embeddings(dataset, instantiate(cfg.model_a.encoder))
    target, target_manifest = cache.embeddings(dataset, instantiate(cfg.model_b.encoder))
    return PairedEmbeddings(dataset, split, flush_tiny(source), flush_tiny(target), source_manifest, target_manifest)


UNUSED = "unused"


def train_pairs_setting(cfg: DictConfig) -> int | None:
    """dataset.train_pairs as it applies to the run: None for every training text, and for a translator that
    reads no pairs (arch.paired: false) whatever the key says. The one rule the split, the fingerprint and
    metrics.json follow."""
    arch = cfg.get("arch")
    if arch is not None and not arch.get("paired", True):
        return None
    return (cfg.get("dataset") or {}).get("train_pairs")  # configs from before the key (or a dataset) read None


def keep_train_pairs(split: np.ndarray, ids: pd.Series, n: int | None, seed: int) -> np.ndarray:
    """Only ``n`` of the training texts stay 'train' (the rest become 'unused'); None keeps them all.

    The kept texts are the first ``n`` of the training texts in an order hashed from each text's id and
    the run's seed: a smaller sample is contained in a larger one of the same seed (nested), and another
    seed draws another sample. Validation and test texts never change side.
    """
    if n is None:
        return split
    train = np.flatnonzero(split == "train")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(train):
        raise UserError(f"dataset.train_pairs={n!r} must be a whole number from 1 to the {len(train):,} training "
                        "texts of this split, or null for all of them")
    order = train[np.argsort(unit_hash(ids.iloc[train], seed, "train_pairs"), kind="stable")]
    kept = split.astype(f"<U{max(len(UNUSED), split.dtype.itemsize // 4)}")  # room for the longer name
    kept[order[n:]] = UNUSED
    return kept


TINY = 1e-30


def flush_tiny(vectors: np.ndarray) -> np.ndarray:
    """Zero values below 1e-30 in magnitude.

    MiniLM and mpnet each have two dead dimensions holding values near 1e-33 in every row. Their
    products with gradients are subnormal floats, which x86 CPUs process about 100x slower: they made
    every backward pass through the first layer about 5x slower. Zeroing them changes no metric.
    """
    return np.where(np.abs(vectors) < TINY, np.float32(0), vectors).astype(np.float32, copy=False)


def split_table(paired: PairedEmbeddings) -> pd.DataFrame:
    """id, kind, label, group and split of every text, for the run directory."""
    table = paired.dataset.texts[["id", "kind", "label", "group"]].copy()
    table["split"] = paired.split
    return table
