"""What analyze.py prints at the end: the headline table and where everything was written."""

from __future__ import annotations

import pandas as pd

from src.analysis.tables import in_pattern_order


def print_summary(analysis, wandb_dir: str | None = None) -> None:
    results = analysis.results
    shown = ["pair", "translator"] + in_pattern_order(results.columns, [
        "test_mse", "test_cosine", r"jaccard@\d+", "cka_linear", "top1_accuracy", r"ndcg@\d+_retention",
        r"ndcg@\d+_gap_closed"])
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.float_format", "{:.4g}".format):
        print(results[shown].to_string(index=False))
    out = analysis.output_dir
    trained = int((results["kind"] == "trained").sum())
    print(f"\nanalysed {trained} run(s) of {analysis.sweep.sweep_dir} in {analysis.seconds:.0f} s")
    if analysis.sweep.left_out:
        print(f"left out {len(analysis.sweep.left_out)} job(s):")
        for line in analysis.sweep.left_out:
            print(f"  {line}")
    if analysis.sweep.skipped:
        print(f"{len(analysis.sweep.skipped)} job(s) were skipped by the sweep itself (same model as A and B)")
    print(f"tables:   {out / 'tables'} (CSV and Markdown)")
    print(f"figures:  {out / 'figures'} ({len(analysis.figures)} files)")
    print(f"examples: {out / 'examples'}")
    print(f"chroma:   {analysis.chroma_dir} ({len(set(analysis.collections))} collections: native and translated)")
    print(f"all of it: {out / 'analysis.json'}")
    if wandb_dir:
        print(f"W&B:      {wandb_dir}")
