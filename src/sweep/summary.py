"""At the end of a sweep: one table of every job (trained, reused, skipped, failed), printed and saved."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig


def job_table(sweep_dir: Path) -> pd.DataFrame:
    rows = []
    for overrides in sorted(sweep_dir.rglob(".hydra/overrides.yaml")):
        job_dir = overrides.parent.parent
        row = {"job": str(job_dir.relative_to(sweep_dir))}
        if (job_dir / "failed.json").exists() and not (job_dir / "metrics.json").exists():
            failure = json.loads((job_dir / "failed.json").read_text())
            row.update(status="failed", note=f"{failure['error']}: {failure['message']}")
        elif (job_dir / "skipped.json").exists():
            row.update(status="skipped", note=json.loads((job_dir / "skipped.json").read_text())["reason"])
        elif (job_dir / "metrics.json").exists():
            metrics = json.loads((job_dir / "metrics.json").read_text())
            reused = metrics.get("reused_from")
            row.update(
                status="reused" if reused else "trained",
                test_mse=metrics["test/mse"], test_cosine=metrics["test/cosine"],
                lstsq_mse=metrics["baselines"].get("lstsq", {}).get("test/mse"),
                mean_vector_mse=metrics["baselines"]["mean_vector"]["test/mse"],
                note=f"same run as {Path(reused).relative_to(sweep_dir) if Path(reused).is_relative_to(sweep_dir) else reused}"
                if reused else "",
            )
        else:
            row.update(status="unfinished", note="no metrics.json: the job was interrupted")
        rows.append(row)
    return pd.DataFrame(rows)


class SweepSummary(Callback):
    """Prints the table, writes ``summary.csv`` in the sweep directory, and exits 1 if any job failed."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        table = job_table(sweep_dir)
        if table.empty:
            return
        table.to_csv(sweep_dir / "summary.csv", index=False)
        counts = table["status"].value_counts().to_dict()
        with pd.option_context("display.width", 200, "display.max_colwidth", 80, "display.max_rows", 500):
            print(table.drop(columns=[c for c in ("note",) if table[c].eq("").all()]).to_string(index=False))
        print(f"sweep {sweep_dir}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
              + f"; table in {sweep_dir / 'summary.csv'}")
        if counts.get("failed"):
            print(f"{counts['failed']} job(s) failed: their failed.json says why; re-running the same "
                  "command retries only them", file=sys.stderr)
            sys.exit(1)
