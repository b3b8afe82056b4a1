"""Real `train.py -m` sweeps in a subprocess: every job apart and done once, resumable in place,
failures recorded, interruptions clean."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import psutil
import pytest

from embtrans.paths import ROOT

TINY = ["model_a=glove", "model_b=use", "dataset.limit=600", "trainer.max_epochs=2", "logger=csv",
        "trainer.accelerator=cpu", "trainer.enable_progress_bar=false", "data.show_progress=false"]
PAIR = ("rotten_tomatoes", "glove-to-use")


def sweep_command(args, tmp_path, name):
    return [sys.executable, str(ROOT / "train.py"), "-m", *TINY, *args, f"paths.log_dir={tmp_path}",
            f"hydra.sweep.dir={tmp_path / name}", "hydra.launcher.n_jobs=2"]


def sweep(args, env, tmp_path, name):
    """Run a sweep whose outputs (and run index) live under tmp_path."""
    return subprocess.run(sweep_command(args, tmp_path, name), capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=600)


def metrics(job_dir):
    return json.loads((job_dir / "metrics.json").read_text())


def jobs_of(sweep_dir):
    """Job folder name -> path, for the sweep's one pair."""
    return {p.name: p for p in sweep_dir.joinpath(*PAIR).iterdir()}


def job(sweep_dir, prefix):
    """The one job folder whose name starts with ``prefix`` (the fingerprint follows)."""
    found = [path for name, path in jobs_of(sweep_dir).items() if name.startswith(prefix + "_")]
    assert len(found) == 1, (prefix, list(jobs_of(sweep_dir)))
    return found[0]


def tree(folder):
    """Every file with its mtime, but Hydra's own per-invocation records (which it rewrites on every
    launch) and the sweep's summary table."""
    return {p.relative_to(folder): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))
            if p.is_file() and ".hydra" not in p.parts and p.name not in ("train.log", "multirun.yaml", "summary.csv")}


@pytest.mark.slow
def test_sweep_trains_each_run_once_and_resumes(cli_env, tmp_path):
    first = sweep(["arch=linear,mlp1", "width=1,2"], cli_env, tmp_path, "first")
    assert first.returncode == 0, first.stderr
    jobs = tmp_path / "first" / "rotten_tomatoes" / "glove-to-use"
    assert sorted(p.name.rsplit("_", 1)[0] for p in jobs.iterdir()) == ["linear-x1", "linear-x2", "mlp1-x1", "mlp1-x2"]
    # linear does not depend on width: trained once, the other width points at it
    linear = [metrics(job(tmp_path / "first", name)) for name in ("linear-x1", "linear-x2")]
    reused = [m for m in linear if "reused_from" in m]
    assert len(reused) == 1 and linear[0]["test/mse"] == linear[1]["test/mse"]
    assert not os.path.isabs(reused[0]["reused_from"])  # relative, so a moved sweep still resolves it
    for name in ("mlp1-x1", "mlp1-x2"):
        folder = job(tmp_path / "first", name)
        result = metrics(folder)
        assert "reused_from" not in result and result["run"]["width"] == int(name[-1])
        assert folder.name.endswith(result["run"]["fingerprint"][:8])
        assert result["run"]["hidden"] == int(name[-1]) * 50  # min(50, 512)
        for baseline in ("mean_vector", "lstsq", "procrustes"):
            assert result["baselines"][baseline]["test/mse"] > 0
        translated = (folder / "translated" / "test_ids.txt").read_text().split()
        assert len(translated) == result["run"]["split_sizes"]["test"]
        assert (folder / "checkpoints" / "best.ckpt").exists()
    summary = pd.read_csv(tmp_path / "first" / "summary.csv")
    assert sorted(summary["status"]) == ["reused", "trained", "trained", "trained"]
    # how each run trained: epochs, the epoch kept, and the seconds of the jobs that trained
    trained = summary[summary["status"] == "trained"]
    assert (trained["epochs"] >= trained["best_epoch"]).all() and (trained["seconds"] > 0).all()
    assert summary.loc[summary["status"] == "reused", "seconds"].isna().all()

    # Re-run in place: the job that reuses linear is not rewritten either.
    before = tree(tmp_path / "first")
    again = sweep(["arch=linear,mlp1", "width=1,2"], cli_env, tmp_path, "first")
    assert again.returncode == 0, again.stderr
    assert tree(tmp_path / "first") == before
    assert "(4 of them already done before this command" in again.stdout and "; took " in again.stdout

    second = sweep(["arch=linear,mlp1", "width=1,2"], cli_env, tmp_path, "second")
    assert second.returncode == 0, second.stderr
    summary = pd.read_csv(tmp_path / "second" / "summary.csv")
    assert list(summary["status"]) == ["reused"] * 4
    assert not list((tmp_path / "second").rglob("*.ckpt"))
    assert metrics(job(tmp_path / "second", "mlp1-x2"))["test/mse"] == metrics(job(tmp_path / "first", "mlp1-x2"))["test/mse"]


