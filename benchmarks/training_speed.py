"""Epoch time and test MSE of the MLPs, float32 against bf16 autocast (and TF32 on a GPU), through
train() and a bare loop.

    python benchmarks/training_speed.py                                  # mlp2 at widths 1, 8, 32
    python benchmarks/training_speed.py --widths 32 --epochs 4 --threads 1
    python benchmarks/training_speed.py --arch mlp1 --limit 1000 -- optimizer.lr=3e-4   # overrides after --
    python benchmarks/training_speed.py --limit all --epochs 6            # on a GPU: 32, tf32, bf16
    python benchmarks/training_speed.py --widths 32 --precisions 32 --bare-optimizer config   # train()'s own cost

On the real cached embeddings (minilm -> mpnet by default, conf/train.yaml composed with the
overrides), each width is trained for --epochs epochs four ways, same data, seed, threads, AdamW
settings and batch size:

  bare 32      a plain PyTorch loop: a seeded permutation per epoch, whole batches sliced out of the
               tensors, forward, F.mse_loss, backward, step, zero_grad; float32, torch's AdamW as it
               comes (train() uses the config's, fused)
  bare bf16    the same with the forward pass under torch.autocast(bfloat16)
  train() 32   embtrans.training.run.train with the run's real config: Lightning, validation every epoch,
               the best and the resume checkpoints, early stopping, precision=32
  train() bf16 the same with precision=bf16
  ... tf32     on a GPU (the default there): float32 with TF32 matmuls, both ways

On a GPU (used when one is visible) the data sits on the device for the whole run in both loops,
each time is taken after a synchronisation, and the peak GPU memory of each run is printed.

It prints the median seconds per epoch (the first epoch is warm-up and dropped), train()'s time
over the bare float32 loop's (the speed target is >= 1.5x, i.e. a ratio <= 0.67), and test MSE after
the same epochs, with bf16's relative change against float32 (the accuracy bar is 1 %). Whether the
CPU multiplies bf16 natively (avx512_bf16 / AMX) is printed first: without it bf16 is emulated.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import DictConfig, open_dict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.training_setup import quiet, training_arguments, training_config  # noqa: E402
from embtrans.data.datamodule import PairedEmbeddingDataModule  # noqa: E402
from embtrans.data.paired import load_paired_embeddings  # noqa: E402
from embtrans.errors import RunFailed  # noqa: E402
from embtrans.training.lit_module import parameter_groups  # noqa: E402
from embtrans.training.precision import allow_tf32, native_bf16  # noqa: E402
from embtrans.training.run import train  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def compose_config(args, width: int, precision: str, output_dir: Path) -> DictConfig:
    cfg = training_config(args, width, [f"trainer.max_epochs={args.epochs}", f"precision={precision}"], output_dir)
    with open_dict(cfg):
        cfg.callbacks.epoch_timer = {"_target_": f"{__name__}.EpochTimes"}  # this module, run as a script
    return cfg


class EpochTimes(pl.Callback):
    """The wall time of each training epoch, validation and checkpoints included (from one epoch's
    start to the next's, the last to the end of training)."""

    last: EpochTimes | None = None

    def __init__(self) -> None:
        self.times, self.started = [], None
        EpochTimes.last = self

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        synchronize()
        if self.started is not None:
            self.times.append(time.perf_counter() - self.started)
        self.started = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        synchronize()
        self.times.append(time.perf_counter() - self.started)

    @classmethod
    def last_times(cls, metrics: dict) -> tuple[list[float], float]:
        return cls.last.times, metrics["test/mse"]


def bare_loop(cfg: DictConfig, precision: str, bare_optimizer: str = "torch") -> tuple[list[float], float]:
    torch.manual_seed(cfg.seed)
    device = torch.device(DEVICE)
    allow_tf32(precision == "tf32")
    paired = load_paired_embeddings(cfg, show_progress=False)
    data = PairedEmbeddingDataModule(paired, cfg.data.batch_size, cfg.data.eval_batch_size, cfg.seed).pairs
    source, target = data["train"].source.to(device), data["train"].target.to(device)  # there for the whole run
    d_a, d_b = source.shape[1], target.shape[1]
    net = instantiate(cfg.arch.net, in_dim=d_a, out_dim=d_b).to(device)
    # The reference loop's optimizer is torch's AdamW as it comes (not fused), with the config's lr
    # and weight decay and the run's lr rule: what "a bare PyTorch loop" means in the speed target. With
    # --bare-optimizer config it is train()'s own (fused), so the ratio is Lightning's and the checkpoints' cost.
    lr = cfg.optimizer.lr
    groups = parameter_groups(net, cfg.get("lr_rule", "constant"), lr)
    optimizer = (instantiate(cfg.optimizer)(params=groups) if bare_optimizer == "config" else
                 torch.optim.AdamW(groups, lr=lr, weight_decay=cfg.optimizer.weight_decay))
    generator = torch.Generator().manual_seed(cfg.seed)
    times = []
    for _ in range(cfg.trainer.max_epochs):
        started = time.perf_counter()
        order = torch.randperm(len(source), generator=generator).to(device)
        for first in range(0, len(source), cfg.data.batch_size):
            rows = order[first:first + cfg.data.batch_size]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                predicted = net(source[rows])
            loss = F.mse_loss(predicted.float(), target[rows])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        synchronize()
        times.append(time.perf_counter() - started)
    allow_tf32(False)  # test MSE in float32, as train() measures it
    with torch.no_grad():
        mse = float(F.mse_loss(net(data["test"].source.to(device)), data["test"].target.to(device)))
    return times, mse


def synchronize() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def peak_memory() -> str:
    """Peak GPU memory since the last call (GiB), or "" on a CPU."""
    if DEVICE != "cuda":
        return ""
    peak = torch.cuda.max_memory_allocated() / 2**30
    torch.cuda.reset_peak_memory_stats()
    return f"{peak:.2f}"


def through_train(cfg: DictConfig) -> tuple[list[float], float]:
    """Epoch times and test MSE; NaN MSE when train() judged the run a failure (e.g. a wide MLP whose
    few epochs never beat the untrained translator), which says nothing against its speed."""
    try:
        return EpochTimes.last_times(train(cfg))
    except RunFailed as failure:
        print(f"  (train() at {cfg.width}, precision={cfg.precision}: {failure})", flush=True)
        return EpochTimes.last.times, float("nan")


def median_after_warmup(times: list[float]) -> float:
    return statistics.median(times[1:] if len(times) > 1 else times)


def main() -> None:
    parser = training_arguments(__doc__)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--skip-bare", action="store_true", help="only train() (for a quick check)")
    parser.add_argument("--bare-optimizer", choices=["torch", "config"], default="torch",
                        help="the bare loop's AdamW: torch's as it comes, or the config's (fused) as train() uses")
    parser.add_argument("--precisions", nargs="+", choices=["32", "tf32", "bf16"],
                        help="default: 32 bf16 on a CPU, 32 tf32 bf16 on a GPU")
    args = parser.parse_args()
    quiet(args.threads)
    precisions = args.precisions or (["32", "tf32", "bf16"] if DEVICE == "cuda" else ["32", "bf16"])
    where = (f"GPU {torch.cuda.get_device_name()}" if DEVICE == "cuda"
             else f"CPU multiplies bf16 natively: {native_bf16('cpu')}; threads {args.threads}")
    texts = "all" if args.limit == "null" else args.limit
    print(f"{where}; {args.arch} {args.models[0]} -> {args.models[1]}, {texts} texts, {args.epochs} epochs, "
          f"batch {compose_config(args, 1, '32', Path('.')).data.batch_size}")
    print(f"bare loop's optimizer: {args.bare_optimizer}; 'speed' is the bare float32 loop's time over the row's, "
          "'time' the row's over the bare loop's of the same precision")
    print(f"{'width':>5} {'run':<13} {'s/epoch':>8} {'speed':>8} {'time':>6} {'test MSE':>11} {'vs 32':>8}"
          + (f" {'GPU GiB':>8}" if DEVICE == "cuda" else ""))
    for width in args.widths:
        rows = {}
        with tempfile.TemporaryDirectory() as scratch:
            for precision in precisions:
                cfg = compose_config(args, width, precision, Path(scratch) / f"train-{precision}")
                runs = ([("bare", lambda: bare_loop(cfg, precision, args.bare_optimizer))] if not args.skip_bare else []) + [
                    ("train()", lambda: through_train(cfg))]
                for kind, run in runs:
                    peak_memory()
                    times, mse = run()
                    name = f"{kind} {precision}"
                    rows[name] = (median_after_warmup(times), mse)
                    # against the bare float32 loop, or the first run at this width when it was left out
                    reference = rows.get("bare 32") or rows.get("train() 32") or next(iter(rows.values()))
                    fp32 = rows.get(f"{kind} 32", (None, float("nan")))[1]
                    change = f"{mse / fp32 - 1:+.2%}" if precision != "32" and fp32 == fp32 and mse == mse else ""
                    same = rows.get(f"bare {precision}")
                    time_ratio = f"{rows[name][0] / same[0]:.2f}x" if same else ""
                    print(f"{width:>5} {name:<13} {rows[name][0]:>8.3f} {reference[0] / rows[name][0]:>7.2f}x "
                          f"{time_ratio:>6} "
                          f"{mse:>11.4e} {change:>8} {peak_memory():>8}", flush=True)


if __name__ == "__main__":
    main()
