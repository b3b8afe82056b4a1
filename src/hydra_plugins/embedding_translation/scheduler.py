"""Hydra's submitit launchers (submitit_slurm, submitit_local), made to wait for every job of a sweep.

Hydra's own launch collects the jobs' results in job order and raises at the first job that left none (one
cancelled with scancel, timed out, preempted, killed for memory): the submitting process then stops waiting
while later jobs still run, and the sweep's summary would list them as failed. Here every job is waited for;
one the scheduler ended without a result is recorded with its state, id and log
(src/embtrans/sweep/scheduler_endings.py), and the summary lists it as unfinished or failed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from omegaconf import OmegaConf

from embtrans.sweep import scheduler_endings
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import BaseSubmititLauncher

log = logging.getLogger(__name__)

SCHEDULER = {"slurm": "SLURM", "local": "local"}


def executor_for(launcher: BaseSubmititLauncher):
    """The submitit executor with the launcher's parameters, as Hydra's BaseSubmititLauncher.launch builds it:
    submitit_folder and max_num_timeout at creation, the queue's keys (prefixed by the executor's name where
    they are its own) after."""
    import submitit

    params, name = launcher.params, launcher._EXECUTOR
    init_keys = {"max_num_timeout"}
    executor = submitit.AutoExecutor(cluster=name, folder=params["submitit_folder"],
                                     **{f"{name}_{key}": value for key, value in params.items() if key in init_keys})
    shared = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(**{key if key in shared else f"{name}_{key}": value for key, value in params.items()
                                  if key not in init_keys | {"submitit_folder"}})
    return executor


def launch_and_wait(launcher: BaseSubmititLauncher, job_overrides: Sequence[Sequence[str]], initial_job_idx: int,
                    folders: Sequence[Path | None], finished: Sequence[bool]) -> list[JobReturn]:
    """Submit the batch's jobs but the ``finished`` ones as one job array, and wait for every one; ``folders``
    are the jobs' folders (None where unknown), under which a job the scheduler ended early is recorded."""
    from submitit.core.utils import FailedJobError, UncompletedJobError

    config = launcher.config
    sweep_dir = Path(str(config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    scheduler = SCHEDULER.get(launcher._EXECUTOR, launcher._EXECUTOR)
    log.info(f"Submitit '{launcher._EXECUTOR}' sweep output dir : {sweep_dir}")
    arguments, submitted = [], []
    for idx, (overrides, folder, done) in enumerate(zip(job_overrides, folders, finished), initial_job_idx):
        log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}" + ("  (already done: not submitted)" * done))
        if not done:
            arguments.append((list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}", Singleton.get_state()))
            submitted.append(folder)
    returns = [JobReturn(status=JobStatus.COMPLETED, _return_value=math.nan) for _ in range(len(job_overrides) -
                                                                                            len(arguments))]
    if not arguments:
        log.info("every job of the batch is already done in its folder: nothing submitted to %s", scheduler)
        return returns
    jobs = executor_for(launcher).map_array(launcher, *zip(*arguments))
    log.info("submitted %d job(s) to %s (%s ... %s); their logs: %s", len(jobs), scheduler, jobs[0].job_id,
             jobs[-1].job_id, Path(str(launcher.params["submitit_folder"])).parent)
    scheduler_endings.waiting[:] = jobs
    for job, folder in zip(jobs, submitted):
        try:
            returns.append(job.results()[0])
        except (UncompletedJobError, FailedJobError) as error:  # ended by the scheduler, or its process died
            state = job.state
            log.warning("%s job %s ended %s without a result (%s)", scheduler, job.job_id, state,
                        str(error).splitlines()[0])
            if folder is not None:
                scheduler_endings.record(str(folder), scheduler, job.job_id, state, str(job.paths.stderr))
            returns.append(JobReturn(status=JobStatus.COMPLETED, _return_value=math.nan))
    scheduler_endings.waiting.clear()
    return returns
