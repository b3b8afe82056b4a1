"""The data curve and "worth N pairs" (analysis/data_curve.py), on planted results rows."""

import math

import pandas as pd
import pytest

from embtrans.analysis.data_curve import crossing, curve_table, worth_table


def test_crossing_interpolates_in_log_n_and_names_the_edges():
    sizes, scores = [10, 100, 1000], [0.1, 0.3, 0.5]
    n, read = crossing(pd.Series(sizes).to_numpy(float), pd.Series(scores).to_numpy(float), 0.2)
    assert read == "between" and n == pytest.approx(math.sqrt(10 * 100))
    assert crossing(pd.Series(sizes).to_numpy(float), pd.Series(scores).to_numpy(float), 0.05) == (10.0, "below")
    assert crossing(pd.Series(sizes).to_numpy(float), pd.Series(scores).to_numpy(float), 0.9) == (1000.0, "above")
    # lower is better (mean rank): reaching means falling to the level
    n, read = crossing(pd.Series(sizes).to_numpy(float), pd.Series([90.0, 10.0, 1.0]).to_numpy(float), 10.0, True)
    assert read == "between" and n == pytest.approx(100.0)


def rows():
    """One pair: Procrustes at 10, 100 (seeds 0, 1) and on all 1,000 texts (one run for every seed); an unpaired
    translator at seeds 0 and 1; a trained MLP that is on no curve."""
    out = []
    for seed, (at10, at100) in enumerate([(0.1, 0.3), (0.2, 0.4)]):
        out += [{"arch": "procrustes", "translator": "procrustes@train_pairs=10", "paired_texts": 10, "seed": seed,
                 "top1_accuracy": at10},
                {"arch": "procrustes", "translator": "procrustes@train_pairs=100", "paired_texts": 100, "seed": seed,
                 "top1_accuracy": at100},
                {"arch": "mini_vec2vec", "translator": "mini_vec2vec", "paired_texts": 0, "seed": seed,
                 "top1_accuracy": 0.3}]
    out += [{"arch": "procrustes", "translator": "procrustes@train_pairs=None", "paired_texts": 1000, "seed": 0,
             "top1_accuracy": 0.6},
            {"arch": "mlp1", "translator": "mlp1-x1", "paired_texts": 1000, "seed": 0, "top1_accuracy": 0.7}]
    frame = pd.DataFrame(out)
    return frame.assign(dataset="d", pair="a-to-b", kind="trained")


def test_curve_holds_the_sizes_with_intervals_over_seeds():
    curve = curve_table(rows())
    top1 = curve[curve["metric"] == "top1_accuracy"]
    assert list(top1["paired_texts"]) == [0, 10, 100, 1000]  # the MLP is on no curve
    at10 = top1[top1["paired_texts"] == 10].iloc[0]
    assert at10["mean"] == pytest.approx(0.15) and at10["seeds"] == 2 and at10["low"] < 0.15 < at10["high"]


def test_worth_is_read_per_seed_with_the_seeds_range():
    worth = worth_table(rows())
    row = worth[worth["metric"] == "top1_accuracy"].iloc[0]
    # seed 0 reaches 0.3 at exactly 100; seed 1 between 10 (0.2) and 100 (0.4), at sqrt(10 * 100)
    assert row["worth_low"] == pytest.approx(math.sqrt(1000)) and row["worth_high"] == pytest.approx(100)
    assert row["seeds"] == 2 and row["sizes"] == "10/100/1000" and row["read"] == "between"


def test_a_trained_translator_swept_over_sizes_draws_its_own_curve_per_width():
    """mlp2 at two widths, each at 100 and 1,000 texts: two curves named without their size, beside Procrustes;
    an MLP at one size only stays off."""
    extra = []
    for width, (at100, at1000) in ((8, (0.25, 0.65)), (1, (0.2, 0.5))):
        for n, score in ((100, at100), (1000, at1000)):
            extra += [{"arch": "mlp2", "translator": f"mlp2-x{width}@train_pairs={n}", "paired_texts": n, "seed": s,
                       "top1_accuracy": score + 0.01 * s} for s in (0, 1)]
    results = pd.concat([rows(), pd.DataFrame(extra).assign(dataset="d", pair="a-to-b", kind="trained")])
    top1 = curve_table(results).query("metric == 'top1_accuracy'")
    assert set(top1["translator"]) == {"procrustes", "mini_vec2vec", "mlp2-x8", "mlp2-x1"}  # mlp1-x1: one size
    wide = top1[top1["translator"] == "mlp2-x8"].set_index("paired_texts")
    assert list(wide.index) == [100, 1000] and wide.loc[1000, "mean"] == pytest.approx(0.655)
    assert (wide["seeds"] == 2).all()


def test_the_gap_to_a_linear_map_is_paired_by_seed_at_each_size():
    """mlp2-x8 against Procrustes at 100 texts, seed by seed: 0.25 - 0.3 and 0.26 - 0.4; at 1,000 texts
    Procrustes is one fit (0.6) for both seeds: 0.65 - 0.6 and 0.66 - 0.6."""
    from embtrans.analysis.data_curve import gap_table

    extra = [{"arch": "mlp2", "translator": f"mlp2-x8@train_pairs={n}", "paired_texts": n, "seed": s,
              "top1_accuracy": 0.0, "ndcg@10": score + 0.01 * s} for n, score in ((100, 0.25), (1000, 0.65)) for s in (0, 1)]
    planted = rows().assign(**{"ndcg@10": rows()["top1_accuracy"]})
    gaps = gap_table(pd.concat([planted, pd.DataFrame(extra).assign(dataset="d", pair="a-to-b", kind="trained")]))
    gaps = gaps[(gaps["metric"] == "ndcg@10") & (gaps["against"] == "procrustes")].set_index("paired_texts")
    assert gaps.loc[100, "difference"] == pytest.approx(((0.25 - 0.3) + (0.26 - 0.4)) / 2)
    assert gaps.loc[1000, "difference"] == pytest.approx(0.055) and gaps.loc[1000, "seeds"] == 2
    assert gaps.loc[100, "low"] < gaps.loc[100, "difference"] < gaps.loc[100, "high"]
    assert list(gaps["translator"].unique()) == ["mlp2-x8"]
