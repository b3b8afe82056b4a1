"""Print issue 26's targets, per pair, from an analysis' tables: does a translator retrieve at least as well as
Procrustes on every pair and still translate?

For each pair and translator (the challengers, orthogonal and auto, then linear_retrieval, Procrustes and
least squares): test nDCG@10 with its bootstrap interval and its retention of native B's, mean cosine to the
native B vector, test MSE, and the half-migrated index (half the passages translated): its nDCG@10 and the
share of the top 10 the translated half takes (translators.csv). Then the paired nDCG@10 differences against
Procrustes and linear_retrieval (comparisons.csv: paired bootstraps over the same test queries and seeds),
and each target, met on how many pairs, with every miss and by how much.

    python tools/translator_targets.py outputs/analysis/translator_choice
"""

from __future__ import annotations

import pandas as pd
from analysis_tables import arguments, tables

# the translators the analysis sets against Procrustes and linear_retrieval, one list for both
from embtrans.analysis.summaries import CHALLENGERS

RIVALS = {"procrustes": "procrustes (closed form)", "linear_retrieval": "linear_retrieval"}
SHOWN = [*CHALLENGERS, "linear_retrieval", "procrustes (closed form)", "lstsq (closed form)"]
COSINE_TOLERANCE = 0.03
SHARE_RANGE = (0.35, 0.65)


def interval(row: pd.Series, column: str, digits: int = 3, scale: float = 1.0) -> str:
    value, low, high = (row.get(column + suffix) for suffix in ("", "_boot_low", "_boot_high"))
    if value is None or pd.isna(value):
        return "–"
    text = f"{value * scale:.{digits}f}"
    return text + (f" [{low * scale:.{digits}f}, {high * scale:.{digits}f}]" if pd.notna(low) and pd.notna(high) else "")


def title(pair: str) -> str:
    return pair.replace("-to-", " → ")


