"""Real `train.py -m` sweeps in a subprocess: every job done once, resumable, failures recorded."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from src.cli import ROOT

TINY = ["model_a=glove", "model_b=use", "dataset.limit=600", "trainer.max_epochs=2", "logger=csv",
        "trainer.accelerator=cpu", "trainer.enable_progress_bar=false", "data.show_progress=false"]


def sweep(args, env, tmp_path, name):
    """Run a sweep whose outputs (and run index) live under tmp_path."""
    command = [sys.executable, str(ROOT / "train.py"), "-m", *TINY, *args, f"paths.log_dir={tmp_path}",
               f"hydra.sweep.dir={tmp_path / name}", "hydra.launcher.n_jobs=2"]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


def metrics(job_dir):
    return json.loads((job_dir / "metrics.json").read_text())


@pytest.mark.slow
def test_sweep_trains_each_run_once_and_resumes(cli_env, tmp_path):
    first = sweep(["arch=linear,mlp1", "width=1,2"], cli_env, tmp_path, "first")
    assert first.returncode == 0, first.stderr
    jobs = tmp_path / "first" / "rotten_tomatoes" / "glove-to-use"
    assert sorted(p.name for p in jobs.iterdir()) == ["linear-x1", "linear-x2", "mlp1-x1", "mlp1-x2"]
    # linear does not depend on width: trained once, the other width points at it
    linear = [metrics(jobs / name) for name in ("linear-x1", "linear-x2")]
    reused = [m for m in linear if "reused_from" in m]
    assert len(reused) == 1 and linear[0]["test/mse"] == linear[1]["test/mse"]
    for name in ("mlp1-x1", "mlp1-x2"):
        result = metrics(jobs / name)
        assert "reused_from" not in result and result["run"]["width"] == int(name[-1])
        assert result["run"]["hidden"] == int(name[-1]) * 50  # min(50, 512)
        for baseline in ("mean_vector", "lstsq", "procrustes"):
            assert result["baselines"][baseline]["test/mse"] > 0
        translated = (jobs / name / "translated" / "test_ids.txt").read_text().split()
        assert len(translated) == result["run"]["split_sizes"]["test"]
        assert (jobs / name / "checkpoints" / "best.ckpt").exists()
    summary = pd.read_csv(tmp_path / "first" / "summary.csv")
    assert sorted(summary["status"]) == ["reused", "trained", "trained", "trained"]

    second = sweep(["arch=linear,mlp1", "width=1,2"], cli_env, tmp_path, "second")
    assert second.returncode == 0, second.stderr
    summary = pd.read_csv(tmp_path / "second" / "summary.csv")
    assert list(summary["status"]) == ["reused"] * 4
    assert not list((tmp_path / "second").rglob("*.ckpt"))
    again = tmp_path / "second" / "rotten_tomatoes" / "glove-to-use" / "mlp1-x2"
    assert metrics(again)["test/mse"] == metrics(jobs / "mlp1-x2")["test/mse"]


@pytest.mark.slow
def test_a_failed_job_is_recorded_and_the_others_finish(cli_env, tmp_path):
    result = sweep(["model_b=use,glove", "arch=linear"], cli_env, tmp_path, "sweep")
    assert result.returncode == 1
    pair_dir = tmp_path / "sweep" / "rotten_tomatoes"
    failure = json.loads((pair_dir / "glove-to-glove" / "linear-x1" / "failed.json").read_text())
    assert "model_a and model_b are both 'glove'" in failure["message"]
    assert (pair_dir / "glove-to-use" / "linear-x1" / "metrics.json").exists()
    assert "1 job(s) failed" in result.stderr and "Traceback" not in result.stderr
    summary = pd.read_csv(tmp_path / "sweep" / "summary.csv")
    assert sorted(summary["status"]) == ["failed", "trained"]


@pytest.mark.slow
def test_presets_skip_same_model_pairs(cli_env, tmp_path):
    # Command-line sweep values replace the preset's lists for the same keys.
    result = sweep(["+sweep=all_pairs", "model_a=glove,use", "model_b=glove,use", "arch=linear", "width=1"],
                   cli_env, tmp_path, "pairs")
    assert result.returncode == 0, result.stderr
    summary = pd.read_csv(tmp_path / "pairs" / "summary.csv").sort_values("job")
    assert list(summary["status"]) == ["skipped", "trained", "trained", "skipped"]


@pytest.mark.slow
def test_submitit_local_launcher_runs_a_job(cli_env, tmp_path):
    command = [sys.executable, str(ROOT / "train.py"), "-m", *TINY, "hydra/launcher=submitit_local",
               "hydra.launcher.timeout_min=10", f"paths.log_dir={tmp_path}", f"hydra.sweep.dir={tmp_path / 'sub'}"]
    result = subprocess.run(command, capture_output=True, text=True, env=cli_env, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sub" / "rotten_tomatoes" / "glove-to-use" / "linear-x1" / "metrics.json").exists()


@pytest.mark.parametrize("override, phrase", [
    ("arch=transformer", "Could not find 'arch/transformer'"),
    ("width=0", "width must be a positive whole multiple"),
    ("width=-8", "width must be a positive whole multiple"),
    ("model_b=glove", "model_a and model_b are both 'glove'"),
])
def test_bad_overrides_are_one_clear_error(cli_env, tmp_path, override, phrase):
    command = [sys.executable, str(ROOT / "train.py"), *TINY, override, f"paths.log_dir={tmp_path}",
               f"hydra.run.dir={tmp_path / 'run'}"]
    result = subprocess.run(command, capture_output=True, text=True, env=cli_env, cwd=ROOT, timeout=300)
    assert result.returncode != 0
    assert phrase in result.stderr and "Traceback" not in result.stderr + result.stdout