@pytest.mark.slow
def test_auto_beside_one_of_its_candidates_trains_that_candidate_once(cli_env, tmp_path):
    """arch=auto's candidates are runs like any job's: the orthogonal map the sweep also trains on its own is
    trained once, by whichever job claims it first, and the other holds a pointer to it."""
    from embtrans.translators.artefact import Translator

    result = sweep(["arch=orthogonal,auto", "seed=0"], cli_env, tmp_path, "auto")
    assert result.returncode == 0, result.stderr
    auto, alone = job(tmp_path / "auto", "auto-x1"), job(tmp_path / "auto", "orthogonal-x1")
    candidate = auto / "candidates" / "orthogonal"
    pointers = [folder for folder in (alone, candidate) if "reused_from" in metrics(folder)]
    assert len(pointers) == 1, pointers
    (pointer,) = pointers
    trained = alone if pointer == candidate else candidate
    assert (pointer / metrics(pointer)["reused_from"]).resolve() == trained.resolve()
    run = metrics(auto)["run"]
    assert run["arch"] == "auto" and run["seed"] == 0
    assert set(run["auto"]["validation ndcg@10"]) == {"lstsq", "procrustes", "orthogonal", "linear_retrieval"}
    translator = Translator.from_run(auto)
    assert translator.info["net"] == run_net(auto, run["auto"]["chosen"])
    assert translator.translate(np.zeros((2, 50), dtype=np.float32)).shape == (2, 512)


def run_net(job_dir, name):
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(job_dir / "config.yaml").arch.menu[name].arch.net)


@pytest.mark.slow
def test_a_seed_sweep_keeps_every_job_apart_and_rerunning_it_in_place_trains_nothing(cli_env, tmp_path):
    from embtrans.analysis.runs import load_sweep

    args = ["arch=mlp1", "width=1", "seed=0,1,2"]
    first = sweep(args, cli_env, tmp_path, "seeds")
    assert first.returncode == 0, first.stderr
    sweep_dir = tmp_path / "seeds"
    folders = {seed: job(sweep_dir, f"mlp1-x1_seed={seed}") for seed in (0, 1, 2)}
    assert len(jobs_of(sweep_dir)) == 3
    for seed, folder in folders.items():
        assert metrics(folder)["run"]["seed"] == seed and "reused_from" not in metrics(folder)
        assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["best.ckpt"]
        assert [p.name for p in (folder / "csv").iterdir()] == ["version_0"]
    assert len(list((tmp_path / "train" / "index").glob("*.json"))) == 3
    assert len({metrics(f)["test/mse"] for f in folders.values()}) == 3

    # The same command into the same folder: nothing trained, no file added or rewritten.
    before = tree(sweep_dir)
    again = sweep(args, cli_env, tmp_path, "seeds")
    assert again.returncode == 0, again.stderr
    assert tree(sweep_dir) == before
    assert "3 trained (3 of them already done before this command" in again.stdout
    assert "Trainer" not in again.stderr  # Lightning never started

    # A single run with one of those seeds reuses that seed's run, and no other.
    single = subprocess.run([sys.executable, str(ROOT / "train.py"), *TINY, "arch=mlp1", "width=1", "seed=1",
                             f"paths.log_dir={tmp_path}", f"hydra.run.dir={tmp_path / 'single'}"],
                            capture_output=True, text=True, env=cli_env, cwd=ROOT, timeout=300)
    assert single.returncode == 0, single.stderr
    reused = metrics(tmp_path / "single")
    assert reused["run"]["seed"] == 1
    assert (tmp_path / "single" / reused["reused_from"]).resolve() == folders[1].resolve()

    # The analysis sees one translator at three seeds (they differ in nothing else).
    from embtrans.analysis.pipeline import translator_ids
    ids = translator_ids(load_sweep(sweep_dir).runs).values()
    assert {tid.label for tid in ids} == {"mlp1-x1"}
    assert sorted(tid.run_label for tid in ids) == ["mlp1-x1@seed0", "mlp1-x1@seed1", "mlp1-x1@seed2"]

    # Paths inside the sweep are relative: the whole log directory moved elsewhere still analyses.
    moved = tmp_path.parent / f"{tmp_path.name}-moved"
    os.rename(tmp_path, moved)
    try:
        runs = load_sweep(moved / "seeds").runs
        assert sorted(run.info["seed"] for run in runs) == [0, 1, 2]
        assert all(run.run_dir.is_relative_to(moved) for run in runs)
    finally:
        os.rename(moved, tmp_path)

    # A damaged metrics.json is named, left out of the analysis, and trained again by a re-run.
    damaged = folders[2] / "metrics.json"
    damaged.write_text(damaged.read_text().replace('"test/mse": ', '"test/mse": NaN, "was": ', 1))
    analysed = load_sweep(sweep_dir)
    assert sorted(run.info["seed"] for run in analysed.runs) == [0, 1]
    assert any(str(damaged) in line and "NaN" in line for line in analysed.left_out), analysed.left_out
    retrained = sweep(args, cli_env, tmp_path, "seeds")
    assert retrained.returncode == 0, retrained.stderr
    assert f"{damaged} cannot be read" in retrained.stdout + retrained.stderr
    assert metrics(folders[2])["run"]["seed"] == 2 and "was" not in metrics(folders[2])
    assert "3 trained (2 of them already done before this command" in retrained.stdout


