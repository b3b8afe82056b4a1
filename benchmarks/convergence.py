"""Epochs to the best validation score, per width, under each learning-rate rule and schedule.

    python benchmarks/convergence.py                                    # mlp2 at widths 1, 8, 32
    python benchmarks/convergence.py --widths 1 8 --limit 2000 --threads 1
    python benchmarks/convergence.py --variant "lr_rule=mup scheduler=cosine" --variant "lr_rule=constant"

Each variant (a string of train.yaml overrides) trains every width to convergence through
src/training.train, with early stopping deciding when to stop (patience from the config), and prints
the epoch whose weights were kept (best_epoch), the epochs run, what stopped it, the wall time and
the test MSE, on the real cached embeddings (minilm -> mpnet by default).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import warnings
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import open_dict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from src.cli import CONFIG_DIR, set_project_env  # noqa: E402
from src.errors import RunFailed  # noqa: E402
from src.training import train  # noqa: E402

DEFAULT_VARIANTS = ["lr_rule=constant scheduler=plateau", "lr_rule=mup scheduler=plateau"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="mlp2")
    parser.add_argument("--widths", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--models", nargs=2, default=["minilm", "mpnet"])
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variant", action="append", help="train.yaml overrides, space-separated (repeatable)")
    parser.add_argument("overrides", nargs="*", help="overrides for every variant, after --")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    set_project_env()
    print(f"{args.arch} {args.models[0]} -> {args.models[1]}, {args.limit} texts, {args.threads} thread(s)")
    print(f"{'variant':<38} {'width':>5} {'best epoch':>10} {'epochs':>6} {'stopped by':<15} {'seconds':>8} "
          f"{'test MSE':>11}")
    for variant in args.variant or DEFAULT_VARIANTS:
        for width in args.widths:
            with tempfile.TemporaryDirectory() as scratch:
                GlobalHydra.instance().clear()
                with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR):
                    cfg = compose("train", overrides=[
                        f"model_a={args.models[0]}", f"model_b={args.models[1]}", f"arch={args.arch}",
                        f"width={width}", f"dataset.limit={args.limit}", f"threads={args.threads}", "logger=none",
                        "trainer.enable_progress_bar=false", "data.show_progress=false", *variant.split(),
                        *args.overrides])
                GlobalHydra.instance().clear()
                with open_dict(cfg):
                    cfg.paths.output_dir = cfg.paths.log_dir = scratch
                try:
                    metrics = train(cfg)
                except RunFailed as failure:  # e.g. a width the lr is too high for: that is the finding
                    print(f"{variant:<38} {width:>5} failed: {failure}", flush=True)
                    continue
                run = metrics["run"]
                print(f"{variant:<38} {width:>5} {run['best_epoch']:>10} {run['epochs']:>6} {run['stopped_by']:<15} "
                      f"{run['seconds']:>8.0f} {metrics['test/mse']:>11.4e}", flush=True)


if __name__ == "__main__":
    main()
