"""Jobs a scheduler ended without a result: cancelled (scancel), timed out, preempted, out of memory, node lost.

Under the submitit launchers each job of a sweep is a scheduler job; one the scheduler stops leaves no
metrics.json and no failed.json of its own. The launch (scheduler_launch.py)
records how each such job ended, with its id and log, and the sweep's summary lists it: unfinished where a
re-run resumes it from its last epoch, failed where it would end the same way again.
"""

from __future__ import annotations

# Of the sweep running in this process: job folder -> (status, note).
ended: dict[str, tuple[str, str]] = {}
# Why the scheduler did not take a batch of its jobs (sbatch's words), one line each.
refusals: list[str] = []
# Its scheduler jobs (submitit Job objects) while the command waits for them: cancelled if it is interrupted.
waiting: list = []

# SLURM states of a job stopped from outside before it finished (submitit's local executor says INTERRUPTED).
STOPPED = {"CANCELLED", "TIMEOUT", "PREEMPTED", "NODE_FAIL", "BOOT_FAIL", "DEADLINE", "REQUEUED", "SUSPENDED",
           "INTERRUPTED"}


def record(folder: str, scheduler: str, job_id: str, state: str, log: str) -> None:
    """Note how the scheduler ended the job whose folder is ``folder`` (its state as sacct says it)."""
    word = (state.split() or ["UNKNOWN"])[0].upper()
    job = f"{scheduler} job {job_id}"
    if word in STOPPED:
        ended[folder] = ("unfinished", f"{job} ended {state} before it finished; its log: {log}")
    elif word == "OUT_OF_MEMORY":
        ended[folder] = ("failed", f"{job} ran out of memory (OUT_OF_MEMORY): raise hydra.launcher.mem_gb; "
                                   f"its log: {log}")
    else:
        ended[folder] = ("failed", f"{job} ended {state} without a result; its log: {log}")


def cancel_waiting() -> list[str]:
    """Cancel the jobs this command still waits for (Ctrl-C or SIGTERM to it): a sweep's jobs end with its command,
    as joblib's do, instead of training on unwatched while a re-run submits them again. Their ids."""
    cancelled = []
    for job in list(waiting):
        try:
            if not job.done():
                job.cancel(check=False)
                cancelled.append(str(job.job_id))
        except Exception:  # the scheduler did not answer: the line printed names no such job
            pass
    waiting.clear()
    return cancelled