@pytest.mark.slow
def test_a_copied_or_moved_sweep_rerun_in_place_keeps_every_finished_run(cli_env, tmp_path):
    """Issue 23: the run index pointed at the original, so re-running a copy cleared the copy's checkpoints
    and vectors and made its metrics.json a pointer; re-running a moved sweep retrained its runs. A job's
    own finished result now comes first; the index is only a cache of what is on disk."""
    from embtrans.analysis.runs import load_sweep

    args = ["arch=linear,mlp1", "seed=0,1"]
    first = sweep(args, cli_env, tmp_path, "S")
    assert first.returncode == 0, first.stderr
    shutil.copytree(tmp_path / "S", tmp_path / "S_copy")  # as cp -a: files and their mtimes
    before = tree(tmp_path / "S_copy")
    again = sweep(args, cli_env, tmp_path, "S_copy")
    assert again.returncode == 0, again.stderr
    assert tree(tmp_path / "S_copy") == before
    assert "4 trained (4 of them already done before this command" in again.stdout
    for folder in jobs_of(tmp_path / "S_copy").values():
        assert "reused_from" not in metrics(folder)
        assert (folder / "checkpoints" / "best.ckpt").exists() and (folder / "translated" / "test.npy").exists()
    # The original moved away: the copy is whole on its own, and re-running into the moved original
    # trains nothing and deletes nothing.
    os.rename(tmp_path / "S", tmp_path / "S_moved")
    assert len(load_sweep(tmp_path / "S_copy").runs) == 4
    before = tree(tmp_path / "S_moved")
    moved = sweep(args, cli_env, tmp_path, "S_moved")
    assert moved.returncode == 0, moved.stderr
    assert tree(tmp_path / "S_moved") == before
    assert "Trainer" not in moved.stderr  # Lightning never started


@pytest.mark.slow
def test_a_diverged_job_fails_and_is_left_out_of_the_analysis(cli_env, tmp_path):
    from embtrans.analysis.runs import load_sweep

    result = sweep(["arch=linear", "optimizer.lr=1e-3,1e8"], cli_env, tmp_path, "lr")
    assert result.returncode == 1
    sweep_dir = tmp_path / "lr"
    diverged, fine = job(sweep_dir, "linear-x1_optimizer.lr=100000000.0"), job(sweep_dir, "linear-x1_optimizer.lr=0.001")
    failure = json.loads((diverged / "failed.json").read_text())
    assert "diverged" in failure["message"] and "lower optimizer.lr" in failure["message"]
    assert not (diverged / "metrics.json").exists()
    assert len(list((tmp_path / "train" / "index").glob("*.json"))) == 1  # only the finished run
    summary = pd.read_csv(sweep_dir / "summary.csv").set_index("status")
    assert "diverged" in summary.loc["failed", "note"]
    assert "1 job(s) failed" in result.stderr and "Traceback" not in result.stderr
    analysed = load_sweep(sweep_dir)
    assert [run.run_dir for run in analysed.runs] == [fine.resolve()]
    assert any(diverged.name in line and "diverged" in line for line in analysed.left_out)


@pytest.mark.slow
def test_a_failed_job_is_recorded_and_the_others_finish(cli_env, tmp_path):
    result = sweep(["model_b=use,glove", "arch=linear"], cli_env, tmp_path, "sweep")
    assert result.returncode == 1
    pair_dir = tmp_path / "sweep" / "rotten_tomatoes"
    [failed] = list((pair_dir / "glove-to-glove").glob("linear-x1_*/failed.json"))
    assert "model_a and model_b are both 'glove'" in json.loads(failed.read_text())["message"]
    assert list((pair_dir / "glove-to-use").glob("linear-x1_*/metrics.json"))
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
def test_the_objectives_preset_runs_every_objective_and_start_end_to_end(cli_env, tmp_path):
    # One pair and seed of +sweep=objectives: 4 objectives x 3 starts x {linear, mlp1_residual}, each
    # kept by its validation search (monitor=ndcg), on 1,200 texts.
    result = sweep(["+sweep=objectives", "model_a=glove", "model_b=use", "seed=0", "dataset.limit=1200",
                    "trainer.max_epochs=6"], cli_env, tmp_path, "objectives")
    assert result.returncode == 0, result.stderr
    summary = pd.read_csv(tmp_path / "objectives" / "summary.csv")
    assert len(summary) == 24 and (summary["status"] == "trained").all(), summary[["job", "status", "note"]]
    runs = [metrics(path)["run"] for path in jobs_of(tmp_path / "objectives").values()]
    assert {(r["arch"], r["loss"], (r["init"] or {}).get("init", "random")) for r in runs} == {
        (arch, loss, init) for arch in ("linear", "mlp1_residual") for init in ("random", "lstsq", "procrustes")
        for loss in ("mse", "centered_cosine", "mse+infonce", "mse+similarity")}
    assert {r["monitor"]["metric"] for r in runs} == {"val/ndcg@10"}


