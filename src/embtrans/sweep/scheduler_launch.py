"""A sweep's jobs on a scheduler (Hydra's submitit launchers: submitit_slurm, submitit_local): checked before any
work, submitted once, and waited for to the last one.

- Before the sweep embeds anything, ``submission_refused`` asks SLURM whether it would take a job with the
  launcher's resources (``sbatch --test-only`` on the very script submitit would submit): a wrong partition,
  more memory or GPUs than a node has, or no cluster at all is one line (exit 2), not a failure after the
  embedding.
- Hydra's own launch collects the jobs' results in job order and raises at the first job that left none (one
  cancelled with scancel, timed out, preempted, killed for memory): the submitting process then stops waiting
  while later jobs still run, and the summary would list them as failed. ``launch_and_wait`` waits for every
  job; one the scheduler ended without a result is recorded with its state, id and log (scheduler_endings.py),
  and the summary lists it as unfinished or failed. Jobs already finished in their folders are not submitted.
"""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from omegaconf import DictConfig, OmegaConf

from embtrans.sweep import scheduler_endings
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import BaseSubmititLauncher

log = logging.getLogger(__name__)

SCHEDULER = {"slurm": "SLURM", "local": "local"}


class SubmissionRefused(Exception):
    """The scheduler did not take the batch's jobs (sbatch failed)."""


def executor_for(name: str, params: dict, folder: str | None = None):
    """The submitit executor ``name`` (slurm, local) with a launcher's parameters, as Hydra's
    BaseSubmititLauncher.launch builds it: the folder and max_num_timeout at creation, the queue's keys (prefixed
    by the executor's name where they are its own) after."""
    import submitit

    init_keys = {"max_num_timeout"}
    executor = submitit.AutoExecutor(cluster=name, folder=folder or params["submitit_folder"],
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
    no_value = JobReturn(status=JobStatus.COMPLETED, _return_value=math.nan)  # the summary reads the job folders
    returns = [no_value] * (len(job_overrides) - len(arguments))  # the jobs not submitted
    if not arguments:
        log.info("every job of the batch is already done in its folder: nothing submitted to %s", scheduler)
        return returns
    try:
        jobs = executor_for(launcher._EXECUTOR, launcher.params).map_array(launcher, *zip(*arguments))
    except Exception as error:  # submitit's FailedJobError carries sbatch's own words
        words = next((line.strip() for line in str(error).splitlines() if "error" in line.lower()), str(error))
        raise SubmissionRefused(f"{scheduler} did not take the sweep's jobs: {words}") from None
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
            returns.append(no_value)
    scheduler_endings.waiting.clear()
    return returns


def submission_refused(config: DictConfig, seconds: float = 30) -> str | None:
    """Why SLURM would refuse this sweep's jobs, in one line; None when it would take them, or when the sweep
    does not run on SLURM. Asked of the cluster with ``sbatch --test-only`` on the script submitit writes."""
    launcher = config.hydra.launcher
    if not str(launcher.get("_target_", "")).endswith(".SlurmLauncher"):
        return None
    keys = "hydra.launcher's partition, mem_gb, cpus_per_task, gpus_per_node or timeout_min"
    if shutil.which("sbatch") is None:
        return ("hydra/launcher=submitit_slurm, but SLURM's sbatch is not installed here: submit from the cluster's "
                "login node, or make this machine a one-node cluster with tools/slurm_one_node.sh start")
    params = {key: value for key, value in OmegaConf.to_container(launcher, resolve=True).items() if key != "_target_"}
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "preflight.sh"
        try:
            executor = executor_for("slurm", params, folder)
        except RuntimeError as error:  # submitit: 'Could not detect "srun", are you indeed on a slurm cluster?'
            return f"hydra/launcher=submitit_slurm, but {error}"
        script.write_text(executor._executor._make_submission_file_text("true", "check"))
        try:
            answer = subprocess.run(["sbatch", "--test-only", str(script)], capture_output=True, text=True,
                                    timeout=seconds)
        except subprocess.TimeoutExpired:
            return (f"SLURM did not answer within {seconds:.0f} s (sbatch --test-only): is the cluster up? `sinfo` "
                    "says; tools/slurm_one_node.sh start starts a one-node one")
    if answer.returncode != 0:
        lines = [line.strip() for line in answer.stderr.splitlines() if line.strip()]
        words = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "no reason given")
        return f"SLURM would refuse the sweep's jobs ({words}): check {keys}"
    return None
