"""train.py as a user runs it: the cache is reused, and bad input gets one clear line, not a traceback."""

import json
import subprocess
import sys

import pytest

from embtrans.paths import ROOT

QUICK = ["model_a=glove", "model_b=use", "dataset.limit=600", "logger=none", "trainer.max_epochs=2",
         "trainer.accelerator=cpu", "trainer.enable_progress_bar=false", "data.show_progress=false"]


def run_train(args, env, run_dir):
    return subprocess.run([sys.executable, str(ROOT / "train.py"), *args, f"hydra.run.dir={run_dir}",
                           f"paths.log_dir={run_dir.parent}"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def assert_one_clear_error(result, *phrases):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    for phrase in phrases:
        assert phrase in result.stderr


@pytest.mark.slow
def test_a_second_run_reuses_the_cache(cli_env, tmp_path):
    first = run_train(QUICK, cli_env, tmp_path / "first")
    assert first.returncode == 0, first.stderr
    # resume=false: train again (a finished identical run would otherwise be reused whole), so the
    # embeddings are read again, from the cache.
    second = run_train([*QUICK, "resume=false"], cli_env, tmp_path / "second")
    assert second.returncode == 0, second.stderr
    log = (tmp_path / "second" / "train.log").read_text()
    assert log.count("reusing cached") == 2 and "cached 0" not in log
    assert "embedding rotten_tomatoes" not in second.stderr
    assert json.loads((tmp_path / "second" / "metrics.json").read_text())["test/mse"] > 0


@pytest.mark.slow
def test_an_identical_run_is_reused_not_retrained(cli_env, tmp_path):
    assert run_train(QUICK, cli_env, tmp_path / "first").returncode == 0
    again = run_train(QUICK, cli_env, tmp_path / "again")
    assert again.returncode == 0, again.stderr
    log = (tmp_path / "again" / "train.log").read_text()
    assert "the same run is already done" in log and "reusing cached" not in log
    reused = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert reused["reused_from"] == "../first"  # relative to the run that reuses it


@pytest.mark.parametrize("override, phrases", [
    ("model_a=nope", ["Could not find 'model_a/nope'", "Available options", "minilm"]),
    ("dataset=nope", ["Could not find 'dataset/nope'", "rotten_tomatoes"]),
])
def test_unknown_names_list_the_valid_choices(cli_env, tmp_path, override, phrases):
    assert_one_clear_error(run_train([*QUICK, override], cli_env, tmp_path), *phrases)


def test_the_same_model_twice_is_refused(cli_env, tmp_path):
    result = run_train([*QUICK, "model_b=glove"], cli_env, tmp_path)
    assert_one_clear_error(result, "model_a and model_b are both 'glove'")


def test_a_wrong_dim_is_refused_and_the_cache_survives(cli_env, tmp_path, embedding_cache_dir):
    assert run_train(QUICK, cli_env, tmp_path / "ok").returncode == 0
    manifest = embedding_cache_dir / "rotten_tomatoes" / "glove" / "manifest.json"
    before = manifest.read_text()
    result = run_train([*QUICK, "model_a.dim=64"], cli_env, tmp_path / "bad")
    assert_one_clear_error(result, "dim=64")
    assert manifest.read_text() == before


def test_a_subset_too_small_to_split_is_refused(cli_env, tmp_path):
    result = run_train([*QUICK, "dataset.limit=40"], cli_env, tmp_path)
    assert_one_clear_error(result, "split of 'rotten_tomatoes' is empty", "raise dataset.limit")


def test_an_empty_dataset_is_refused(cli_env, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    args = [*QUICK, "dataset=hotpotqa", "dataset.loader.path=json", f"dataset.loader.data_files={empty}",
            "dataset.loader.split=train"]
    assert_one_clear_error(run_train(args, cli_env, tmp_path / "run"), "has no texts")