@pytest.mark.slow
def test_submitit_local_launcher_runs_a_job(cli_env, tmp_path):
    command = [sys.executable, str(ROOT / "train.py"), "-m", *TINY, "hydra/launcher=submitit_local",
               "hydra.launcher.timeout_min=10", f"paths.log_dir={tmp_path}", f"hydra.sweep.dir={tmp_path / 'sub'}"]
    result = subprocess.run(command, capture_output=True, text=True, env=cli_env, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "sub" / "rotten_tomatoes" / "glove-to-use").glob("linear-x1_*/metrics.json"))


# linear finishes in seconds; mlp2 x16 trains for 300 epochs (about 20 s): a sweep to interrupt midway.
SLOW = ["arch=linear,mlp2", "width=16", "trainer.max_epochs=300", "trainer.min_epochs=300"]


def start_sweep(env, tmp_path, ready, name="killed"):
    """Start the SLOW sweep and wait until ``ready(sweep_dir)``; return the process and its workers."""
    # SIGINT as a terminal's foreground job has it, even when the tests run in the background (where
    # the shell started them ignoring SIGINT, and the sweep would inherit that).
    process = subprocess.Popen(sweep_command(SLOW, tmp_path, name), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=ROOT, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not ready(tmp_path / name):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    workers = psutil.Process(process.pid).children(recursive=True)
    assert workers
    return process, workers


def quick_job_done(sweep_dir):
    return bool(list(sweep_dir.rglob("linear-x16_*/metrics.json")))


def slow_job_training(since):
    """A readiness check: mlp2 has saved a checkpoint after ``since`` (a time.time()), so it is training."""
    return lambda sweep_dir: any(p.stat().st_mtime > since for p in sweep_dir.rglob("mlp2-x16_*/checkpoints/best.ckpt"))


def assert_all_gone(workers, seconds=10):
    gone, alive = psutil.wait_procs(workers, timeout=seconds)
    assert not alive, [p.cmdline()[:3] for p in alive]


@pytest.mark.slow
def test_killing_a_sweep_ends_its_workers_and_a_rerun_trains_only_what_is_missing(cli_env, tmp_path):
    # SIGTERM: the workers stop, the summary of what finished is written, no traceback.
    process, workers = start_sweep(cli_env, tmp_path, quick_job_done)
    quick = next((tmp_path / "killed").rglob("linear-x16_*/metrics.json"))
    done_at = quick.stat().st_mtime_ns
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and "Traceback" not in stderr, stderr
    assert "interrupted by SIGTERM" in stderr
    assert_all_gone(workers)
    summary = pd.read_csv(tmp_path / "killed" / "summary.csv").sort_values("job")
    assert list(summary["status"]) == ["trained", "unfinished"]

    # SIGKILL leaves the main process no say: the workers notice their parent is gone.
    process, workers = start_sweep(cli_env, tmp_path, slow_job_training(since=time.time()))
    process.kill()
    process.communicate(timeout=60)
    assert_all_gone(workers)

    # The re-run trains only the job that never finished; the finished one is left as it was.
    rerun = sweep(SLOW, cli_env, tmp_path, "killed")
    assert rerun.returncode == 0, rerun.stderr
    assert quick.stat().st_mtime_ns == done_at
    slow = next((tmp_path / "killed").rglob("mlp2-x16_*"))
    assert metrics(slow)["run"]["epochs"] == 300
    assert sorted(p.name for p in (slow / "checkpoints").iterdir()) == ["best.ckpt"]
    assert "2 trained (1 of them already done before this command" in rerun.stdout


@pytest.mark.slow
def test_ctrl_c_ends_the_sweep_with_a_summary_and_no_traceback(cli_env, tmp_path):
    process, workers = start_sweep(cli_env, tmp_path, quick_job_done)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends the whole foreground group
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr + stdout and "interrupted by Ctrl-C" in stderr
    assert "re-run the same command" in stderr
    assert_all_gone(workers)


@pytest.mark.parametrize("override, phrase", [
    ("arch=transformer", "Could not find 'arch/transformer'"),
    ("model_b=glove", "model_a and model_b are both 'glove'"),
    ("optimizer.lr=abc", "optimizer.lr='abc' is not allowed: it must be a number > 0"),
    ("trainer.max_epochs=0", "trainer.max_epochs=0 is not allowed"),
    ("dataset.limit=5", "dataset.limit=5 is too small"),
    ("dataset=hotpotqa", "cannot load HotPotQA"),  # offline: the loader's own line, not Hydra's wrapper
])
def test_bad_overrides_are_one_clear_error(cli_env, tmp_path, override, phrase):
    command = [sys.executable, str(ROOT / "train.py"), *TINY, override, f"paths.log_dir={tmp_path}",
               f"hydra.run.dir={tmp_path / 'run'}"]
    result = subprocess.run(command, capture_output=True, text=True, env=cli_env, cwd=ROOT, timeout=300)
    assert result.returncode == (1 if override.startswith("arch=") else 2), result.stderr
    assert phrase in result.stderr and "Traceback" not in result.stderr + result.stdout
    if not override.startswith("arch="):  # Hydra's own list of valid options is several lines
        assert len([line for line in result.stderr.splitlines() if line.startswith("error: ")]) == 1
        assert "HYDRA_FULL_ERROR" not in result.stderr and "Error in call to target" not in result.stderr
    assert not (tmp_path / "train" / "index").exists() or not list((tmp_path / "train" / "index").glob("*.json"))


def test_a_bad_value_common_to_a_sweep_stops_it_before_any_job(cli_env, tmp_path):
    result = sweep(["arch=linear,mlp1", "optimizer.lr=-1"], cli_env, tmp_path, "bad")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: optimizer.lr=-1 is not allowed: it must be a number > 0"
    assert not (tmp_path / "bad" / "rotten_tomatoes").exists()


@pytest.mark.parametrize("override, phrase", [
    ("width=0", "width=0 is not allowed: it must be a whole number ≥ 1"),
    ("width=-8", "width=-8 is not allowed"),
    ("optimizer.lr=-1", "optimizer.lr=-1 is not allowed: it must be a number > 0"),
    ("optimizer.lr=nan", "optimizer.lr=nan is not allowed"),
    ("optimizer.lr=inf", "optimizer.lr=inf is not allowed"),
    ("data.batch_size=0", "data.batch_size=0 is not allowed: it must be a whole number ≥ 1"),
    ("data.batch_size=2.5", "data.batch_size=2.5 is not allowed"),
    ("dataset.limit=abc", "dataset.limit='abc' is not allowed: it must be a whole number ≥ 1 or null"),
    ("dataset.limit=0", "dataset.limit=0 is not allowed"),
    ("dataset.test_fraction=1.5", "dataset.test_fraction=1.5 is not allowed: it must be a number > 0 and < 1"),
    ("trainer.max_epochs=-3", "trainer.max_epochs=-3 is not allowed"),
    ("trainer.min_epochs=5", "trainer.min_epochs=5 is more than trainer.max_epochs=2"),
    ("callbacks.early_stopping.patience=-1", "callbacks.early_stopping.patience=-1 is not allowed"),
    ("scheduler.factor=2", "scheduler.factor=2 is not allowed: it must be a number > 0 and < 1"),
    ("threads=0", "threads=0 is not allowed: it must be a whole number ≥ 1 or null"),
    ("arch=lstsq arch.net.alphas=[1,-1]", "arch.net.alphas=[1, -1] is not allowed"),
])
def test_every_mistypable_number_is_checked_before_any_work(compose_train, override, phrase):
    from embtrans.config_checks import TRAIN_RULES, check
    from embtrans.errors import UserError

    with pytest.raises(UserError) as error:
        check(compose_train(*TINY, *override.split()), TRAIN_RULES)
    assert phrase in str(error.value)


def test_the_defaults_and_no_limit_pass_the_checks(compose_train):
    from embtrans.config_checks import TRAIN_RULES, check

    check(compose_train("dataset.limit=null", "trainer.max_epochs=-1", "threads=2"), TRAIN_RULES)


def test_the_job_table_reads_every_state_and_names_damaged_files(tmp_path):
    from embtrans.sweep.summary import job_table

    def job(name, **files):
        folder = tmp_path / "pair" / name
        (folder / ".hydra").mkdir(parents=True)
        (folder / ".hydra" / "overrides.yaml").write_text("[]\n")
        for file_name, text in files.items():
            (folder / f"{file_name}.json").write_text(text)
        return folder

    finished = {"test/mse": 0.5, "test/cosine": 0.5, "run": {}, "baselines": {}}
    job("a_trained", metrics=json.dumps(finished))
    job("b_reused", metrics=json.dumps({**finished, "reused_from": "../a_trained"}))
    job("c_failed", failed=json.dumps({"message": "training diverged"}))
    job("d_failed_badly", failed="{oops")
    job("e_skipped", skipped=json.dumps({"reason": "same model"}))
    job("f_unfinished")
    job("g_damaged", metrics='{"test/mse": Infinity, "test/cosine": 1, "run": {}}')
    table = job_table(tmp_path).set_index("job")
    assert list(table["status"]) == ["trained", "reused", "failed", "failed", "skipped", "unfinished", "damaged"]
    assert table.loc["pair/b_reused", "note"] == "same run as pair/a_trained"
    assert table.loc["pair/c_failed", "note"] == "training diverged"
    assert "d_failed_badly/failed.json cannot be read" in table.loc["pair/d_failed_badly", "note"]
    assert "g_damaged/metrics.json cannot be read" in table.loc["pair/g_damaged", "note"]


def test_a_closed_form_map_is_one_run_whatever_the_seed(compose_train):
    from embtrans.sweep.run_index import run_fingerprint

    for arch, same in (("lstsq", True), ("procrustes", True), ("linear", False), ("mlp1", False)):
        fingerprints = {run_fingerprint(compose_train(f"arch={arch}", f"seed={seed}")) for seed in (0, 1, 2)}
        assert (len(fingerprints) == 1) == same, arch


def test_the_study_preset_sweeps_three_seeds_over_the_plan():
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(ROOT / "conf")):
        cfg = compose("train", overrides=["+sweep=study"], return_hydra_config=True)
    GlobalHydra.instance().clear()
    params = cfg.hydra.sweeper.params
    assert params.seed == "0,1,2" and params.arch == "linear,mlp1,mlp2" and params.width == "1,8,32"
    assert params.model_a == params.model_b == "minilm,mpnet,e5_small" and cfg.skip_same_model


