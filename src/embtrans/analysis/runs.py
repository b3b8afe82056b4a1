"""The finished runs of a sweep, each pointing at the directory that holds its artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from embtrans.errors import UserError
from embtrans.run_files import DamagedFile, read_metrics, reused_run
from embtrans.sweep.summary import job_table

# Files a trained run leaves behind; analysis needs every one of them.
ARTIFACTS = ("metrics.json", "config.yaml", "split.csv", "translated/test.npy", "translated/test_ids.txt")


@dataclass
class Run:
    """One trained translator. Reused jobs of a sweep point at the run that trained it."""

    jobs: list[str]  # the sweep jobs that are this run (linear at every width is one run)
    run_dir: Path  # where its artifacts lie (another sweep's directory when the job reused it)
    metrics: dict
    config: DictConfig

    @property
    def info(self) -> dict:
        return self.metrics["run"]

    @property
    def pair(self) -> str:
        return f"{self.info['model_a']}-to-{self.info['model_b']}"

    @property
    def label(self) -> str:
        """arch-x<width> for width-dependent architectures, the arch name alone otherwise."""
        width = self.info.get("width")
        return self.info["arch"] if width is None else f"{self.info['arch']}-x{width}"

    @property
    def key(self) -> str:
        """Unique per run: the run's fingerprint when it has one."""
        return self.info.get("fingerprint") or self.run_dir.name


@dataclass
class SweepRuns:
    sweep_dir: Path
    runs: list[Run]
    left_out: list[str]  # one line per job that failed or is incomplete, saying why
    skipped: list[str]  # jobs the sweep itself skipped (same model as A and B, or its cut): 'job: reason'


class NoSweepYet(UserError):
    """No sweep has been run under the log directory: analyze.py writes the placeholder report instead."""


def latest_sweep(log_dir: Path) -> Path:
    """The newest sweep directory under <log_dir>/train/multiruns that has at least one job."""
    root = Path(log_dir) / "train" / "multiruns"
    sweeps = sorted(p for p in root.glob("*") if p.is_dir() and next(p.rglob(".hydra/overrides.yaml"), None))
    if not sweeps:
        raise NoSweepYet(
            f"no sweep found under {root}: run one first (python train.py -m arch=linear,mlp1,mlp2 "
            "width=1,8,32), or point at one with sweep_dir=<path>"
        )
    return sweeps[-1]


def load_sweep(sweep_dir: Path) -> SweepRuns:
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise UserError(f"sweep directory {sweep_dir} does not exist: pass sweep_dir=<a directory under "
                        "outputs/train/multiruns>, or leave it out to analyse the latest sweep")
    table = job_table(sweep_dir)
    if table.empty:
        raise UserError(f"{sweep_dir} holds no sweep jobs (no .hydra/overrides.yaml below it): is it a "
                        "directory made by python train.py -m?")
    runs: dict[Path, Run] = {}
    left_out, skipped = [], []
    for job, status, note in table[["job", "status", "note"]].itertuples(index=False):
        if status == "skipped":
            skipped.append(f"{job}: {note}")
            continue
        if status not in ("trained", "reused"):
            left_out.append(f"{job}: {status}" + (f" ({note})" if note else ""))
            continue
        job_dir = sweep_dir / job
        run_dir = (reused_run(job_dir, read_metrics(job_dir)) or job_dir).resolve()
        missing = [name for name in ARTIFACTS if not (run_dir / name).exists()]
        if missing:
            left_out.append(f"{job}: its run directory {run_dir} lacks {', '.join(missing)}")
            continue
        if run_dir in runs:
            runs[run_dir].jobs.append(job)
            continue
        try:
            metrics = read_metrics(run_dir, "re-run the job that trained it")
        except DamagedFile as damaged:
            left_out.append(f"{job}: {damaged}")
            continue
        runs[run_dir] = Run([job], run_dir, metrics, OmegaConf.load(run_dir / "config.yaml"))
    if not runs:
        raise UserError(f"no finished run to analyse in {sweep_dir}: " + "; ".join(left_out + skipped))
    ordered = sorted(runs.values(), key=lambda r: (r.info["dataset"], r.pair, r.info["arch"], r.info.get("width") or 0))
    return SweepRuns(sweep_dir, ordered, left_out, skipped)
