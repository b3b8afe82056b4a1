"""Translators measured at different seeds (an interrupted seed, a damaged file, deleted vectors): comparisons use
the seeds both sides have, matched by value, say how many, and list what was left out; a closed-form fit (one
run) stands beside every seed. Small planted studies whose per-seed values make a wrong pairing visible."""

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from embtrans.analysis.identifiers import CLOSED_FORM, TRAINED, PairId, TranslatorId
from embtrans.analysis.summaries import Items, Settings
from embtrans.analysis.tables import build_tables
from embtrans.stats.intervals import bootstrap, seed_interval
from tests.tiny_sweep import run_analyze

K = 10
QUERIES, TEXTS = 120, 80
P1, P2 = PairId("tiny-100-abc", "minilm", "mpnet"), PairId("tiny-100-abc", "mpnet", "minilm")
GAP = f"ndcg@{K}_gap_closed"
COMPARED = f"ndcg@{K}"  # comparisons are made on the absolute score (here equal to gap closed)
SETTINGS = Settings(replicates=200)


def study(seeds: dict[PairId, dict[str, dict[int, float]]], lstsq: float | None = None, rng_seed: int = 0):
    """Per pair, per trained translator ("linear" or "mlp1"), seed -> the shift of its nDCG over a shared base.
    The native score is 1 and the floor 0 on every query, so gap closed is nDCG itself and an effect is a
    difference of shifts. ``lstsq``: a closed-form fit at that shift. Rows carry their items' means, as the
    analysis' do, plus a CKA score per run (a metric without items) equal to its shift."""
    rng = np.random.default_rng(rng_seed)
    items, rows = Items(), []
    for pid, translators in seeds.items():
        items.references[pid] = {f"ndcg@{K}_native": np.ones(QUERIES), f"ndcg@{K}_floor": np.zeros(QUERIES)}
        base = rng.uniform(0.2, 0.4, QUERIES)
        mse = rng.uniform(0.5, 1.5, TEXTS)
        runs = [(TranslatorId(arch, None if arch == "linear" else 8, TRAINED, seed=seed), shift)
                for arch, by_seed in translators.items() for seed, shift in by_seed.items()]
        if lstsq is not None:
            runs.append((TranslatorId("lstsq", kind=CLOSED_FORM), lstsq))
        for tid, shift in runs:
            arrays = {f"ndcg@{K}": base + shift, "test_mse": mse * (1 - shift)}
            items.translators[(pid, tid)] = arrays
            ndcg = arrays[f"ndcg@{K}"].mean()
            rows.append({
                "dataset": pid.dataset, "pair": pid.name, "model_a": pid.model_a, "model_b": pid.model_b,
                "translator": tid.label, "seed": tid.seed, "run_label": tid.run_label, "arch": tid.arch,
                "width": tid.width, "hidden": None, "parameters": None, "kind": tid.kind, "run_dir": "",
                "test_mse": arrays["test_mse"].mean(), f"ndcg@{K}": ndcg, f"ndcg@{K}_retention": ndcg, GAP: ndcg,
                "cka_linear": 0.5 + shift,
            })
    return pd.DataFrame(rows), items


def depth(tables, scope="all pairs"):
    """The row of mlp1-x8 against linear on nDCG, in the given scope."""
    table = tables["comparisons"]
    found = table[(table["family"] == "depth") & (table["metric"] == COMPARED) & (table["scope"] == scope)]
    assert len(found) == 1, table[["family", "metric", "scope"]]
    return found.iloc[0]


def left_out(tables) -> list[str]:
    return list(tables["seeds_left_out"]["note"])


