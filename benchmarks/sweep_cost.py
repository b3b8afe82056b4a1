"""Wall time and peak memory of the daily sweep, and what each run cost.

    python benchmarks/sweep_cost.py                                  # minilm -> mpnet, all texts
    python benchmarks/sweep_cost.py --limit 2000 --models minilm use
    python benchmarks/sweep_cost.py -- trainer.max_epochs=20          # extra overrides after --

Runs `train.py -m arch=linear,mlp1,mlp2 width=1,8,32` as a user would (joblib, 2 jobs), on cached
embeddings (embed them first with one `python train.py` of the pair, or the first job does it), in a
fresh output folder whose run index is empty, so every run trains (linear once: it ignores width).
Memory is the peak of the summed resident
memory of the whole process tree (the sweep and its joblib workers), sampled every 0.2 s.
Also prints, per run, how close the trained linear map gets to the closed-form least squares.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs=2, default=["minilm", "mpnet"])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--archs", default="linear,mlp1,mlp2")
    parser.add_argument("--widths", default="1,8,32")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    out = Path(tempfile.mkdtemp(prefix="sweep-cost-"))
    command = [sys.executable, str(ROOT / "train.py"), "-m", f"arch={args.archs}", f"width={args.widths}",
               f"model_a={args.models[0]}", f"model_b={args.models[1]}", "logger=csv",
               "trainer.enable_progress_bar=false", "data.show_progress=false", f"paths.log_dir={out}",
               f"hydra.sweep.dir={out / 'sweep'}", f"hydra.launcher.n_jobs={args.jobs}", *args.overrides]
    if args.limit:
        command.append(f"dataset.limit={args.limit}")
    print(" ".join(command[1:]))
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    done.set()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        print(stderr[-3000:], file=sys.stderr)

    print(f"\n{'run':<14} {'params':>12} {'epochs':>6} {'seconds':>8} {'s/epoch':>8} {'test MSE':>10} "
          f"{'lstsq MSE':>10} {'vs lstsq':>9}")
    for path in sorted((out / "sweep").rglob("metrics.json")):
        m = json.loads(path.read_text())
        run, lstsq = m["run"], m["baselines"]["lstsq"]["test/mse"]
        if "reused_from" in m:
            print(f"{path.parent.name:<14} (same run as {Path(m['reused_from']).name})")
            continue
        per_epoch = run["seconds"] / max(run["epochs"] or 1, 1)
        print(f"{path.parent.name:<14} {run['parameters']:>12,} {run['epochs']:>6} {run['seconds']:>8.1f} "
              f"{per_epoch:>8.2f} {m['test/mse']:>10.6f} {lstsq:>10.6f} {m['test/mse'] / lstsq - 1:>+9.2%}")
    print(f"\nsweep wall time {wall / 60:.1f} min with {args.jobs} parallel jobs; "
          f"peak memory of the process tree {peak / 2**30:.2f} GiB; outputs in {out}")


if __name__ == "__main__":
    main()
