"""Epochs to the best validation score, per width, under each learning-rate rule and schedule.

    python benchmarks/convergence.py                                    # mlp2 at widths 1, 8, 32
    python benchmarks/convergence.py --widths 1 8 --limit 2000 --threads 1
    python benchmarks/convergence.py --variant "lr_rule=mup scheduler=cosine" --variant "lr_rule=constant"

Each variant (a string of train.yaml overrides) trains every width to convergence through
embtrans.training.run.train, with early stopping deciding when to stop (patience from the config), and prints
the epoch whose weights were kept (best_epoch), the epochs run, what stopped it, the wall time and
the test MSE, on the real cached embeddings (minilm -> mpnet by default).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.training_setup import quiet, training_arguments, training_config  # noqa: E402
from embtrans.errors import RunFailed  # noqa: E402
from embtrans.training.run import train  # noqa: E402

DEFAULT_VARIANTS = ["lr_rule=constant scheduler=plateau", "lr_rule=mup scheduler=plateau"]


def main() -> None:
    parser = training_arguments(__doc__)
    parser.add_argument("--variant", action="append", help="train.yaml overrides, space-separated (repeatable)")
    args = parser.parse_args()
    quiet(args.threads)
    print(f"{args.arch} {args.models[0]} -> {args.models[1]}, {args.limit} texts, {args.threads} thread(s)")
    print(f"{'variant':<38} {'width':>5} {'best epoch':>10} {'epochs':>6} {'stopped by':<15} {'seconds':>8} "
          f"{'test MSE':>11}")
    for variant in args.variant or DEFAULT_VARIANTS:
        for width in args.widths:
            with tempfile.TemporaryDirectory() as scratch:
                try:
                    metrics = train(training_config(args, width, variant.split(), scratch))
                except RunFailed as failure:  # e.g. a width the lr is too high for: that is the finding
                    print(f"{variant:<38} {width:>5} failed: {failure}", flush=True)
                    continue
                run = metrics["run"]
                print(f"{variant:<38} {width:>5} {run['best_epoch']:>10} {run['epochs']:>6} {run['stopped_by']:<15} "
                      f"{run['seconds']:>8.0f} {metrics['test/mse']:>11.4e}", flush=True)


if __name__ == "__main__":
    main()
