"""Which GPU a sweep's job takes on a machine with several (sweep/gpu_claim.py), with a faked device count:
real processes hold real claims; a killed one's claim is let go."""

import subprocess
import sys
import textwrap
import time
from contextlib import ExitStack
from types import SimpleNamespace

import pytest

from embtrans.sweep.gpu_claim import CLAIMS, claimed_device, held_claims


def test_each_job_takes_the_least_loaded_gpu_and_gives_it_back(tmp_path):
    with ExitStack() as jobs:
        devices = [jobs.enter_context(claimed_device(tmp_path, 3)) for _ in range(4)]
        assert devices == [0, 1, 2, 0]
        assert held_claims(tmp_path / CLAIMS, 3) == [2, 1, 1]
    assert held_claims(tmp_path / CLAIMS, 3) == [0, 0, 0]  # every job ended: nothing held


def test_a_job_that_ends_early_frees_its_gpu_for_the_next(tmp_path):
    """Round-robin by job number would put job 2 beside job 0 when job 1 ends first; a claim does not."""
    with claimed_device(tmp_path, 2) as first:
        with claimed_device(tmp_path, 2) as second:
            assert (first, second) == (0, 1)
        with claimed_device(tmp_path, 2) as third:
            assert third == 1


def test_the_claim_of_a_killed_job_is_let_go_and_a_live_one_in_another_process_counts(tmp_path):
    holder = textwrap.dedent(f"""
        import sys, time
        from embtrans.sweep.gpu_claim import claimed_device
        with claimed_device({str(tmp_path)!r}, 2) as device:
            print(device, flush=True)
            time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "0"
        with claimed_device(tmp_path, 2) as mine:
            assert mine == 1  # the other process holds GPU 0
        process.kill()
        process.wait()
        time.sleep(0.1)
        assert held_claims(tmp_path / CLAIMS, 2) == [0, 0]
        assert not list((tmp_path / CLAIMS).glob("gpu*.lock"))  # the stale claim file is removed
        with claimed_device(tmp_path, 2) as after:
            assert after == 0
    finally:
        process.kill()


@pytest.fixture
def two_gpus(tmp_path, monkeypatch, compose_train):
    """A sweep job's module seeing two (faked) GPUs, its sweep folder tmp_path; the job's config, on accelerator
    auto."""
    import embtrans.sweep.job as job

    monkeypatch.setattr(job.torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(job, "in_multirun", lambda: True)
    hydra = SimpleNamespace(sweep=SimpleNamespace(dir=str(tmp_path)))
    monkeypatch.setattr(job, "HydraConfig", SimpleNamespace(get=lambda: hydra))
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    cfg = compose_train()
    cfg.trainer.accelerator = "auto"
    return job, cfg


def test_a_sweep_job_trains_on_its_claimed_gpu_and_arch_auto_candidates_share_it(tmp_path, two_gpus):
    """With two GPUs faked: the job's config names the claimed device; a nested run (arch=auto's candidate) stays
    on it instead of claiming a second; on a CPU-only config nothing changes."""
    job, cfg = two_gpus
    with claimed_device(tmp_path, 2):  # another job already trains on GPU 0
        with job.own_gpu(cfg) as mine:
            assert list(mine.trainer.devices) == [1] and cfg.trainer.devices != [1]
            with job.own_gpu(cfg) as candidate:
                assert list(candidate.trainer.devices) == [1]
            assert held_claims(tmp_path / CLAIMS, 2) == [1, 1]
    cfg.trainer.accelerator = "cpu"
    with job.own_gpu(cfg) as unchanged:
        assert unchanged is cfg


def test_a_slurm_job_trains_on_the_gpus_slurm_gave_it_without_a_claim(tmp_path, monkeypatch, two_gpus):
    """SLURM chose the job's GPUs (CUDA_VISIBLE_DEVICES), so the job claims nothing in the sweep folder, which on a
    cluster is shared by jobs on other nodes that would count against GPUs they cannot see."""
    job, cfg = two_gpus
    monkeypatch.setenv("SLURM_JOB_ID", "9")
    with job.own_gpu(cfg) as mine:
        assert mine is cfg and not (tmp_path / CLAIMS).exists()
