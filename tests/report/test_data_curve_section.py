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
        for t, a, n, s, v in [("procrustes@train_pairs=10", "procrustes", 10, 3, 0.05),
                              ("procrustes@train_pairs=1000", "procrustes", 1000, 3, 0.71),
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