def test_three_seeds_against_two_compares_the_two_shared_and_lists_the_third():
    # mlp1's seed 2 is far off: including it (or pairing by position) would move the effect
    results, items = study({P1: {"mlp1": {0: 0.10, 1: 0.12, 2: 0.60}, "linear": {0: 0.0, 1: 0.02}}}, lstsq=0.01)
    tables = build_tables(results, items, SETTINGS)
    row = depth(tables)
    assert row["seeds"] == 2 and str(row["seed_list"]) == "0 1"
    assert row["effect"] == pytest.approx(0.10, abs=1e-9)  # (0.10 + 0.12) / 2 - (0.0 + 0.02) / 2
    assert left_out(tables) == ["mlp1-x8 vs linear on minilm → mpnet: seeds 0, 1 shared; seed 2 left out "
                                "(linear lacks it)"]
    assert row["seeds_left_out"] == left_out(tables)[0]
    # the closed-form fit ran once for every seed: all three of mlp1's seeds are set against it, nothing left out
    learned = tables["comparisons"].query("family == 'learned vs closed form' and metric == @COMPARED").iloc[0]
    assert learned["first"] == "mlp1-x8" and learned["seeds"] == 3 and str(learned["seed_list"]) == "0 1 2"
    assert learned["effect"] == pytest.approx((0.10 + 0.12 + 0.60) / 3 - 0.01, abs=1e-9)
    assert learned["seeds_left_out"] == ""


def test_seeds_are_matched_by_value_not_by_position():
    # mlp1 at {0, 1}, linear at {1, 2}: only seed 1 is shared. By position (0 with 1, 1 with 2) the effect
    # would be (0.30 + 0.10) / 2 - (0.0 + 0.50) / 2 = -0.05; by seed it is 0.10 - 0.0.
    results, items = study({P1: {"mlp1": {0: 0.30, 1: 0.10}, "linear": {1: 0.0, 2: 0.50}}})
    tables = build_tables(results, items, SETTINGS)
    row = depth(tables)
    assert row["effect"] == pytest.approx(0.10, abs=1e-9)
    assert row["seeds"] == 1 and str(row["seed_list"]) == "1"
    assert left_out(tables) == ["mlp1-x8 vs linear on minilm → mpnet: seed 1 shared; seed 0 left out (linear "
                                "lacks it), seed 2 left out (mlp1-x8 lacks it)"]
    mse = tables["comparisons"].query("family == 'depth' and metric == 'test_mse'").iloc[0]
    assert mse["effect"] == pytest.approx((1 - 0.10) / (1 - 0.0) - 1, abs=1e-9)


def test_a_pair_without_a_shared_seed_is_not_compared_and_is_listed():
    results, items = study({P1: {"mlp1": {0: 0.30}, "linear": {1: 0.0}},
                            P2: {"mlp1": {0: 0.05, 1: 0.07}, "linear": {0: 0.0, 1: 0.0}}})
    tables = build_tables(results, items, SETTINGS)
    row = depth(tables)
    assert row["pairs"] == 1 and row["seeds"] == 2  # mpnet → minilm alone
    assert row["effect"] == pytest.approx(0.06, abs=1e-9)
    assert not (tables["comparisons"]["scope"] == P1.title).any()
    listed = tables["seeds_left_out"].set_index("scope")
    assert not listed.loc[P1.title, "compared"]
    assert listed.loc[P1.title, "note"] == ("mlp1-x8 vs linear on minilm → mpnet: no seed in common (mlp1-x8 has "
                                            "seed 0, linear seed 1): not compared")
    assert P1.title in row["seeds_left_out"]

    # no pair left at all: no comparison drawn, and the pair is still listed
    alone = results[results["pair"] == P1.name]
    tables = build_tables(alone, items, SETTINGS)
    assert tables["comparisons"].empty
    assert left_out(tables) == [listed.loc[P1.title, "note"]]


def test_a_translator_with_one_seed_gets_no_seed_interval_and_is_compared_at_that_seed():
    results, items = study({P1: {"mlp1": {2: 0.20}, "linear": {0: 0.0, 1: 0.0, 2: 0.05}}})
    tables = build_tables(results, items, SETTINGS)
    mlp1 = tables["translators"].set_index("translator").loc["mlp1-x8"]
    assert mlp1["seeds"] == 1 and math.isnan(mlp1[f"{GAP}_seed_low"]) and math.isnan(mlp1[f"{GAP}_seed_high"])
    assert math.isnan(mlp1[f"{GAP}_std"])
    assert mlp1[f"{GAP}_boot_low"] <= mlp1[GAP] <= mlp1[f"{GAP}_boot_high"]  # the items still give an interval
    row = depth(tables)
    # seed 2 against seed 2, not mlp1's one run against linear's mean over three seeds (0.2 - 0.05 / 3)
    assert row["seeds"] == 1 and row["effect"] == pytest.approx(0.15, abs=1e-9)
    assert left_out(tables) == ["mlp1-x8 vs linear on minilm → mpnet: seed 2 shared; seeds 0, 1 left out "
                                "(mlp1-x8 lacks them)"]