@pytest.mark.slow
def test_a_job_killed_mid_training_resumes_from_its_last_epoch_with_the_same_numbers(cli_env, tmp_path):
    import torch

    args = ["arch=mlp1", "width=8", "trainer.max_epochs=40", "callbacks.early_stopping.patience=100",
            "callbacks.resume_checkpoint.every_seconds=0", "hydra.launcher.n_jobs=1"]
    reference = sweep(args, cli_env, tmp_path / "reference", "sweep")  # uninterrupted, with its own run index
    assert reference.returncode == 0, reference.stderr
    expected = metrics(job(tmp_path / "reference" / "sweep", "mlp1-x8"))

    command = sweep_command(args, tmp_path / "killed", "sweep")
    process = subprocess.Popen(command, env=cli_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    resume_point, deadline = None, time.time() + 300
    while time.time() < deadline and process.poll() is None:
        found = list((tmp_path / "killed" / "sweep").rglob("checkpoints/last.ckpt"))
        if found and torch.load(found[0], map_location="cpu", weights_only=False)["epoch"] >= 3:
            resume_point = found[0]
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the main process and its worker, mid-training
    process.wait(timeout=30)
    assert resume_point is not None, "the run finished (or never checkpointed) before it could be killed"
    folder = resume_point.parent.parent
    assert not (folder / "metrics.json").exists() and resume_point.exists()

    again = sweep(args, cli_env, tmp_path / "killed", "sweep")
    assert again.returncode == 0, again.stderr
    resumed = metrics(folder)
    assert resumed["run"]["resumed_from_epoch"] >= 3
    assert resumed["run"]["epochs"] == expected["run"]["epochs"]
    assert resumed["test/mse"] == pytest.approx(expected["test/mse"], rel=1e-9, abs=0)
    assert resumed["test/cosine"] == pytest.approx(expected["test/cosine"], rel=1e-9, abs=0)
    assert not resume_point.exists()  # a finished run keeps no resume point
    assert expected["run"]["stopped_by"] == "epoch limit" and expected["run"]["resumed_from_epoch"] is None


@pytest.mark.slow
def test_a_run_stopped_by_its_time_budget_says_so(cli_env, tmp_path):
    result = sweep(["arch=mlp1", "width=8", "trainer.max_epochs=100000", "callbacks.early_stopping.patience=100000",
                    "trainer.max_time=00:00:00:04", "hydra.launcher.n_jobs=1"], cli_env, tmp_path, "budget")
    assert result.returncode == 0, result.stderr
    run = metrics(job(tmp_path / "budget", "mlp1-x8"))["run"]
    assert run["stopped_by"] == "time budget" and 0 < run["epochs"] < 100000


@pytest.mark.slow
def test_a_sweep_embeds_what_its_jobs_need_before_they_start(cli_env, tmp_path):
    env = {**cli_env, "EMBTRANS_CACHE_DIR": str(tmp_path / "cold-cache")}
    result = subprocess.run(sweep_command(["arch=linear", "model_b=use,e5_small"], tmp_path, "cold"), capture_output=True,
                            text=True, env=env, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "the sweep's 3 embedding(s) are in the cache" in result.stdout + result.stderr  # glove, use, e5_small
    assert sorted(p.name for p in (tmp_path / "cold-cache" / "rotten_tomatoes").iterdir()) == ["e5_small", "glove", "use"]
    logs = [p.read_text() for p in (tmp_path / "cold").rglob("train.log")]
    assert len(logs) == 2 and all("reusing cached" in log and "embeddings of" in log for log in logs)
    assert not any("cached " in line and "embeddings of" in line and "reusing" not in line
                   for log in logs for line in log.splitlines())  # no job embedded anything itself


def test_the_reference_study_preset_and_its_retrieval_translator():
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(ROOT / "conf")):
        cfg = compose("train", overrides=["+sweep=reference_study"], return_hydra_config=True)
        recipe = compose("train", overrides=["arch=linear_retrieval"])
        spelled = compose("train", overrides=["arch=linear", "arch.net.init=procrustes", "loss=mse+infonce", "monitor=ndcg"])
    GlobalHydra.instance().clear()
    params = cfg.hydra.sweeper.params
    assert params.arch == "mlp2,mlp1,linear,linear_retrieval" and params.width == "32,8,1" and params.seed == "0,1,2"
    assert params.model_a == params.model_b == "minilm,mpnet,e5_small" and cfg.skip_same_model
    assert cfg.hydra.sweep.dir.endswith("/train/multiruns/reference_study")  # one folder: the same command resumes
    # The ablation's pick under its own name: everything else as the spelled-out overrides.
    assert recipe.arch.name == "linear_retrieval" and recipe.callbacks.early_stopping.monitor == "val/ndcg@10"
    for key in ("loss", "monitor", "callbacks", "scheduler"):
        assert recipe[key] == spelled[key], key
    assert {**recipe.arch.net} == {**spelled.arch.net}


def test_the_cut_skips_wide_runs_beyond_its_seeds_and_changes_no_fingerprint(compose_train):
    from embtrans.sweep.job import cut_reason
    from embtrans.sweep.run_index import run_fingerprint

    cut = "cut.seeds=[0]"
    assert "cut: width 32 runs only at seed(s) 0" in cut_reason(compose_train("arch=mlp2", "width=32", "seed=1", cut))
    assert "only at seed(s) none" in cut_reason(compose_train("arch=mlp1", "width=32", "seed=0", "cut.seeds=[]"))
    for kept in (("arch=mlp2", "width=32", "seed=0", cut), ("arch=mlp2", "width=8", "seed=2", cut),
                 ("arch=linear", "width=32", "seed=2", cut), ("arch=mlp2", "width=32", "seed=2")):
        assert cut_reason(compose_train(*kept)) is None, kept
    assert run_fingerprint(compose_train("arch=mlp1", "width=32", cut)) == run_fingerprint(compose_train("arch=mlp1", "width=32"))


def test_the_cut_takes_the_translators_it_names(compose_train):
    from embtrans.sweep.job import cut_reason

    named = ("cut.archs=[linear,mlp1]", "cut.widths=[8]", "cut.seeds=[0]")
    assert "cut: linear runs only at seed(s) 0" in cut_reason(compose_train("arch=linear", "width=8", "seed=1", *named))
    assert "cut: width 8 runs only at seed(s) 0" in cut_reason(compose_train("arch=mlp1", "width=8", "seed=2", *named))
    for kept in (("arch=mlp2", "width=8", "seed=1"), ("arch=linear", "width=8", "seed=0"), ("arch=linear", "width=1", "seed=1")):
        assert cut_reason(compose_train(*kept, *named)) is None, kept
    assert "linear fit on at most 1,000" in cut_reason(
        compose_train("arch=linear", "dataset.train_pairs=3000", "cut.archs=[linear]", "cut.train_pairs_above=1000"))


def test_the_data_cut_skips_width_using_translators_beyond_its_size(compose_train):
    from embtrans.sweep.job import cut_reason
    from embtrans.sweep.run_index import run_fingerprint

    cut = "cut.train_pairs_above=3000"
    assert "at most 3,000 paired texts" in cut_reason(compose_train("arch=mlp2", "width=8", "dataset.train_pairs=10000", cut))
    assert "this job's is every training text" in cut_reason(compose_train("arch=mlp1", "width=1", cut))
    for kept in (("arch=mlp2", "width=8", "dataset.train_pairs=3000", cut), ("arch=linear", "dataset.train_pairs=10000", cut),
                 ("arch=procrustes", cut), ("arch=mlp2", "width=8", "dataset.train_pairs=10000")):
        assert cut_reason(compose_train(*kept)) is None, kept
    assert run_fingerprint(compose_train("arch=mlp2", cut)) == run_fingerprint(compose_train("arch=mlp2"))


def test_the_cut_skips_only_what_would_train_and_lifting_it_trains_only_what_was_cut(cli_env, tmp_path):
    first = sweep(["arch=mlp1", "width=2", "seed=0,1"], cli_env, tmp_path, "study")
    assert first.returncode == 0, first.stderr
    cut = sweep(["arch=mlp1", "width=2", "seed=0,1,2", "cut.widths=[2]", "cut.seeds=[0]"], cli_env, tmp_path, "study")
    assert cut.returncode == 0, cut.stderr
    status = pd.read_csv(tmp_path / "study" / "summary.csv").set_index("job")["status"]
    by_seed = {int(j.split("seed=")[1][0]): s for j, s in status.items()}
    assert by_seed == {0: "trained", 1: "trained", 2: "skipped"}  # seed 1 was done before: still a result
    assert not (job(tmp_path / "study", "mlp1-x2_seed=1") / "skipped.json").exists()
    assert "cut: width 2 runs only at seed(s) 0" in (job(tmp_path / "study", "mlp1-x2_seed=2") / "skipped.json").read_text()
    trained_before = metrics(job(tmp_path / "study", "mlp1-x2_seed=1"))["run"]["seconds"]
    lifted = sweep(["arch=mlp1", "width=2", "seed=0,1,2"], cli_env, tmp_path, "study")
    assert lifted.returncode == 0, lifted.stderr
    status = pd.read_csv(tmp_path / "study" / "summary.csv").set_index("job")["status"]
    assert (status == "trained").all(), status
    assert metrics(job(tmp_path / "study", "mlp1-x2_seed=1"))["run"]["seconds"] == trained_before  # not retrained


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs to fill (a full disk, for real); skipped where this process may not mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3M", "tmpfs", str(mount)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()}): the full-disk test needs root")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk, leave_kib):
    """Fill ``disk`` up to ``leave_kib`` KiB of free space with one file; return it."""
    free = shutil.disk_usage(disk).free
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(0, free - leave_kib * 1024))
    return filler


