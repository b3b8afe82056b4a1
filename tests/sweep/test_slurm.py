"""The sweep through a real SLURM (tools/slurm_one_node.sh: munge, slurmdbd, slurmctld and slurmd on this machine),
with submitit's SLURM launcher: jobs submitted by sbatch, the summary printed by the submitting process, a re-run
that submits nothing finished, a scancelled job listed as unfinished and resumed by the re-run from its last epoch.

They skip, saying why, where no such cluster answers; with SLURM_REQUIRED=1 (as .ci/run sets) they fail instead.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from embtrans.paths import ROOT

ONE_NODE_CONF = Path(os.environ.get("EMBTRANS_SLURM_DIR", "/tmp/embtrans-slurm")) / "etc" / "slurm.conf"
TINY = ["model_a=glove", "model_b=use", "dataset.limit=600", "logger=csv", "trainer.accelerator=cpu",
        "trainer.enable_progress_bar=false", "data.show_progress=false"]
# One core and 2 GB per job, so two jobs share this 2-core node at once.
ON_SLURM = ["hydra/launcher=submitit_slurm", "hydra.launcher.timeout_min=10", "hydra.launcher.cpus_per_task=1",
            "hydra.launcher.mem_gb=2"]


def cluster_or_reason(conf: Path, wait_seconds: float = 60) -> str | None:
    """None when a SLURM cluster answers with an idle or mixed node (waiting out a node still busy with an earlier
    test's job, allocated or completing); else why not."""
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return "SLURM's commands (sbatch, sinfo) are not installed: tools/slurm_one_node.sh start installs them"
    if not conf.exists() and "SLURM_CONF" not in os.environ:
        return f"no SLURM cluster is configured ({conf} is missing): start one with tools/slurm_one_node.sh start"
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            states = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, timeout=20,
                                    env=slurm_env(conf))
        except subprocess.TimeoutExpired:
            return "sinfo did not answer within 20 s: is slurmctld running? (tools/slurm_one_node.sh start)"
        if states.returncode != 0:
            return f"sinfo failed ({states.stderr.strip()}): start the cluster with tools/slurm_one_node.sh start"
        if {"idle", "mix"} & set(states.stdout.split()):
            return None
        if time.monotonic() > deadline:
            return f"no SLURM node became idle within {wait_seconds:.0f} s (sinfo says {states.stdout.split()})"
        time.sleep(0.5)


def slurm_env(conf: Path) -> dict:
    return {**os.environ, "SLURM_CONF": os.environ.get("SLURM_CONF", str(conf))}


@pytest.fixture
def slurm(cli_env):
    """The environment to submit from: the session's embedding cache and the cluster's SLURM_CONF."""
    reason = cluster_or_reason(ONE_NODE_CONF)
    if reason is not None:
        if os.environ.get("SLURM_REQUIRED") == "1":
            pytest.fail(f"SLURM_REQUIRED=1, but {reason}")
        pytest.skip(reason)
    return {**cli_env, "SLURM_CONF": slurm_env(ONE_NODE_CONF)["SLURM_CONF"]}


def command(args, tmp_path, name):
    return [sys.executable, str(ROOT / "train.py"), "-m", *TINY, *ON_SLURM, *args, f"paths.log_dir={tmp_path}",
            f"hydra.sweep.dir={tmp_path / name}"]


def sweep(args, env, tmp_path, name):
    return subprocess.run(command(args, tmp_path, name), capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=600)


def submitted_jobs(sweep_dir: Path) -> set[str]:
    """SLURM job ids submitit submitted for the sweep: its folder per job, .submitit/<id>, holds <id>_submitted.pkl
    (an array's own folder, .submitit/<array id>, holds only the batch script)."""
    return {p.name for p in (sweep_dir / ".submitit").iterdir() if (p / f"{p.name}_submitted.pkl").exists()}


def finished_files(sweep_dir: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in sweep_dir.rglob("metrics.json")}