def test_the_aggregate_over_pairs_uses_the_seeds_every_pair_has():
    results, items = study({P1: {"mlp1": {0: 0.10, 1: 0.20, 2: 0.90}, "linear": {0: 0.0, 1: 0.0, 2: 0.0}},
                            P2: {"mlp1": {0: 0.30, 1: 0.50}, "linear": {0: 0.0, 1: 0.0, 2: 0.0}}})
    aggregate = build_tables(results, items, SETTINGS)["aggregate"].set_index("translator").loc["mlp1-x8"]
    assert aggregate["seeds"] == 3 and aggregate["seeds_fewest"] == 2
    # CKA has no items: a t interval over seeds of the mean over pairs, at the seeds on every pair (0 and 1)
    expected = seed_interval([0.5 + (0.10 + 0.30) / 2, 0.5 + (0.20 + 0.50) / 2])
    assert (aggregate["cka_linear_low"], aggregate["cka_linear_high"]) == pytest.approx((expected.low, expected.high))
    # per-item metrics: each pair bootstrapped over its own seeds
    assert aggregate[f"{GAP}_low"] < aggregate[f"{GAP}_mean"] < aggregate[f"{GAP}_high"]


def test_the_bootstrap_refuses_unaligned_seed_rows_with_a_pointer_to_aligning_them():
    with pytest.raises(ValueError, match="align"):
        bootstrap([{"a": np.zeros((3, 5)), "b": np.zeros((2, 5))}], lambda m: m["a"] - m["b"])


@pytest.mark.slow
def test_analyze_goes_on_when_translators_have_different_seeds(tiny_sweep, tmp_path):
    """The session's tiny sweep with linear's seed 0 and mlp1-x1's seed 2 gone: {1, 2} against {0, 1}."""
    log_dir, sweep_dir, env = tiny_sweep
    sweep = tmp_path / "sweep"
    shutil.copytree(sweep_dir, sweep, ignore=shutil.ignore_patterns("minilm-to-minilm"))
    jobs = sweep / "rotten_tomatoes" / "minilm-to-e5_small"
    for pattern in ("linear-x1_seed=0_*", "mlp1-x1_seed=2_*"):
        (job,) = jobs.glob(pattern)
        (job / "metrics.json").unlink()

    result = run_analyze([f"sweep_dir={sweep}", f"output_dir={tmp_path / 'out'}"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    tables = tmp_path / "out" / "tables"
    comparisons = pd.read_csv(tables / "comparisons.csv", keep_default_na=False)
    depth = comparisons[(comparisons["family"] == "depth") & (comparisons["first"] == "mlp1-x1")]
    assert len(depth) and (depth["seeds"] == 1).all() and (depth["seed_list"].astype(str) == "1").all()
    width = comparisons[comparisons["family"] == "width"]
    assert len(width) and (width["seeds"] == 2).all()  # mlp1-x2 {0, 1, 2} against mlp1-x1 {0, 1}
    notes = pd.read_csv(tables / "seeds_left_out.csv")["note"].tolist()
    assert "mlp1-x1 vs linear on minilm → e5_small: seed 1 shared; seed 0 left out (linear lacks it), seed 2 " \
           "left out (mlp1-x1 lacks it)" in notes
    assert json.loads((tmp_path / "out" / "analysis.json").read_text())["seeds_left_out"] == notes
    assert "seed 2 left out" in result.stdout
    assert (tmp_path / "out" / "report" / "report.md").exists()