@pytest.mark.slow
def test_a_full_disk_ends_the_sweep_with_its_summary_and_one_line_per_fault(cli_env, tmp_path, small_disk):
    """Issue 23: a full disk ended the sweep in a 19-line Hydra traceback with no summary table."""
    finished = sweep(["arch=linear", "seed=0,1"], cli_env, tmp_path, small_disk.name)  # on tmp_path/disk
    assert finished.returncode == 0, finished.stderr
    before = tree(small_disk)
    filler = fill(small_disk, leave_kib=60)  # room for Hydra's small files, not for checkpoints and vectors
    full = sweep(["arch=linear,mlp1", "seed=0,1"], cli_env, tmp_path, small_disk.name)
    assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
    assert "No space left on device" in full.stdout + full.stderr
    summary_rows = [line for line in full.stdout.splitlines() if line.strip().startswith("rotten_tomatoes/glove-to-use/")]
    assert len(summary_rows) == 4, full.stdout
    assert sum("linear-x1" in row and " trained " in row for row in summary_rows) == 2  # kept as they were
    for row in summary_rows:
        if "mlp1-x1" in row:  # each listed with its cause (from failed.json, or the folder's own write fault)
            assert " failed " in row and "No space left on device" in row, row
    assert all(tree(small_disk).get(path) == mtime for path, mtime in before.items()
               if path.parts[-1] in ("metrics.json", "best.ckpt"))
    # Once there is room again, the same command trains only what is missing.
    filler.unlink()
    again = sweep(["arch=linear,mlp1", "seed=0,1"], cli_env, tmp_path, small_disk.name)
    assert again.returncode == 0, again.stderr
    assert "4 trained (2 of them already done before this command" in again.stdout


