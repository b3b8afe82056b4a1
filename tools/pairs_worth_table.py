"""Print what a paired text buys, from an analysis of a pairs_worth sweep: per pair, Procrustes' and least squares'
top-1 matching and nDCG@k by the number of paired texts fitted on (mean over seeds [95 % t interval over seeds]);
how many paired texts each unpaired translator is worth, where it found an alignment; and every unpaired fit that
found none (tables/data_curve.csv, pairs_worth.csv, unpaired_failures.csv).

    python tools/pairs_worth_table.py outputs/analysis/pairs_worth
"""

from __future__ import annotations

import re

import pandas as pd
from analysis_tables import arguments, tables


def cell(row: pd.Series | None, digits: int) -> str:
    if row is None or pd.isna(row["mean"]):
        return "–"
    text = f"{row['mean']:.{digits}f}"
    return text + (f" [{row['low']:.{digits}f}, {row['high']:.{digits}f}]" if pd.notna(row["low"]) else "")


def curve_markdown(curve: pd.DataFrame, metric: str, digits: int = 3) -> None:
    rows = curve[curve["metric"] == metric]
    sizes = sorted(rows.loc[rows["paired_texts"] > 0, "paired_texts"].unique())
    print(f"\n{metric} by paired texts fitted on (mean over seeds [95 % t interval over seeds]; the last size is every "
          "training text, one fit for every seed):\n")
    print("| pair | translator | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for (pair, arch), group in rows[rows["paired_texts"] > 0].groupby(["pair", "arch"], sort=True):
        by_size = {int(r["paired_texts"]): r for _, r in group.iterrows()}
        print(f"| {pair.replace('-to-', ' → ')} | {arch} | " + " | ".join(cell(by_size.get(n), digits) for n in sizes) + " |")


def main() -> None:
    args = arguments(__doc__)
    curve, worth, failures = tables(args.analysis_dir, "data_curve", "pairs_worth", "unpaired_failures")
    for metric in ("top1_accuracy", f"ndcg@{args.k}"):
        curve_markdown(curve, metric)
    print()
    if len(worth):
        for row in worth.itertuples():
            print(f"- {row.pair}: {row.translator} scores {row.unpaired_mean:.3f} {row.metric}; Procrustes needs "
                  f"{row.worth_median:,.0f} paired texts (seeds: {row.worth_low:,.0f}–{row.worth_high:,.0f}, {row.read})")
    found = failures.groupby(["translator", "pair"]).size()
    fits = sorted({(t, p) for t, p in found.index})
    print(f"unpaired fits that found no alignment: {len(failures)}" + (
        f" ({', '.join(f'{t} {p} ×{found[(t, p)]}' for t, p in fits)})" if len(failures) else ""))
    if len(failures):
        scores = failures["reason"].str.extract(r"vectors, ([0-9.]+), is (-?[0-9.]+) standard deviations above that "
                                                r"of \d+ (.+?) \(mean ([0-9.]+), best ([0-9.]+)\)")
        scores.columns = ["score", "z", "null", "null_mean", "null_best"]
        print(f"their self-consistency: {scores['score'].astype(float).min():.4f}–{scores['score'].astype(float).max():.4f}; "
              f"the null that stopped them: {', '.join(sorted(set(scores['null'].dropna())))} "
              f"(best {scores['null_best'].astype(float).min():.4f}–{scores['null_best'].astype(float).max():.4f}); "
              f"z {scores['z'].astype(float).min():.1f} to {scores['z'].astype(float).max():.1f}")
        assert all(re.search("found nothing", r) for r in failures["reason"])


if __name__ == "__main__":
    main()