@pytest.mark.slow
def test_a_sweep_runs_through_slurm_and_its_rerun_submits_only_what_failed(slurm, tmp_path):
    env = {**slurm, "EMBTRANS_CACHE_DIR": str(tmp_path / "cold-cache")}  # nothing embedded yet
    first = sweep(["model_b=use,glove", "arch=linear,mlp1"], env, tmp_path, "sweep")
    sweep_dir = tmp_path / "sweep"
    # the submitting process embedded glove's and use's texts before the array; no job embedded anything
    assert "the sweep's 2 embedding(s) are in the cache" in first.stdout + first.stderr
    logs = [p.read_text() for p in sweep_dir.rglob("glove-to-use/*/train.log")]
    assert len(logs) == 2 and all("reusing cached glove embeddings" in log for log in logs)
    # glove-to-glove fails in its job (one model twice): its failed.json reason reaches the table
    assert first.returncode == 1 and "2 job(s) failed" in first.stderr and "Traceback" not in first.stderr, first.stderr
    assert "submitted 4 job(s) to SLURM" in first.stdout + first.stderr
    table = pd.read_csv(sweep_dir / "summary.csv").sort_values("job")
    assert list(table["status"]) == ["failed", "failed", "trained", "trained"]
    assert table.loc[table["status"] == "failed", "note"].str.contains("model_a and model_b are both 'glove'").all()
    for metrics_file in sweep_dir.rglob("metrics.json"):
        run = json.loads(metrics_file.read_text())["run"]
        assert run["placement"]["slurm"]["job_id"] and run["placement"]["device"] == "cpu"
        assert run["threads"] == 1  # the core the job asked for (cpus_per_task), not the node's two
    # every job's log lies where the docs say: <sweep dir>/.submitit/<job id>/<job id>_0_log.{out,err}
    jobs = submitted_jobs(sweep_dir)
    assert len(jobs) == 4 and all((sweep_dir / ".submitit" / j / f"{j}_0_log.err").exists() for j in jobs)

    done = finished_files(sweep_dir)
    again = sweep(["model_b=use,glove", "arch=linear,mlp1"], env, tmp_path, "sweep")
    assert again.returncode == 1, again.stderr
    assert "submitted 2 job(s) to SLURM" in again.stdout + again.stderr  # only the failed ones
    assert len(submitted_jobs(sweep_dir) - jobs) == 2 and finished_files(sweep_dir) == done


def cancel_when_training(process, sweep_dir: Path, env: dict, epoch: int = 3) -> str:
    """Wait until the sweep's mlp2 job has saved a resume point at ``epoch`` or later, scancel it, and return its
    SLURM job id."""
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        found = list(sweep_dir.rglob("mlp2-x16_*/checkpoints/last.ckpt"))
        try:
            if found and torch.load(found[0], map_location="cpu", weights_only=False)["epoch"] >= epoch:
                [job_id] = [i for i in submitted_jobs(sweep_dir) if mlp2_job(sweep_dir, i)]
                subprocess.run(["scancel", job_id], env=env, check=True)
                return job_id
        except (EOFError, RuntimeError):  # caught mid-write: read it again
            pass
        time.sleep(0.05)
    raise AssertionError("the mlp2 job finished (or never checkpointed) before it could be cancelled")


def mlp2_job(sweep_dir: Path, job_id: str) -> bool:
    """Whether submitit's job ``job_id`` trains mlp2 (its submission file names the job's overrides)."""
    return b"arch=mlp2" in (sweep_dir / ".submitit" / job_id / f"{job_id}_submitted.pkl").read_bytes()