@pytest.mark.slow
def test_a_job_hydra_cannot_start_is_listed_as_failed_with_its_fault(cli_env, tmp_path):
    """The summary is made from the job folders; a job whose folder Hydra could not write (here: the
    pair's folder mounted read-only) was missing from it instead of listed as failed."""
    finished = sweep(["arch=linear", "seed=0,1"], cli_env, tmp_path, "S")
    assert finished.returncode == 0, finished.stderr
    pair = tmp_path.joinpath("S", *PAIR)
    made = subprocess.run(["mount", "--bind", str(pair), str(pair)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({made.stderr.strip()}): the test needs root")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(pair)], check=True)
        blocked = sweep(["arch=linear,mlp1", "seed=0,1"], cli_env, tmp_path, "S")
    finally:
        subprocess.run(["umount", "-l", str(pair)], check=False)
    assert blocked.returncode == 1 and "Traceback" not in blocked.stderr, blocked.stderr
    rows = pd.read_csv(tmp_path / "S" / "summary.csv").set_index("job")
    assert len(rows) == 4, rows
    assert sorted(rows["status"]) == ["failed", "failed", "trained", "trained"], rows
    for name, row in rows[rows["status"] == "failed"].iterrows():
        assert "/mlp1-x1_seed=" in name and row["note"].startswith("not started: Read-only file system"), row
    again = sweep(["arch=linear,mlp1", "seed=0,1"], cli_env, tmp_path, "S")
    assert again.returncode == 0, again.stderr
    assert "4 trained (2 of them already done before this command" in again.stdout


@pytest.mark.slow
def test_a_read_only_sweep_folder_is_one_line(cli_env, tmp_path):
    read_only = tmp_path / "ro"
    read_only.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1M,ro", "tmpfs", str(read_only)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here: the test needs root")
    try:
        result = sweep(["arch=linear"], cli_env, tmp_path, "ro/S")
    finally:
        subprocess.run(["umount", "-l", str(read_only)], check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: the sweep folder cannot be written: Read-only file system ({read_only / 'S'}); "
                      "free space, make it writable, or choose another hydra.sweep.dir"]


@pytest.mark.slow
def test_a_second_sweep_into_a_running_sweeps_folder_is_refused(cli_env, tmp_path):
    """Issue 23: two sweeps into one folder at once each listed the other's jobs as their own."""
    process, workers = start_sweep(cli_env, tmp_path, quick_job_done)
    try:
        second = sweep(["arch=mlp1", "seed=7"], cli_env, tmp_path, "killed")
        assert second.returncode == 2 and "Traceback" not in second.stderr, second.stderr
        assert f"error: another sweep is running into {tmp_path / 'killed'} now" in second.stderr
        assert not list((tmp_path / "killed").rglob("mlp1-x1_*"))  # it started nothing
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert_all_gone(workers)


def test_a_split_that_leaves_too_few_training_texts_is_said_with_its_numbers(compose_train, caplog):
    from embtrans.training.run import train

    cfg = compose_train("model_a=glove", "model_b=use", "dataset.limit=600", "dataset.test_fraction=0.9",
                        "dataset.val_fraction=0.9", "trainer.max_epochs=1")
    with caplog.at_level("WARNING", logger="embtrans.training.run"):
        train(cfg)
    warned = [r.getMessage() for r in caplog.records if "training split" in r.getMessage()]
    assert len(warned) == 1 and "8 texts (8 x 512 = 4,096 target numbers) to fit 26,112 weights of linear" in warned[0]
