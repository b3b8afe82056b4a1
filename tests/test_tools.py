"""The table-printing tools read a checked-in study's published tables and print what the docs quote."""

import os
import subprocess
import sys

import pytest

from embtrans.paths import ROOT

CHOICE = ROOT / "results" / "translator_choice" / "analysis"
REFERENCE = ROOT / "results" / "reference_study" / "analysis"


def run(tool: str, folder) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / tool), str(folder)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not CHOICE.exists(), reason="no translator-choice study checked in")
def test_the_targets_tool_says_for_each_translator_which_targets_it_meets_and_where_it_misses():
    shown = run("translator_targets.py", CHOICE)
    for name in ("orthogonal", "auto", "auto_translation"):
        assert f"**{name}** (3 seeds per pair):" in shown
    targets = [line for line in shown.splitlines() if line.startswith("- ")]
    assert len(targets) == 3 * 7 and all(": met" in line or ": NOT met; misses: " in line for line in targets)
    # a miss names its pair and by how much; the per-pair table has every pair and translator
    assert "minilm → e5_small (0.132 < 0.167)" in shown
    assert sum(line.startswith("| minilm → mpnet | ") for line in shown.splitlines()) == 6 + 1  # and the paired row


@pytest.mark.skipif(not REFERENCE.exists(), reason="no reference study checked in")
def test_the_objectives_table_reads_a_study_with_a_learned_against_closed_comparison():
    shown = run("objectives_table.py", REFERENCE)
    assert shown.startswith("Trained translator set against the closed forms: ")
    assert "| minilm → mpnet |" in shown or "| minilm-to-mpnet |" in shown


def test_the_unsupervised_diagnosis_measures_one_pair_with_its_held_back_pairs(cli_env):
    """On a small real pair (glove -> use, 600 texts): the correct map, both nulls and the anchor check, one row."""
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "unsupervised_diagnosis.py"), "model_a=glove",
                           "model_b=use", "dataset.limit=600", "arch.net.anchors=5", "arch.net.qap_starts=2"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, env=cli_env)
    assert done.returncode == 0, done.stderr
    row = done.stdout.strip().splitlines()[-1].split()
    assert row[:3] == ["glove", "→", "use"] and len(row) == 9
    correct, spectral, random_maps = float(row[3]), row[4].split("/"), row[5].split("/")
    assert 0 < float(random_maps[0]) <= float(random_maps[1]) < 1 and 0 < float(spectral[0]) < 1
    assert 0 <= float(row[6]) <= 1 and 0 < correct < 1


WORTH = ROOT / "results" / "pairs_worth" / "analysis"


@pytest.mark.skipif(not WORTH.exists(), reason="no pairs-worth study checked in")
def test_the_pairs_worth_table_prints_both_curves_for_every_pair_and_the_failed_fits():
    shown = run("pairs_worth_table.py", WORTH)
    lines = shown.splitlines()
    for metric in ("top1_accuracy", "ndcg@10"):
        assert f"{metric} by paired texts fitted on" in shown
    rows = [line for line in lines if line.startswith("| ") and " → " in line]
    assert len(rows) == 2 * 6 * 2  # two metrics, six pairs, procrustes and lstsq
    assert all(line.count("|") == 2 + 7 + 1 for line in rows)  # seven sizes
    assert "unpaired fits that found no alignment: " in shown


def test_the_embedding_tool_fills_the_cache_once_and_refuses_a_call_without_models(tmp_path):
    env = {**os.environ, "EMBTRANS_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}

    def embed(*arguments):
        return subprocess.run([sys.executable, str(ROOT / "tools" / "embed.py"), *arguments], capture_output=True,
                              text=True, cwd=ROOT, timeout=120, env=env)

    first, again = (embed("models=glove", "dataset.limit=300") for _ in range(2))
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    embedded = int(first.stdout.split("glove: ")[1].split(" texts")[0].replace(",", ""))
    assert embedded > 0 and (tmp_path / "cache" / "rotten_tomatoes" / "glove" / "vectors.npy").exists()
    assert "glove: 0 texts embedded now" in again.stdout and "all were cached" in again.stdout
    for wrong, named in ((["dataset.limit=300"], "models="), (["models=nosuch"], "model_a/nosuch"),
                         (["models=glove", "dataset=nosuch"], "dataset/nosuch")):
        refused = embed(*wrong)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and named in refused.stderr, refused.stderr
