"""Where a run trains: the host, the device, and, under a scheduler, the job and the cores it was given.

Recorded in each run's metrics.json (``run.placement``), so a sweep spread over GPUs or cluster nodes says
which machine and device produced each number, and timings are compared like with like.
"""

from __future__ import annotations

import os
import socket

import torch

# SLURM's names for the job and what it was given, as sbatch and srun export them into the job's environment.
SLURM_KEYS = {"job_id": "SLURM_JOB_ID", "array_job_id": "SLURM_ARRAY_JOB_ID", "array_task_id": "SLURM_ARRAY_TASK_ID",
              "partition": "SLURM_JOB_PARTITION", "cpus_per_task": "SLURM_CPUS_PER_TASK",
              "gpus": "SLURM_JOB_GPUS"}


def slurm_job() -> dict | None:
    """This process's SLURM job as its environment names it; None outside one."""
    if "SLURM_JOB_ID" not in os.environ:
        return None
    return {key: os.environ[name] for key, name in SLURM_KEYS.items() if name in os.environ}


def allotted_cpus() -> int | None:
    """The cores a scheduler gave this job (SLURM's --cpus-per-task, else its cores on this node); None when no
    scheduler allots them. SLURM may not pin a job to them (a cluster without cgroups), so torch, left to count
    the machine's cores, would take every core of a node shared with other jobs."""
    if "SLURM_JOB_ID" not in os.environ:
        return None
    for name in ("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE"):
        if os.environ.get(name, "").isdigit():
            return max(1, int(os.environ[name]))
    return None


def placement(device: torch.device) -> dict:
    """The host, the device (a GPU's index among the visible ones, and its name) and the scheduler's job."""
    where = {"host": socket.gethostname(), "device": device.type}
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        where |= {"device_index": index, "device_name": torch.cuda.get_device_name(index),
                  "visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
    job = slurm_job()
    if job is not None:
        where["slurm"] = job
    return where
