"""At the end of a sweep: one table of every job (trained, reused, skipped, failed), printed and saved."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from embtrans.config_checks import TRAIN_RULES, check
from embtrans.errors import UserError
from embtrans.run_files import DamagedFile, read_json, read_metrics, reused_run
from embtrans.sweep import faults, scheduler_endings
from embtrans.sweep.embed_first import embed_before_jobs
from embtrans.sweep.faults import describe_fault
from embtrans.sweep.orphan_guard import mark_sweep_process
from embtrans.sweep.scheduler_launch import submission_refused

log = logging.getLogger(__name__)

SWEEP_LOCK = ".sweep.lock"  # held by the sweep running into the folder


def job_row(sweep_dir: Path, job_dir: Path) -> dict:
    row = {"job": str(job_dir.relative_to(sweep_dir))}
    # An attempt clears failed.json before it starts, so one present means the latest attempt failed.
    for status, name, key in (("failed", "failed.json", "message"), ("skipped", "skipped.json", "reason")):
        if (job_dir / name).exists():
            try:
                note = str(read_json(job_dir / name, "re-run the sweep to retry the job").get(key, ""))
            except DamagedFile as damaged:
                note = str(damaged)
            return row | {"status": status, "note": note}
    if not (job_dir / "metrics.json").exists():
        return row | {"status": "unfinished", "note": "no metrics.json: the job was interrupted"}
    try:
        metrics = read_metrics(job_dir)
    except DamagedFile as damaged:
        return row | {"status": "damaged", "note": str(damaged)}
    reused = reused_run(job_dir, metrics)
    run = metrics.get("run", {})
    shown = reused and (reused.relative_to(sweep_dir) if reused.is_relative_to(sweep_dir) else reused)
    return row | {
        "status": "reused" if reused else "trained",
        "test_mse": metrics["test/mse"], "test_cosine": metrics["test/cosine"],
        "lstsq_mse": metrics.get("baselines", {}).get("lstsq", {}).get("test/mse"),
        "mean_vector_mse": metrics.get("baselines", {}).get("mean_vector", {}).get("test/mse"),
        # how the run trained: epochs done, the epoch kept, and its wall time (this job's, when it trained)
        "epochs": run.get("epochs"), "best_epoch": run.get("best_epoch"),
        "seconds": None if reused else run.get("seconds"),
        "note": f"same run as {shown}" if reused else "",
    }


def job_table(sweep_dir: Path, ended: bool = False) -> pd.DataFrame:
    """A row per job folder. With ``ended`` (the sweep finished, nothing of it runs any more), a job that
    left no result and no failure record is unfinished if a scheduler stopped it (scancel, its time limit:
    the note says which, and a re-run resumes it), else it failed without a word: it is listed as failed,
    with the reason its folder cannot be written when that is it (a full disk, a read-only folder); so is
    a job Hydra could not start at all (its folder was never written)."""
    sweep_dir = Path(sweep_dir)
    rows = [job_row(sweep_dir, overrides.parent.parent) for overrides in sorted(sweep_dir.rglob(".hydra/overrides.yaml"))]
    listed = {row["job"] for row in rows}
    for folder, fault in faults.not_started.items() if ended else ():  # Hydra could not even write its folder
        job = str(Path(folder).relative_to(sweep_dir)) if Path(folder).is_relative_to(sweep_dir) else folder
        if job not in listed:
            rows.append({"job": job, "status": "failed", "note": f"not started: {fault}"})
    rows.sort(key=lambda row: row["job"])
    for row in rows if ended else ():
        if row["status"] == "unfinished" and str(sweep_dir / row["job"]) in scheduler_endings.ended:
            status, note = scheduler_endings.ended[str(sweep_dir / row["job"])]  # scancel, a time limit, ...
            row.update(status=status, note=note)
        elif row["status"] == "unfinished":
            fault = write_fault(sweep_dir / row["job"])
            row.update(status="failed", note=f"no metrics.json: {fault}" if fault else
                       "no metrics.json and no failed.json: the job ended without a result")
    return pd.DataFrame(rows)


def write_fault(folder: Path) -> str | None:
    """Why nothing can be written into ``folder`` (the OS's words and the path), or None if it can."""
    probe = folder / f".write-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"probe")
        probe.unlink()
        return None
    except OSError as error:
        probe.unlink(missing_ok=True)
        return describe_fault(error, folder)


def print_summary(sweep_dir: Path, since: float | None = None, ended: bool = False) -> dict[str, int]:
    """Print the job table, save it as summary.csv, and return the count of jobs per status. With
    ``since`` (when this command started), also say how many finished jobs were done before it."""
    table = job_table(sweep_dir, ended)
    if table.empty:
        return {}
    try:
        table.to_csv(sweep_dir / "summary.csv", index=False)
    except OSError as error:
        print(f"summary.csv could not be written: {describe_fault(error, sweep_dir / 'summary.csv')}", file=sys.stderr)
    counts = table["status"].value_counts().to_dict()
    with pd.option_context("display.width", 200, "display.max_colwidth", 100, "display.max_rows", 500):
        print(table.drop(columns=[c for c in ("note",) if table[c].eq("").all()]).to_string(index=False))
    line = f"sweep {sweep_dir}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    finished = table.loc[table["status"].isin(["trained", "reused"]), "job"]
    earlier = sum((sweep_dir / job / "metrics.json").stat().st_mtime < since for job in finished) if since else 0
    if earlier:
        line += f" ({earlier} of them already done before this command, left as they were)"
    if since:
        line += f"; took {elapsed(time.time() - since)}" + (
            f" (embedding first: {elapsed(SweepSummary.embedding_seconds)})" if SweepSummary.embedding_seconds >= 1 else "")
    print(line + f"; table in {sweep_dir / 'summary.csv'}")
    return counts


def elapsed(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


class SweepSummary(Callback):
    """Checks the sweep's common settings before any job starts; at the end prints the table, writes
    ``summary.csv`` in the sweep directory, and exits 1 if any job failed."""

    # Of the sweep running in this process, for the interruption handler.
    sweep_dir: Path | None = None
    started: float | None = None
    embedding_seconds: float = 0.0  # of the embeddings computed before the jobs
    lock: FileLock | None = None  # on the sweep folder, while this sweep runs

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        SweepSummary.sweep_dir, SweepSummary.started = Path(config.hydra.sweep.dir), time.time()
        mark_sweep_process()
        signal.signal(signal.SIGTERM, interrupt_on_sigterm)  # SIGTERM then stops the workers as Ctrl-C does
        try:
            check(config, TRAIN_RULES)  # values common to every job; swept ones are checked in each job
            if (refused := submission_refused(config)) is not None:  # before hours of embedding, not after
                raise UserError(refused)
            hold_sweep_folder(SweepSummary.sweep_dir)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
        embedding_started = time.time()
        try:
            embed_before_jobs(config, show_progress=config.data.show_progress)
        except Exception as error:  # never in the way of the sweep: each job embeds what it lacks itself
            log.warning("could not embed ahead of the jobs (%s: %s); each job embeds what it needs itself",
                        type(error).__name__, str(error).splitlines()[0] if str(error) else "")
        SweepSummary.embedding_seconds = time.time() - embedding_started

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        counts = print_summary(sweep_dir, SweepSummary.started, ended=True)
        failed = counts.get("failed", 0) + counts.get("damaged", 0)
        unfinished = counts.get("unfinished", 0)  # stopped by the scheduler (only they stay unfinished here)
        for fault in dict.fromkeys(faults.recorded):  # each distinct fault once
            print(f"error: the sweep could not write its files: {fault}", file=sys.stderr)
        for refusal in dict.fromkeys(scheduler_endings.refusals):
            print(f"error: {refusal}", file=sys.stderr)
        if failed:
            print(f"{failed} job(s) failed: the table's note (and each failed.json) says why; re-running the "
                  "same command retries only them", file=sys.stderr)
        if unfinished:
            print(f"{unfinished} job(s) unfinished: the scheduler stopped them (the table's note says how); "
                  "re-running the same command resumes them from their last epoch", file=sys.stderr)
        if faults.recorded and not failed:
            print("the sweep stopped before all its jobs ran: once the folder can be written, re-running the "
                  "same command runs only what is missing", file=sys.stderr)
        if failed or unfinished or faults.recorded:
            sys.exit(1)


def hold_sweep_folder(sweep_dir: Path) -> None:
    """Lock the sweep folder for this command's lifetime: a second sweep into it at once would list the
    other's jobs as its own and overwrite its multirun.yaml. Refused in one line (a UserError)."""
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(sweep_dir / SWEEP_LOCK))
        lock.acquire(timeout=0)
    except Timeout:
        raise UserError(f"another sweep is running into {sweep_dir} now: wait until it ends, or give this one "
                        "its own hydra.sweep.dir") from None
    except OSError as error:
        raise UserError(f"the sweep folder cannot be written: {describe_fault(error, sweep_dir)}; free space, "
                        "make it writable, or choose another hydra.sweep.dir") from None
    SweepSummary.lock = lock  # held until this process exits


class SweepInterrupted(KeyboardInterrupt):
    """SIGTERM to the sweep's main process, raised as Ctrl-C's KeyboardInterrupt: joblib answers both
    by stopping every worker."""


def interrupt_on_sigterm(signum, frame) -> None:
    raise SweepInterrupted()


@contextmanager
def summary_when_interrupted():
    """Around train.py's main: Ctrl-C or SIGTERM ends with the table of what finished and one line on
    how to go on, instead of a KeyboardInterrupt traceback."""
    try:
        yield
    except KeyboardInterrupt as interruption:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the summary short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        how = "SIGTERM" if isinstance(interruption, SweepInterrupted) else "Ctrl-C"
        cancelled = scheduler_endings.cancel_waiting()  # jobs on SLURM end with the command, as joblib's workers do
        if cancelled:
            print(f"cancelled the sweep's {len(cancelled)} scheduler job(s) still queued or running: "
                  f"{', '.join(cancelled)}", file=sys.stderr)
        sweep_dir = SweepSummary.sweep_dir
        if sweep_dir is not None and sweep_dir.is_dir():
            print_summary(sweep_dir, SweepSummary.started)
            print(f"interrupted by {how}: finished jobs are kept; re-run the same command to train only the "
                  "missing ones", file=sys.stderr)
        else:
            print(f"interrupted by {how}", file=sys.stderr)
        sys.exit(130 if how == "Ctrl-C" else 143)
