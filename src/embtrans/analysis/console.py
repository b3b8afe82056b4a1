"""What analyze.py prints at the end: the headline metrics per translator and where everything was written."""

from __future__ import annotations

import math

import pandas as pd

from embtrans.metrics.registry import headline


def shown(mean: float, std: float) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    return f"{mean:.4g}" + ("" if std is None or math.isnan(std) else f" ±{std:.2g}")


def print_summary(analysis, wandb_dir: str | None = None) -> None:
    translators = analysis.tables["translators"]
    columns = headline(translators.columns)
    table = translators[["pair", "translator", "seeds"]].copy()
    for column in columns:
        table[column] = [shown(m, s) for m, s in zip(translators[column], translators[f"{column}_std"])]
    with pd.option_context("display.width", 250, "display.max_rows", 500, "display.max_columns", 50):
        print(table.to_string(index=False))
    if (translators["seeds"] > 1).any():
        print("(mean over seeds ± their standard deviation; intervals in tables/translators.csv)")
    results, out = analysis.results, analysis.output_dir
    trained = int((results["kind"] == "trained").sum())
    print(f"\nanalysed {trained} run(s) of {analysis.sweep.sweep_dir} in {analysis.seconds:.0f} s")
    if analysis.sweep.left_out:
        print(f"left out {len(analysis.sweep.left_out)} job(s):")
        for line in analysis.sweep.left_out:
            print(f"  {line}")
    notes = analysis.tables.get("seeds_left_out", pd.DataFrame(columns=["note"]))["note"]
    if len(notes):
        print(f"{len(notes)} comparison(s) left runs out (each is made at the seeds both sides have):")
        for note in notes:
            print(f"  {note}")
    if analysis.sweep.skipped:
        cut = sum(": cut: " in line for line in analysis.sweep.skipped)
        why = [f"{n} {reason}" for n, reason in ((len(analysis.sweep.skipped) - cut, "with the same model as A and B"),
                                                  (cut, "left out by the sweep's cut (cut.seeds, cut.train_pairs_above)")) if n]
        print(f"{len(analysis.sweep.skipped)} job(s) were skipped by the sweep itself: {'; '.join(why)}")
    print(f"tables:   {out / 'tables'} (CSV and Markdown)")
    print(f"figures:  {out / 'figures'} ({len(analysis.figures)} files)")
    print(f"examples: {out / 'examples'}")
    print(f"chroma:   {analysis.chroma_dir} ({len(set(analysis.collections))} collections: native and translated)")
    print(f"all of it: {out / 'analysis.json'}")
    if wandb_dir:
        print(f"W&B:      {wandb_dir}")
