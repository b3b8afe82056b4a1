"""Hydra's basic sweeper, made to end a sweep with its summary when the disk fails it.

Hydra writes each job's folder and .hydra/ files itself, before the job's code runs, and lets an
OSError there (no space left, a read-only folder) end the whole sweep in a traceback without the
table of what finished. This sweeper records such a fault (src/embtrans/sweep/faults.py) and goes on, so the
summary callback prints the table, one line per fault, and exits 1, as it does for a failed job.
Hydra accepts sweepers only from the hydra_plugins namespace, hence this package.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import DictConfig, open_dict

from embtrans.sweep import faults, scheduler_endings
from embtrans.sweep.job import finished_in
from embtrans.sweep.run_index import run_fingerprint
from embtrans.sweep.scheduler_launch import SubmissionRefused, launch_and_wait
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import BaseSubmititLauncher


class FaultTolerantSweeper(BasicSweeper):
    def setup(self, **kwargs) -> None:
        super().setup(**kwargs)
        self.launcher = RecordingLauncher(self.launcher, self.config.hydra.sweep.dir)

    def sweep(self, arguments: list[str]) -> Any:
        try:
            return super().sweep(arguments)
        except OSError as error:  # the sweep's own folder or multirun.yaml could not be written
            faults.record(error, self.config.hydra.sweep.dir)
            return []


class RecordingLauncher:
    """The configured launcher, but a batch that raised (Hydra could not write a job's folder) or a job
    that returned an exception is recorded as a fault, and the sweep goes on to its summary."""

    def __init__(self, launcher, sweep_dir: str) -> None:
        self.launcher, self.sweep_dir = launcher, sweep_dir

    def __getattr__(self, name: str) -> Any:
        return getattr(self.launcher, name)

    def launch(self, job_overrides, initial_job_idx: int):
        try:
            if isinstance(self.launcher, BaseSubmititLauncher):  # SLURM, or submitit's local processes
                folders, finished = self.scheduled_jobs(job_overrides, initial_job_idx)
                results = launch_and_wait(self.launcher, job_overrides, initial_job_idx, folders, finished)
            else:
                results = self.launcher.launch(job_overrides, initial_job_idx=initial_job_idx)
        except SubmissionRefused as refusal:  # sbatch failed: no job of the batch started
            scheduler_endings.refusals.append(str(refusal))
            self.record_not_started(job_overrides, initial_job_idx, str(refusal))
            return []
        except Exception as error:  # joblib re-raises a worker's OSError
            faults.record(error, self.sweep_dir)
            self.record_not_started(job_overrides, initial_job_idx, faults.describe_fault(error, self.sweep_dir))
            return []
        for result in results:
            if result.status == JobStatus.FAILED:
                faults.record(result._return_value, self.sweep_dir)
        return [JobReturn(status=JobStatus.COMPLETED, _return_value=float("nan"))
                if result.status == JobStatus.FAILED else result for result in results]

    def record_not_started(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int, fault: str) -> None:
        """Name each job of the batch that never got its folder, so the summary lists it as failed
        instead of leaving it out (the table is made from the folders the jobs wrote)."""
        try:
            for folder, _ in self.job_folders(job_overrides, initial_job_idx):
                if not (folder / ".hydra" / "overrides.yaml").exists():
                    faults.not_started[str(folder)] = fault
        except Exception:  # the folder's name could not be resolved: the fault line above still says it
            pass

    def scheduled_jobs(self, job_overrides: Sequence[Sequence[str]],
                       initial_job_idx: int) -> tuple[list[Path | None], list[bool]]:
        """Each job's folder, and whether it already holds the job's finished run: a scheduler's queue can
        hold a job for hours, so a re-run submits only what is not done. (None, False) for every job where a
        job's config does not compose: each job is then submitted, and says why in its own folder."""
        try:
            jobs = [(folder, config.get("resume", True) and finished_in(folder, run_fingerprint(config))[0] is not None)
                    for folder, config in self.job_folders(job_overrides, initial_job_idx)]
            return [folder for folder, _ in jobs], [done for _, done in jobs]
        except Exception:
            return [None] * len(job_overrides), [False] * len(job_overrides)

    def job_folders(self, job_overrides: Sequence[Sequence[str]],
                    initial_job_idx: int) -> Iterator[tuple[Path, DictConfig]]:
        """Each job's folder and config, resolved as the launcher resolves them in the job (with HydraConfig
        set to the job's config, since the folder's name reads it)."""
        hydra_config = HydraConfig.instance()
        saved = hydra_config.cfg
        try:
            for idx, overrides in enumerate(job_overrides, initial_job_idx):
                config = self.launcher.hydra_context.config_loader.load_sweep_config(self.launcher.config, list(overrides))
                with open_dict(config):
                    config.hydra.job.id, config.hydra.job.num = f"{config.hydra.job.name}_{idx}", idx
                hydra_config.set_config(config)
                yield Path(str(config.hydra.sweep.dir)) / str(config.hydra.sweep.subdir), config
        finally:
            hydra_config.cfg = saved
