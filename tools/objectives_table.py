"""Print the README's per-pair table of an objectives ablation from its analysis' tables.

For each pair: the trained translator the analysis set against the closed forms (comparisons.csv, the
"learned vs closed form" row: chosen by validation nDCG under monitor=ndcg), then Procrustes, least
squares and the stronger references, with nDCG@10 retention, gap closed, Jaccard@10 and test MSE, each
with its bootstrap interval (translators.csv); then the paired comparison of the chosen translator
against the best closed form on that pair, and, for neighbourhoods, the trained translator with the
highest test Jaccard@10 (chosen on test, which the table says) against the untranslated level.

    python tools/objectives_table.py outputs/analysis/objectives_ndcg
"""

from __future__ import annotations

import pandas as pd
from analysis_tables import arguments, tables

REFERENCES = ["procrustes (closed form)", "lstsq (closed form)", "cca (closed form)",
              "local_procrustes (closed form)"]


def cell(row: pd.Series, column: str, digits: int = 3) -> str:
    value = row.get(column)
    if value is None or pd.isna(value):
        return "–"
    low, high = row.get(f"{column}_boot_low"), row.get(f"{column}_boot_high")
    spread = f" [{low:.{digits}f}, {high:.{digits}f}]" if pd.notna(low) and pd.notna(high) else ""
    return f"{value:.{digits}f}{spread}"


def mse_cell(row: pd.Series) -> str:
    low, high = row.get("test_mse_boot_low"), row.get("test_mse_boot_high")
    return f"{row['test_mse'] * 1e3:.3f} [{low * 1e3:.3f}, {high * 1e3:.3f}]"


def main() -> None:
    args = arguments(__doc__)
    translators, comparisons, knn = tables(args.analysis_dir, "translators", "comparisons", "knn")
    k = args.k
    learned = comparisons[comparisons["family"] == "learned vs closed form"]
    chosen = learned["first"].iloc[0]
    chosen_by = learned["first_chosen_by"].iloc[0] if "first_chosen_by" in learned else "highest test score"
    print(f"Trained translator set against the closed forms: {chosen} ({chosen_by}, over every pair).\n")
    print(f"| pair | translator | seeds | nDCG@{k} retention | gap closed | Jaccard@{k} | test MSE ×1e3 |")
    print("|---|---|---|---|---|---|---|")
    for pair, rows in translators.groupby("pair", sort=True):
        rows = rows.set_index("translator")
        for name in [chosen, *REFERENCES]:
            if name not in rows.index:
                continue
            row = rows.loc[name]
            print(f"| {pair} | {name.removesuffix(' (closed form)')} | {row['seeds']} | "
                  f"{cell(row, f'ndcg@{k}_retention')} | {cell(row, f'ndcg@{k}_gap_closed')} | "
                  f"{cell(row, f'jaccard@{k}')} | {mse_cell(row)} |")
    metric = f"ndcg@{k}_gap_closed"
    print(f"\nPaired comparison, {chosen} minus {learned['second'].iloc[0]} on {metric}:\n")
    print("| scope | difference [95 % interval] | verdict |")
    print("|---|---|---|")
    for row in learned[learned["metric"] == metric].itertuples():
        print(f"| {row.scope} | {row.effect:+.3f} [{row.low:+.3f}, {row.high:+.3f}] | {row.verdict} |")
    untranslated = knn.groupby("pair")[f"untranslated_jaccard@{k}"].first()
    trained = translators[translators["kind"] == "trained"]
    print(f"\nNeighbourhoods: the trained translator with the highest test Jaccard@{k} per pair (chosen on "
          "test) against untranslated A:\n")
    print(f"| pair | untranslated | best trained Jaccard@{k} | translator |")
    print("|---|---|---|---|")
    for pair, rows in trained.groupby("pair", sort=True):
        best = rows.loc[rows[f"jaccard@{k}"].idxmax()]
        print(f"| {pair} | {untranslated.get(pair, float('nan')):.3f} | {cell(best, f'jaccard@{k}')} | "
              f"{best['translator']} |")


if __name__ == "__main__":
    main()
