"""Before a sweep's jobs start: every (texts, model) embedding they need, computed once with every core.

Left to the jobs, the first one to need an embedding computes it with its share of the cores
(cores / n_jobs threads) while the others wait on the cache's lock, so most of the machine idles
for the whole embedding (e5_small: ~13 min for Rotten Tomatoes on 2 cores). Here the sweep's main
process works out each job's config (Hydra's own sweep expansion), and fills the cache first; the
jobs then only read it.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager

import torch
from hydra import compose
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from embtrans.data.embedding_cache import EmbeddingCache
from embtrans.data.paired import load_text_dataset

log = logging.getLogger(__name__)


def job_overrides(config: DictConfig) -> list[list[str]]:
    """Each job's overrides, as Hydra's basic sweeper expands them: hydra.sweeper.params (presets)
    first, the command line's overrides after."""
    params = config.hydra.sweeper.get("params") or {}
    arguments = [f"{key}={value}" for key, value in params.items()] + list(config.hydra.overrides.task)
    parsed = OverridesParser.create().parse_overrides(arguments)
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


# Dataset keys that split or sample the texts but do not change which texts there are: jobs that differ only in
# them read the same embeddings (a data-scale sweep's sizes, say). split_seed is not one: it orders dataset.limit.
NOT_TEXTS = ("train_pairs", "test_fraction", "val_fraction")


def texts_key(dataset: DictConfig) -> str:
    """The dataset's config as far as it decides which texts there are."""
    settings = OmegaConf.to_container(dataset, resolve=True)
    return json.dumps({k: v for k, v in settings.items() if k not in NOT_TEXTS}, sort_keys=True, default=str)


def needed_embeddings(config: DictConfig) -> dict[str, tuple[DictConfig, DictConfig, str]]:
    """(dataset config, model config, cache dir) of every embedding some job of the sweep will read,
    once each (keyed by the texts, the encoder and the cache)."""
    needed = {}
    for overrides in job_overrides(config):
        cfg = compose(config_name="train", overrides=overrides)
        if cfg.model_a.name == cfg.model_b.name:
            continue  # skipped or refused: it reads nothing
        for side in (cfg.model_a, cfg.model_b):
            parts = [texts_key(cfg.dataset), OmegaConf.to_container(side.encoder, resolve=True),
                     str(cfg.paths.embedding_cache_dir)]
            needed.setdefault(json.dumps(parts, sort_keys=True, default=str),
                              (cfg.dataset, side, str(cfg.paths.embedding_cache_dir)))
    return needed


@contextmanager
def every_core():
    before = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or before)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def embed_before_jobs(config: DictConfig, show_progress: bool = True) -> int:
    """Fill the embedding cache for every job of the sweep; return how many (texts, model) entries were
    checked. Ones already cached cost a read of their manifest."""
    needed = needed_embeddings(config)
    datasets = {}  # each dataset's texts loaded once, whichever models read them
    with every_core():
        for dataset_cfg, model, cache_dir in needed.values():
            key = texts_key(dataset_cfg)
            dataset = datasets[key] = datasets.get(key) or load_text_dataset(dataset_cfg)
            EmbeddingCache(cache_dir, show_progress=show_progress).embeddings(dataset, instantiate(model.encoder))
    log.info("the sweep's %d embedding(s) are in the cache: its jobs only read them", len(needed))
    return len(needed)
