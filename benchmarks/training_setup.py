"""What the training benchmarks share: their command-line arguments, and the run config they compose
(conf/train.yaml, as a run would get it, quiet, with its outputs in a scratch folder)."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, open_dict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from embtrans.paths import CONFIG_DIR
from embtrans.sweep.environment import set_project_env  # noqa: E402


def training_arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="mlp2")
    parser.add_argument("--widths", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--models", nargs=2, default=["minilm", "mpnet"])
    parser.add_argument("--limit", type=limit, default=2000, help="texts of the dataset, or all")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("overrides", nargs="*", help="train.yaml overrides for every run, after --")
    return parser


def limit(value: str) -> int | str:
    return "null" if value == "all" else int(value)


def quiet(threads: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(threads)
    set_project_env()


def training_config(args, width: int, overrides: list[str], output_dir: Path | str) -> DictConfig:
    """The run's config for one width, with the benchmark's overrides, writing under ``output_dir``."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR):
        cfg = compose("train", overrides=[
            f"model_a={args.models[0]}", f"model_b={args.models[1]}", f"arch={args.arch}", f"width={width}",
            f"dataset.limit={args.limit}", f"threads={args.threads}", "logger=none",
            "trainer.enable_progress_bar=false", "data.show_progress=false", *overrides, *args.overrides])
    GlobalHydra.instance().clear()
    with open_dict(cfg):
        cfg.paths.output_dir = cfg.paths.log_dir = str(output_dir)
    return cfg
