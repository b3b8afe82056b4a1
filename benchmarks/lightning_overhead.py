"""How much slower is one training epoch through TranslatorModule than a plain PyTorch loop?

    python benchmarks/lightning_overhead.py                        # linear, minilm -> mpnet, all texts
    python benchmarks/lightning_overhead.py --hidden 3072          # also a Linear-GELU-Linear MLP
    python benchmarks/lightning_overhead.py --limit 2000 --models minilm use --epochs 8
    python benchmarks/lightning_overhead.py --profile              # cProfile one Lightning epoch
    python benchmarks/lightning_overhead.py -- data.batch_size=64  # extra train.yaml overrides after --

On the real cached embeddings (conf/train.yaml composed with the overrides), each architecture is
trained for --epochs epochs three ways, on the same train-split tensors, batch size, seed, thread count
and AdamW settings (conf/optimizer), with an MSE loss:

  plain      a bare loop: torch.randperm per epoch, whole batches sliced out of the tensors,
             forward, F.mse_loss, loss.backward(); opt.step(); opt.zero_grad()
  lightning  TranslatorModule fitted by pl.Trainer on the real PairedEmbeddingDataModule, validation
             off (limit_val_batches=0), no logger, checkpoints, progress bar or summary
  +val       the same with validation on, every epoch, as train.py runs it

A Lightning epoch is timed from one on_train_epoch_start to the next (the last one to on_train_end),
not just to on_train_epoch_end: a callback's on_train_epoch_end runs before the module's own and before
Lightning computes and resets the epoch's logged metrics, work that belongs to the epoch. For +val the
epoch also holds the validation pass. A step is the time from the start of one batch to the start of
the next, so it includes fetching the batch. The first epoch is warm-up and dropped; the figures are
medians over the rest. The verdict is lightning / plain ms per epoch, against a target of 1.5. Neither
Lightning run has a scheduler, so the two differ only by validation. Where the ratio is over the target
(or with --profile), one more, untimed Lightning epoch is run under cProfile and its main pieces shown.

Subnormal floats: MiniLM and mpnet each have two dead dimensions (0 < |x| < 1e-30 in every row). In
the first layer's weight gradient their products with the gradients are subnormal, which x86 CPUs
compute far more slowly: here they make a linear step's backward pass ~7 ms instead of ~0.7 ms, in
both loops alike, which inflates the plain time and so hides Lightning's fixed per-step cost.
--flush-denormal (torch.set_flush_denormal, set before torch starts its threads) shows the ratio
without them. The header line counts those values in the train split.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import statistics
import time
import warnings
from dataclasses import dataclass, field

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from src.cli import CONFIG_DIR, set_project_env
from src.data.datamodule import PairedEmbeddingDataModule
from src.data.paired import load_paired_embeddings
from src.translators.linear import LinearTranslator
from src.translators.lit_module import TranslatorModule

TARGET = 1.5


@dataclass
class Timing:
    """Wall-clock seconds of each epoch and of each step, per epoch (warm-up included)."""

    epochs: list[float] = field(default_factory=list)
    steps: list[list[float]] = field(default_factory=list)

    def ms_per_epoch(self) -> float:
        return 1e3 * statistics.median(self.epochs[1:])

    def ms_per_step(self) -> float:
        return 1e3 * statistics.median(s for epoch in self.steps[1:] for s in epoch)


def step_times(starts: list[float], end: float) -> list[float]:
    """Start-to-next-start of each step; the last step runs to the end of the epoch."""
    bounds = [*starts, end]
    return [b - a for a, b in zip(bounds, bounds[1:])]


# ---------------------------------------------------------------------------- data and models


def compose_config(models: list[str], limit: int | None, overrides: list[str]) -> DictConfig:
    set_project_env()
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR):
        cfg = compose("train", overrides=[f"model_a={models[0]}", f"model_b={models[1]}", "logger=none",
                                          f"dataset.limit={'null' if limit is None else limit}", *overrides])
    GlobalHydra.instance().clear()
    return cfg


def build_net(arch: str, d_a: int, d_b: int, hidden: int) -> nn.Module:
    if arch == "linear":
        return LinearTranslator(d_a, d_b)
    return nn.Sequential(nn.Linear(d_a, hidden), nn.GELU(), nn.Linear(hidden, d_b))


def count_tiny(values: torch.Tensor) -> int:
    return int(((values != 0) & (values.abs() < 1e-30)).sum())


def describe(arch: str, hidden: int) -> str:
    return "linear" if arch == "linear" else f"mlp {hidden}"


# ---------------------------------------------------------------------------- the three runs


def time_plain(net: nn.Module, make_optimizer, source: torch.Tensor, target: torch.Tensor,
               batch_size: int, epochs: int, seed: int) -> Timing:
    optimizer = make_optimizer(params=net.parameters())
    generator = torch.Generator().manual_seed(seed)
    timing = Timing()
    net.train()
    for _ in range(epochs):
        starts = []
        epoch_start = time.perf_counter()
        order = torch.randperm(len(source), generator=generator)
        for first in range(0, len(source), batch_size):
            starts.append(time.perf_counter())
            rows = order[first:first + batch_size]
            loss = F.mse_loss(net(source[rows]), target[rows])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        end = time.perf_counter()
        timing.epochs.append(end - epoch_start)
        timing.steps.append(step_times(starts, end))
    return timing


class EpochTimer(pl.Callback):
    """Per-epoch and per-step wall time of a fit, plus an optional cProfile of one training epoch.

    An epoch runs from its on_train_epoch_start to the next one's (the last to on_train_end), so that
    it includes what Lightning does after the callbacks' on_train_epoch_end.
    """

    def __init__(self, profile_epoch: int | None = None) -> None:
        self.timing = Timing()
        self.profile_epoch = profile_epoch
        self.profiler = cProfile.Profile() if profile_epoch is not None else None
        self.epoch_start: float | None = None
        self.profiling = False

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.end_epoch()
        self.starts = []
        if trainer.current_epoch == self.profile_epoch:
            self.profiling = True
            self.profiler.enable()
        self.epoch_start = time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.starts.append(time.perf_counter())

    def on_train_end(self, trainer, pl_module) -> None:
        self.end_epoch()

    def end_epoch(self) -> None:
        end = time.perf_counter()
        if self.profiling:
            self.profiler.disable()
            self.profiling = False
        if self.epoch_start is not None:
            self.timing.epochs.append(end - self.epoch_start)
            self.timing.steps.append(step_times(self.starts, end))


def time_lightning(net: nn.Module, make_optimizer, datamodule: PairedEmbeddingDataModule, epochs: int,
                   validate: bool, profile_epoch: int | None = None) -> EpochTimer:
    timer = EpochTimer(profile_epoch)
    trainer = pl.Trainer(accelerator="cpu", max_epochs=epochs, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                         limit_val_batches=1.0 if validate else 0, callbacks=[timer])
    trainer.fit(TranslatorModule(net, make_optimizer, None, loss="mse"), datamodule=datamodule)
    return timer


# ---------------------------------------------------------------------------- report


@dataclass
class Row:
    arch: str
    steps: int
    plain: Timing
    lightning: Timing
    with_val: Timing

    @property
    def ratio(self) -> float:
        return self.lightning.ms_per_epoch() / self.plain.ms_per_epoch()


def print_table(rows: list[Row]) -> None:
    print(f"\n{'arch':<10} {'steps/ep':>8} {'plain ms/ep':>12} {'lightning ms/ep':>16} {'ratio':>6} "
          f"{'+val ms/ep':>11}   {'ms/step plain':>13} {'lightning':>9} {'+val':>6}")
    for r in rows:
        print(f"{r.arch:<10} {r.steps:>8} {r.plain.ms_per_epoch():>12.1f} {r.lightning.ms_per_epoch():>16.1f} "
              f"{r.ratio:>6.2f} {r.with_val.ms_per_epoch():>11.1f}   {r.plain.ms_per_step():>13.3f} "
              f"{r.lightning.ms_per_step():>9.3f} {r.with_val.ms_per_step():>6.3f}")
    for r in rows:
        verdict = "ok" if r.ratio <= TARGET else "OVER"
        print(f"{r.arch}: ratio {r.ratio:.2f} (target <= {TARGET}) {verdict}")


# The pieces of a Lightning training epoch worth telling apart, as pstats patterns (file:line(function)).
PROFILE_PIECES = "|".join([
    r"training_epoch_loop.py:\d+\(run\)",  # the whole epoch
    r"lit_module.py",  # TranslatorModule: _step, forward, loss
    r"^module.py:\d+\((log|log_dict)\)",  # LightningModule.log / log_dict
    r"^collections.py:\d+\(update\)",  # torchmetrics MetricCollection.update
    r"logger_connector.py:\d+\(on_epoch_end\)",  # epoch-end compute of the logged metrics
    r"run_backward",  # autograd
    r"adam.py:\d+\(step\)",  # the optimizer step, which runs Lightning's closure: training_step, backward
    r"fetchers.py:\d+\(__next__\)",  # the next batch from the dataloader
])


def print_profile(profiler: cProfile.Profile, title: str) -> None:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(PROFILE_PIECES)
    table = out.getvalue()
    print(f"\ncProfile of one Lightning training epoch, {title}: cumulative seconds of its main pieces "
          f"(cProfile slows Python code: compare the pieces with each other, not with the table below; "
          f"the optimizer step holds training_step and backward, which Lightning runs in a closure)")
    print(table[table.index("   ncalls"):].rstrip())


def quiet_lightning() -> None:
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs=2, default=["minilm", "mpnet"], metavar=("A", "B"))
    parser.add_argument("--limit", type=int, default=None, help="dataset.limit (default: all texts)")
    parser.add_argument("--arch", nargs="+", choices=["linear", "mlp"], default=["linear"])
    parser.add_argument("--hidden", type=int, default=None,
                        help="hidden width of the MLP (Linear-GELU-Linear); giving it adds --arch mlp")
    parser.add_argument("--epochs", type=int, default=5, help="per run, the first one is warm-up")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the config's data.batch_size")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--flush-denormal", action="store_true",
                        help="flush subnormal floats to zero (FTZ/DAZ) in every loop")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile one Lightning training epoch per arch (a separate, untimed fit); "
                             "done anyway for an arch whose ratio is over the target")
    parser.add_argument("overrides", nargs="*", help="extra train.yaml overrides")
    args = parser.parse_args()
    if args.hidden is not None and "mlp" not in args.arch:
        args.arch.append("mlp")
    args.hidden = args.hidden or 3072
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first is warm-up")
    return args


def main() -> None:
    args = parse_args()
    # Before any torch op: worker threads copy the FTZ/DAZ flags of the thread that starts them.
    if args.flush_denormal and not torch.set_flush_denormal(True):
        raise SystemExit("this CPU cannot flush subnormals to zero")
    quiet_lightning()
    torch.set_num_threads(args.threads)
    cfg = compose_config(args.models, args.limit, args.overrides)
    batch_size = args.batch_size or cfg.data.batch_size
    paired = load_paired_embeddings(cfg, show_progress=False)
    datamodule = PairedEmbeddingDataModule(paired, batch_size, cfg.data.eval_batch_size, cfg.seed)
    train = datamodule.pairs["train"]
    d_a, d_b = datamodule.dims
    make_optimizer = instantiate(cfg.optimizer)
    steps = -(-len(train) // batch_size)
    print(f"{args.models[0]} -> {args.models[1]} ({d_a} -> {d_b}), {paired.split_sizes()}, batch {batch_size}, "
          f"{steps} steps/epoch, {args.epochs} epochs (first dropped), {args.threads} threads, "
          f"optimizer {make_optimizer.func.__name__} {dict(make_optimizer.keywords)}")
    print(f"train source values with 0 < |x| < 1e-30: {count_tiny(train.source)} (subnormal-prone), "
          f"flush denormal {'on' if args.flush_denormal else 'off'}")

    def fresh_net(arch: str) -> nn.Module:
        pl.seed_everything(cfg.seed, verbose=False)
        return build_net(arch, d_a, d_b, args.hidden)

    rows = []
    for arch in args.arch:
        name = describe(arch, args.hidden)
        plain = time_plain(fresh_net(arch), make_optimizer, train.source, train.target, batch_size,
                           args.epochs, cfg.seed)
        lightning = time_lightning(fresh_net(arch), make_optimizer, datamodule, args.epochs, validate=False)
        with_val = time_lightning(fresh_net(arch), make_optimizer, datamodule, args.epochs, validate=True)
        assert torch.get_num_threads() == args.threads, "Lightning changed the thread count"
        rows.append(Row(name, steps, plain, lightning.timing, with_val.timing))
        if args.profile or rows[-1].ratio > TARGET:
            profiled = time_lightning(fresh_net(arch), make_optimizer, datamodule, 2, validate=False,
                                      profile_epoch=1)
            print_profile(profiled.profiler, name)
    print_table(rows)


if __name__ == "__main__":
    main()
