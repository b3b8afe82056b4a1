"""Where a job trains, as its metrics.json says (training/placement.py), and what a scheduler's job is given: its
cores, not the node's (a SLURM job's GPUs: tests/sweep/test_gpu_claim.py). GPUs are faked: no test needs one."""

import socket

import torch

from embtrans.training.placement import allotted_cpus, placement
from embtrans.training.run import thread_count

SLURM_JOB = {"SLURM_JOB_ID": "41", "SLURM_ARRAY_JOB_ID": "40", "SLURM_ARRAY_TASK_ID": "1",
             "SLURM_JOB_PARTITION": "gpu", "SLURM_CPUS_PER_TASK": "3", "SLURM_JOB_GPUS": "2"}


def without_slurm(monkeypatch):
    for name in [*SLURM_JOB, "SLURM_CPUS_ON_NODE"]:
        monkeypatch.delenv(name, raising=False)


def test_a_cpu_run_records_its_host_and_no_scheduler(monkeypatch):
    without_slurm(monkeypatch)
    assert placement(torch.device("cpu")) == {"host": socket.gethostname(), "device": "cpu"}
    assert allotted_cpus() is None


def test_a_gpu_run_records_which_gpu_and_its_slurm_job(monkeypatch):
    for name, value in SLURM_JOB.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: f"Fake GPU {index}")
    where = placement(torch.device("cuda", 1))
    assert where["device"] == "cuda" and where["device_index"] == 1 and where["device_name"] == "Fake GPU 1"
    assert where["visible_devices"] == "2,3"
    assert where["slurm"] == {"job_id": "41", "array_job_id": "40", "array_task_id": "1", "partition": "gpu",
                              "cpus_per_task": "3", "gpus": "2"}


def test_a_slurm_job_takes_the_cores_it_was_given(monkeypatch, compose_train):
    without_slurm(monkeypatch)
    cfg = compose_train()
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    monkeypatch.setenv("SLURM_CPUS_ON_NODE", "4")
    assert thread_count(cfg) == 4  # no --cpus-per-task: its cores on the node
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "2")
    assert thread_count(cfg) == 2
    cfg.threads = 1
    assert thread_count(cfg) == 1  # `threads` still says the last word