def table_of_pairs(translators: pd.DataFrame, k: int) -> None:
    print(f"| pair | translator | seeds | nDCG@{k} [95 %] | retention | cosine to B [95 %] | test MSE ×1e4 [95 %] | "
          f"half-migrated nDCG@{k} | translated share of top {k} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for pair, rows in translators.groupby("pair", sort=True):
        rows = rows.set_index("translator")
        for name in SHOWN:
            if name in rows.index:
                row = rows.loc[name]
                print(f"| {title(pair)} | {name.removesuffix(' (closed form)')} | {int(row['seeds'])} | "
                      f"{interval(row, f'ndcg@{k}')} | {row[f'ndcg@{k}_retention']:.3f} | {interval(row, 'test_cosine')} | "
                      f"{interval(row, 'test_mse', 3, 1e4)} | {interval(row, f'mixed50_ndcg@{k}')} | "
                      f"{row[f'mixed50_translated_share@{k}']:.3f} |")


def paired(comparisons: pd.DataFrame, challenger: str, rival: str, k: int) -> pd.DataFrame:
    """Per pair (scope), the paired difference challenger − rival in nDCG@k, with its interval."""
    rows = comparisons[(comparisons["family"] == f"against {rival}") & (comparisons["first"] == challenger)
                       & (comparisons["metric"] == f"ndcg@{k}") & (comparisons["scope"] != "all pairs")]
    return rows.set_index("scope")[["effect", "low", "high", "verdict", "seeds"]]


def report_target(name: str, checked: dict[str, tuple[bool, str]], wanted: int) -> None:
    met = [pair for pair, (ok, _) in checked.items() if ok]
    misses = [f"{pair} ({why})" for pair, (ok, why) in checked.items() if not ok]
    verdict = "met" if len(met) >= wanted else "NOT met"
    print(f"- {name}: {len(met)} of {len(checked)} pairs (needs {wanted}): {verdict}"
          + (f"; misses: {', '.join(misses)}" if misses else ""))


def targets(challenger: str, translators: pd.DataFrame, comparisons: pd.DataFrame, retrieval: pd.DataFrame,
            k: int) -> None:
    own = translators[translators["translator"] == challenger].set_index("pair")
    if own.empty:
        return
    by_name = {name: translators[translators["translator"] == label].set_index("pair") for name, label in
               (("procrustes", "procrustes (closed form)"), ("lstsq", "lstsq (closed form)"))}
    natives = retrieval.groupby("pair")[[f"ndcg@{k}_native", f"ndcg@{k}_source"]].mean()
    pairs = list(own.index)
    print(f"\n**{challenger}** ({', '.join(str(int(s)) for s in own['seeds'].unique())} seeds per pair):")
    for rival, label in RIVALS.items():
        differences = paired(comparisons, challenger, rival, k)
        checked = {}
        for pair in pairs:
            if title(pair) not in differences.index:
                checked[title(pair)] = (False, f"no {label} on this pair")
                continue
            d = differences.loc[title(pair)]
            checked[title(pair)] = (d["high"] >= 0, f"{d['effect']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]")
        wanted = len(pairs) if rival == "procrustes" else len(pairs) - 1
        report_target(f"nDCG@{k} not below {rival} (paired interval's upper end ≥ 0)", checked, wanted)
        better = sum(differences.loc[title(p), "low"] > 0 for p in pairs if title(p) in differences.index)
        print(f"  (better, the whole interval above zero, on {better} of {len(pairs)})")
    cosine = {title(p): (own.at[p, "test_cosine"] >= by_name["lstsq"].at[p, "test_cosine"] - COSINE_TOLERANCE,
                         f"{own.at[p, 'test_cosine'] - by_name['lstsq'].at[p, 'test_cosine']:+.3f}") for p in pairs}
    report_target(f"mean cosine to B within {COSINE_TOLERANCE} of least squares'", cosine, len(pairs))
    mse = {title(p): (own.at[p, "test_mse"] <= by_name["procrustes"].at[p, "test_mse"],
                      f"{own.at[p, 'test_mse'] / by_name['procrustes'].at[p, 'test_mse'] - 1:+.1%}") for p in pairs}
    report_target("test MSE no worse than Procrustes'", mse, len(pairs))
    mixed = {}
    for p in pairs:
        floor = min(own.at[p, f"ndcg@{k}"], natives.at[p, f"ndcg@{k}_native"])
        mixed[title(p)] = (own.at[p, f"mixed50_ndcg@{k}"] >= floor, f"{own.at[p, f'mixed50_ndcg@{k}']:.3f} < {floor:.3f}")
    report_target(f"half-migrated nDCG@{k} at least the lower pure index's", mixed, len(pairs))
    low, high = SHARE_RANGE
    share = {title(p): (low <= own.at[p, f"mixed50_translated_share@{k}"] <= high,
                        f"{own.at[p, f'mixed50_translated_share@{k}']:.3f}") for p in pairs}
    report_target(f"translated share of the half-migrated top {k} in [{low}, {high}]", share, len(pairs))
    weaker = {}
    for p in pairs:
        floor = natives.loc[p].min()
        weaker[title(p)] = (own.at[p, f"ndcg@{k}"] >= floor, f"{own.at[p, f'ndcg@{k}']:.3f} < {floor:.3f}")
    report_target(f"translated nDCG@{k} at least the weaker model's own (min of native A, native B)", weaker, len(pairs))


def main() -> None:
    args = arguments(__doc__)
    translators, comparisons, retrieval = tables(args.analysis_dir, "translators", "comparisons", "retrieval")
    print(f"Test split, mean over seeds; intervals: percentile bootstrap over test queries or texts and seeds "
          f"({args.analysis_dir}).\n")
    table_of_pairs(translators, args.k)
    print(f"\nPaired nDCG@{args.k} differences (comparisons.csv):\n")
    print("| pair | " + " | ".join(f"{c} − {r}" for c in CHALLENGERS for r in RIVALS) + " |")
    print("|---|" + "---|" * (len(CHALLENGERS) * len(RIVALS)))
    cells = {(c, r): paired(comparisons, c, r, args.k) for c in CHALLENGERS for r in RIVALS}
    for pair in sorted(translators["pair"].unique()):
        row = []
        for rows in cells.values():
            d = rows.loc[title(pair)] if title(pair) in rows.index else None
            row.append("–" if d is None else f"{d['effect']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]")
        print(f"| {title(pair)} | " + " | ".join(row) + " |")
    print("\nTargets:")
    for challenger in CHALLENGERS:
        targets(challenger, translators, comparisons, retrieval, args.k)


if __name__ == "__main__":
    main()