@pytest.mark.slow
def test_a_scancelled_job_is_unfinished_and_the_rerun_resumes_it_from_its_last_epoch(slurm, tmp_path):
    args = ["arch=linear,mlp2", "width=16", "trainer.max_epochs=300", "trainer.min_epochs=300",
            "callbacks.resume_checkpoint.every_seconds=0"]
    process = subprocess.Popen(command(args, tmp_path, "sweep"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=slurm, cwd=ROOT)
    sweep_dir = tmp_path / "sweep"
    job_id = cancel_when_training(process, sweep_dir, slurm)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 1 and "Traceback" not in stderr, stderr
    assert "1 job(s) unfinished" in stderr and "resumes them from their last epoch" in stderr
    table = pd.read_csv(sweep_dir / "summary.csv").set_index("status")
    assert sorted(table.index) == ["trained", "unfinished"]
    assert f"SLURM job {job_id} ended CANCELLED" in table.loc["unfinished", "note"]
    [folder] = list(sweep_dir.rglob("mlp2-x16_*"))
    assert not (folder / "metrics.json").exists() and not (folder / "failed.json").exists()

    again = sweep(args, slurm, tmp_path, "sweep")
    assert again.returncode == 0, again.stderr
    assert "submitted 1 job(s) to SLURM" in again.stdout + again.stderr
    run = json.loads((folder / "metrics.json").read_text())["run"]
    assert run["resumed_from_epoch"] >= 3 and run["epochs"] == 300
    assert pd.read_csv(sweep_dir / "summary.csv")["status"].eq("trained").all()

    done, jobs = finished_files(sweep_dir), submitted_jobs(sweep_dir)
    third = sweep(args, slurm, tmp_path, "sweep")  # everything is done: nothing goes to the queue
    assert third.returncode == 0 and "nothing submitted to SLURM" in third.stdout + third.stderr, third.stderr
    assert submitted_jobs(sweep_dir) == jobs and finished_files(sweep_dir) == done


@pytest.mark.slow
def test_ctrl_c_to_the_submitting_command_cancels_its_slurm_jobs(slurm, tmp_path):
    """A sweep's jobs end with its command, as joblib's workers do: none trains on unwatched while a re-run
    submits it again."""
    args = ["arch=mlp2", "width=16", "trainer.max_epochs=300", "trainer.min_epochs=300",
            "callbacks.resume_checkpoint.every_seconds=0"]
    process = subprocess.Popen(command(args, tmp_path, "sweep"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=slurm, cwd=ROOT, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    sweep_dir = tmp_path / "sweep"
    deadline = time.time() + 300
    while not list(sweep_dir.rglob("mlp2-x16_*/checkpoints/last.ckpt")):
        assert process.poll() is None and time.time() < deadline, process.communicate()
        time.sleep(0.1)
    [job_id] = submitted_jobs(sweep_dir)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends its foreground group
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr
    assert f"cancelled the sweep's 1 scheduler job(s) still queued or running: {job_id}" in stderr
    assert "interrupted by Ctrl-C" in stderr
    for _ in range(100):  # sacct has it once slurmctld has told slurmdbd
        state = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "State", "-j", job_id], capture_output=True,
                               text=True, env=slurm).stdout.split()
        if state and state[0] != "RUNNING":
            break
        time.sleep(0.2)
    assert state[0] == "CANCELLED", state  # "CANCELLED by <uid>"


def test_a_job_the_scheduler_ended_is_listed_by_how_it_ended(tmp_path, monkeypatch):
    """No cluster needed: the table's reading of what the launcher recorded. Stopped from outside (scancel, a time
    limit, preemption): unfinished, for a re-run to resume; out of memory: failed, naming the key to raise; no
    record at all: failed without a word."""
    from embtrans.sweep import scheduler_endings
    from embtrans.sweep.summary import job_table

    monkeypatch.setattr(scheduler_endings, "ended", {})
    for name in ("a_cancelled", "b_timeout", "c_oom", "d_silent"):
        (tmp_path / "pair" / name / ".hydra").mkdir(parents=True)
        (tmp_path / "pair" / name / ".hydra" / "overrides.yaml").write_text("[]\n")
    scheduler_endings.record(str(tmp_path / "pair" / "a_cancelled"), "SLURM", "12_0", "CANCELLED by 0", "a.err")
    scheduler_endings.record(str(tmp_path / "pair" / "b_timeout"), "SLURM", "12_1", "TIMEOUT", "b.err")
    scheduler_endings.record(str(tmp_path / "pair" / "c_oom"), "SLURM", "12_2", "OUT_OF_MEMORY", "c.err")
    table = job_table(tmp_path, ended=True).set_index("job")
    assert list(table["status"]) == ["unfinished", "unfinished", "failed", "failed"]
    assert table.loc["pair/a_cancelled", "note"] == "SLURM job 12_0 ended CANCELLED by 0 before it finished; its log: a.err"
    assert "raise hydra.launcher.mem_gb" in table.loc["pair/c_oom", "note"]
    assert table.loc["pair/d_silent", "note"] == "no metrics.json and no failed.json: the job ended without a result"


@pytest.mark.slow
def test_resources_slurm_would_refuse_are_one_line_before_any_work(slurm, tmp_path):
    for resource, words in (("hydra.launcher.partition=nope", "invalid partition specified: nope"),
                            ("hydra.launcher.mem_gb=100000", "Requested node configuration is not available")):
        refused = sweep([resource, "arch=linear"], slurm, tmp_path, "refused")
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip().splitlines() == [refused.stderr.strip()] and words in refused.stderr
        assert not (tmp_path / "refused").exists()  # nothing embedded, no folder made


def test_a_sweep_off_slurm_or_without_sbatch_is_checked_as_it_should_be(monkeypatch):
    from omegaconf import OmegaConf

    import embtrans.sweep.scheduler_launch as launch

    joblib = OmegaConf.create({"hydra": {"launcher": {"_target_": "hydra_plugins.hydra_joblib_launcher."
                                                                   "joblib_launcher.JoblibLauncher"}}})
    assert launch.submission_refused(joblib) is None
    slurm = OmegaConf.create({"hydra": {"launcher": {"_target_": "hydra_plugins.hydra_submitit_launcher."
                                                                  "submitit_launcher.SlurmLauncher"}}})
    monkeypatch.setattr(launch.shutil, "which", lambda name: None)
    assert "SLURM's sbatch is not installed here" in launch.submission_refused(slurm)
