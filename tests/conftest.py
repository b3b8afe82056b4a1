"""Shared test set-up: offline, no W&B, configs composed from the real conf/ tree, tiny real data."""

import os

# Before anything imports transformers / datasets / wandb: they read these once, at import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["WANDB_MODE"] = "disabled"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import open_dict

from embtrans.data.sources.rotten_tomatoes import load_rotten_tomatoes
from embtrans.data.split import limit_groups
from embtrans.paths import CONFIG_DIR, ROOT
from embtrans.sweep.environment import set_project_env
from tests.tiny_sweep import train_tiny_sweep

set_project_env()


@pytest.fixture(scope="session")
def rotten_tomatoes():
    return load_rotten_tomatoes()


@pytest.fixture(scope="session")
def small_rotten_tomatoes(rotten_tomatoes):
    """About 60 real texts, as whole movies (reviews and plots)."""
    return limit_groups(rotten_tomatoes, 60, seed=0)


@pytest.fixture(scope="session")
def embedding_cache_dir(tmp_path_factory):
    """One cache for the whole session, so each (subset, model) is embedded once."""
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture
def compose_train(tmp_path, embedding_cache_dir):
    """Compose conf/train.yaml with overrides, then force tiny, quiet, CPU settings into tmp_path."""

    def make(*overrides: str, output_dir=None):
        GlobalHydra.instance().clear()
        with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR):
            cfg = compose("train", overrides=["logger=none", *overrides])
        with open_dict(cfg):
            cfg.paths.output_dir = str(output_dir or tmp_path)
            cfg.paths.log_dir = str(tmp_path)  # shared stores (the baselines' cache) stay in the test's folder
            cfg.paths.embedding_cache_dir = str(embedding_cache_dir)
            cfg.trainer.accelerator = "cpu"
            cfg.trainer.enable_progress_bar = False
            cfg.data.show_progress = False
        GlobalHydra.instance().clear()
        return cfg

    return make


@pytest.fixture
def cli_env(embedding_cache_dir):
    """Environment for running train.py in a subprocess against the session's cache."""
    return {**os.environ, "EMBTRANS_CACHE_DIR": str(embedding_cache_dir), "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="session")
def tiny_sweep(tmp_path_factory, embedding_cache_dir):
    """A real sweep (minilm -> e5_small, minilm -> minilm failing), trained once for the analysis and
    report tests: (log_dir, sweep_dir, env for analyze.py)."""
    log_dir = tmp_path_factory.mktemp("analysis-outputs")
    env = {**os.environ, "EMBTRANS_CACHE_DIR": str(embedding_cache_dir), "PYTHONPATH": str(ROOT)}
    return log_dir, train_tiny_sweep(log_dir, env), env
