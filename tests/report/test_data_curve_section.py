"""The report's "What a paired text buys" part, from the data-curve tables (analysis/data_curve.py)."""

import pandas as pd

from embtrans.report.placeholder import placeholder_input
from embtrans.report.render import render_report
from tests.tiny_sweep import compose_analyze


def placeholder(folder):
    return placeholder_input(folder, compose_analyze().report.placeholder_study, seed=0)


def curve_tables():
    curve = pd.DataFrame([
        {"dataset": "d", "pair": "minilm-to-mpnet", "translator": t, "arch": a, "paired_texts": n, "seeds": s,
         "metric": m, "mean": v, "low": v - 0.01, "high": v + 0.01}
        for t, a, n, s, v in [("procrustes", "procrustes", 10, 3, 0.05),
                              ("procrustes", "procrustes", 1000, 3, 0.71),
                              ("mini_vec2vec", "mini_vec2vec", 0, 2, 0.30)]
        for m in ("top1_accuracy", "ndcg@10")])
    worth = pd.DataFrame([{"dataset": "d", "pair": "minilm-to-mpnet", "translator": "mini_vec2vec",
                           "against": "procrustes", "metric": "top1_accuracy", "seeds": 2, "unpaired_mean": 0.30,
                           "worth_median": 250.0, "worth_low": 200.0, "worth_high": 300.0, "read": "between",
                           "sizes": "10/1000"}])
    failures = pd.DataFrame([{"dataset": "d", "pair": "mpnet-to-minilm", "translator": "mini_vec2vec", "seed": 2,
                              "reason": "the unsupervised alignment found nothing: its self-consistency 0.27; "
                                        "at least 4 and above their best are needed", "job": "j"}])
    return curve, worth, failures


def test_the_section_shows_the_curve_the_worth_and_every_failure(tmp_path):
    report = placeholder(tmp_path)
    report.data_curve, report.pairs_worth, report.unpaired_failures = curve_tables()
    markdown = render_report(report, tmp_path / "report").markdown.read_text()
    part = markdown.split("### What a paired text buys")[1].split("\n### ")[0]
    assert "Procrustes needs (median)" in part and "200–300" in part
    assert "mpnet-to-minilm" in part and "found nothing" in part and "at least 4" not in part
    assert "| 0 (unpaired) | 10 | 1,000 |" in part
    assert part.count("minilm-to-mpnet | procrustes") == 2  # a curve table per metric shown
    short = markdown.split("**In short.**")[1].split("## ")[0]
    assert "**What a paired text buys**: translators that read no pair found an alignment in 2 of 3 fits" in short


def test_no_section_without_a_curve(tmp_path):
    report = placeholder(tmp_path)
    markdown = render_report(report, tmp_path / "report").markdown.read_text()
    assert "What a paired text buys" not in markdown


def test_a_data_scale_study_asks_whether_an_mlp_pulls_ahead_and_shows_each_gap(tmp_path):
    """Trained curves and no unpaired translator: the section's own heading, the gap table with its intervals,
    and the first-screen count of pairs where the MLP is clearly above the trained linear map."""
    report = placeholder(tmp_path)
    report.data_curve = pd.DataFrame([
        {"dataset": "d", "pair": p, "translator": t, "arch": t.split("-")[0], "paired_texts": n, "seeds": 3,
         "metric": "ndcg@10", "mean": v, "low": v - 0.01, "high": v + 0.01}
        for p in ("glove-to-use", "use-to-glove") for t, n, v in [("linear", 1000, 0.1), ("linear", 10000, 0.2),
                                                                  ("mlp2-x8", 1000, 0.08), ("mlp2-x8", 10000, 0.25)]])
    report.data_gaps = pd.DataFrame([
        {"dataset": "d", "pair": p, "paired_texts": n, "metric": "ndcg@10", "translator": "mlp2-x8", "against": "linear",
         "seeds": 3, "difference": d, "low": d - w, "high": d + w}
        for p, w in (("glove-to-use", 0.01), ("use-to-glove", 0.2)) for n, d in ((1000, -0.02), (10000, 0.05))])
    markdown = render_report(report, tmp_path / "report").markdown.read_text()
    part = markdown.split("### More paired texts: does an MLP pull ahead?")[1].split("\n### ")[0]
    assert "What a paired text buys: translation without pairs" not in markdown
    assert "| pair | MLP | minus | 1,000 | 10,000 |" in part
    row = next(line for line in part.splitlines() if line.startswith("| glove-to-use | mlp2-x8 | linear |"))
    assert "\\-0.020 \\[-0.030, -0.010\\]" in row and "\\+0.050 \\[+0.040, +0.060\\]" in row
    short = markdown.split("**In short.**")[1].split("## ")[0]
    assert ("mlp2-x8 at 10,000 paired texts is clearly above the trained linear map on 1 of 2 pairs and clearly "
            "below on 0") in short


def test_translators_fitted_on_samples_leave_the_per_pair_tables_for_the_curves():
    """linear at 100 and 1,000 of a pair's 1,000 texts: only the run on all of them is a per-pair row; a
    translator that read no pair (0) stays; a closed form fitted on all texts stays."""
    from embtrans.analysis.data_curve import split_sampled
    from embtrans.report.inputs import without_translators

    results = pd.DataFrame([
        {"dataset": "d", "pair": "a-to-b", "translator": t, "paired_texts": n}
        for t, n in [("linear@train_pairs=100", 100), ("linear@train_pairs=100", 100), ("linear", 1000),
                     ("mini_vec2vec", 0), ("procrustes (closed form)", 1000)]])
    kept, sampled = split_sampled(results)
    assert list(kept["translator"]) == ["linear", "mini_vec2vec", "procrustes (closed form)"]
    assert len(sampled) == 2
    comparisons = pd.DataFrame({"first": ["linear", "linear@train_pairs=100"], "second": ["procrustes (closed form)"] * 2})
    assert list(without_translators(comparisons, set(sampled["translator"]))["first"]) == ["linear"]
