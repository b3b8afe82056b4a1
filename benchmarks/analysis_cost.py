"""Wall time and peak memory of `python analyze.py` over a finished sweep: cold, then re-run.

    python benchmarks/analysis_cost.py                                   # the latest sweep under outputs/
    python benchmarks/analysis_cost.py --sweep-dir outputs/train/multiruns/<time>
    python benchmarks/analysis_cost.py -- metrics.cka.n_permutations=200 # extra overrides after --

The first run writes into a fresh output folder, a fresh Chroma store and a fresh UMAP cache, so
everything is computed (embeddings come from the cache: embed them with the sweep first). The
second run is the re-run a user makes after changing nothing: it should read everything back.
Memory is the peak resident memory of the analyze.py process, sampled every 0.2 s.

A 42-run sweep on the default dataset to measure (three models, every ordered pair, linear, mlp1
and mlp2 at widths 1, 8 and 32; two epochs suffice, the analysis cost does not depend on them):

    python train.py -m +sweep=all_pairs model_a=minilm,mpnet,use model_b=minilm,mpnet,use trainer.max_epochs=2
"""

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from embtrans.analysis.runs import latest_sweep

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, done = 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, process.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"analyze.py failed ({process.returncode}):\n{output[-3000:]}")
    return time.perf_counter() - started, peak, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep-dir", help="default: the latest sweep under outputs/train/multiruns")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="analysis-cost-"))
    command = [sys.executable, str(ROOT / "analyze.py"), f"output_dir={scratch / 'analysis'}",
               f"chroma_dir={scratch / 'chroma'}", f"hydra.run.dir={scratch / 'log'}", "wandb.enabled=false",
               # a fresh UMAP cache: paths.log_dir decides it, and the sweep is named explicitly
               f"paths.log_dir={scratch}", *args.overrides]
    sweep_dir = Path(args.sweep_dir) if args.sweep_dir else latest_sweep(ROOT / "outputs")
    command.append(f"sweep_dir={sweep_dir.resolve()}")
    print(" ".join(command[1:]))
    cold_s, cold_peak, output = timed(command)
    runs = re.search(r"analysed (\d+) run", output)
    warm_s, warm_peak, _ = timed(command)
    print(output[output.find("analysed"):].splitlines()[0] if runs else output[-2000:])
    print(f"runs analysed: {runs.group(1) if runs else '?'} (plus the closed-form maps of each pair)")
    print(f"cold: {cold_s:.0f} s, peak RSS {cold_peak / 2**30:.2f} GiB")
    print(f"re-run: {warm_s:.0f} s, peak RSS {warm_peak / 2**30:.2f} GiB")
    print(f"outputs in {scratch}")


if __name__ == "__main__":
    main()
