"""The report's "What a paired text buys" part: closed forms fitted on n paired texts beside translators that
read none (tables/data_curve.csv, pairs_worth.csv, unpaired_failures.csv from analysis/data_curve.py)."""

from __future__ import annotations

from embtrans.analysis.identifiers import file_name
from embtrans.metrics.registry import title_of
from embtrans.report.content import Markdown, Sources, Table, with_interval

SHOWN = (("top1_accuracy", "fraction"), ("ndcg@10", "fraction"))


def pair_label(table, dataset: str, pair: str) -> str:
    """The pair, with its corpus when the table holds several."""
    return f"{pair} ({str(dataset).split('-')[0]})" if table["dataset"].nunique() > 1 else pair


def data_curve_section(report, sources: Sources) -> dict:
    """{} when the analysis has no data curve; else its tables and figures for the template."""
    curve = report.data_curve
    if curve.empty:
        return {}
    tables_dir = report.analysis_dir / "tables" if report.analysis_dir else None
    out = {"curves": [], "figures": [
        sources.figure(p, f"{title_of(metric)} against paired texts", f"{title_of(metric)} against the number of paired "
                       "texts each fit read (log scale), one panel per pair: each translator fitted on pairs as a line "
                       "with the 95 % t interval over seeds (each seed its own sample of texts), translators that read "
                       "no pair as dashed lines with their band.")
        for metric, _ in SHOWN for p in report.figures
        if p.name.startswith("data_curve_") and p.stem.endswith(file_name(metric))]}
    sizes = sorted(curve.loc[curve["paired_texts"] > 0, "paired_texts"].unique())
    unpaired = bool((curve["paired_texts"] == 0).any())
    for metric, style in SHOWN:
        rows = curve[curve["metric"] == metric]
        if rows.empty:
            continue
        table_rows = []
        for (dataset, pair, translator), group in rows.groupby(["dataset", "pair", "translator"], sort=True):
            by_size = group.set_index("paired_texts")
            cells = [pair_label(curve, dataset, pair), translator]
            for n in [0] * unpaired + sizes:
                if n not in by_size.index:
                    cells.append("")
                    continue
                row = by_size.loc[n]
                text = with_interval(row["mean"], None, row["low"], row["high"], style)
                cells.append(sources.make(row["mean"], style, tables_dir / "data_curve.csv" if tables_dir else None,
                                          f"{translator}, {pair}, {n:,} paired texts: {metric}, mean over "
                                          f"{int(row['seeds'])} seed(s), 95 % t interval over seeds", text))
            table_rows.append(cells)
        out["curves"].append(Table(["pair", "translator", *["0 (unpaired)"] * unpaired, *[f"{n:,}" for n in sizes]],
                                   table_rows,
                                   f"{title_of(metric)} by paired texts fitted on: mean over seeds [95 % t interval "
                                   "over seeds]; a closed form fitted on every training text is one fit for all seeds."))
    worth = report.pairs_worth
    if not worth.empty:
        out["worth"] = Table(["pair", "unpaired translator", "metric", "its score", "Procrustes needs (median)",
                              "range over seeds", "read"], [
            [r["pair"], r["translator"], title_of(r["metric"]),
             sources.make(r["unpaired_mean"], "rank" if r["metric"] == "mean_rank" else "fraction",
                          tables_dir / "pairs_worth.csv" if tables_dir else None, "mean over its seeds"),
             sources.make(r["worth_median"], "count", tables_dir / "pairs_worth.csv" if tables_dir else None,
                          "paired texts, interpolated in log n; median over seeds"),
             f"{r['worth_low']:,.0f}–{r['worth_high']:,.0f}", r["read"]]
            for r in worth.to_dict("records")],
            "How many paired texts Procrustes needs to score as well as the translator that read none, read per "
            "seed between the two sampled sizes around it (below: already at the smallest size; above: never).")
    gaps = report.data_gaps
    if not gaps.empty:
        out["gaps"] = gap_section_table(gaps, tables_dir, sources)
    out["unpaired"] = bool((curve["paired_texts"] == 0).any())
    out["trained"] = bool((~curve["arch"].isin(("procrustes", "lstsq")) & (curve["paired_texts"] > 0)).any())
    failures = report.unpaired_failures
    if not failures.empty:
        out["failures"] = Table(["pair", "translator", "seed", "why it failed"], [
            [r["pair"], r["translator"], str(r["seed"]), str(r["reason"]).split("; at least")[0]]
            for r in failures.sort_values(["pair", "seed"]).to_dict("records")],
            f"{len(failures)} unpaired fit(s) found no alignment: a failure, not a chance-level translator; "
            "no score of theirs enters a table.")
        out["failed_pairs"] = sorted(set(failures["pair"]))
    out["pairs"] = sorted(curve["pair"].unique())
    return out


# The gaps the report shows (tables/data_gaps.csv has every linear reference and mean cosine too).
GAPS_SHOWN = ("linear", "procrustes")


def gap_section_table(gaps, tables_dir, sources: Sources) -> Table:
    """nDCG@10 of each MLP minus a linear map's, per pair and number of paired texts, with the interval."""
    shown = gaps[(gaps["metric"] == "ndcg@10") & gaps["against"].isin(GAPS_SHOWN)]
    sizes = sorted(shown["paired_texts"].unique())
    table_rows = []
    for (dataset, pair, translator, against), group in shown.groupby(["dataset", "pair", "translator", "against"],
                                                                     sort=True):
        by_size = group.set_index("paired_texts")
        cells = [pair_label(shown, dataset, pair), translator, against]
        for n in sizes:
            if n not in by_size.index:
                cells.append("")
                continue
            row = by_size.loc[n]
            text = with_interval(row["difference"], None, row["low"], row["high"], "signed")
            cells.append(sources.make(row["difference"], "signed", tables_dir / "data_gaps.csv" if tables_dir else None,
                                      f"{translator} - {against}, {pair}, {n:,} paired texts: nDCG@10, mean over "
                                      f"{int(row['seeds'])} seed(s) of the difference at the same seed, 95 % t interval "
                                      "over seeds", text))
        table_rows.append(cells)
    return Table(["pair", "MLP", "minus", *[f"{n:,}" for n in sizes]], table_rows,
                 "nDCG@10 of each MLP minus a linear map's at the same number of paired texts: mean over seeds of the "
                 "difference at one seed (both fitted on that seed's sample) [95 % t interval over seeds; on these "
                 "pairs, not across pairs]. Above zero with its whole interval: the MLP pulls ahead at that n.")


def gap_finding(gaps, sources: Sources, source) -> str | None:
    """At the largest n each MLP was fitted on in each pair: on how many pairs it is clearly above, clearly below,
    or not clearly apart from the trained linear map (its seed interval of the nDCG@10 difference)."""
    rows = gaps[(gaps["metric"] == "ndcg@10") & (gaps["against"] == "linear")]
    if rows.empty:
        return None
    parts = []
    for translator, group in rows.groupby("translator", sort=True):
        at = group[group["paired_texts"] == group.groupby(["dataset", "pair"])["paired_texts"].transform("max")]
        n = " or ".join(f"{size:,}" for size in sorted(at["paired_texts"].unique()))
        above, below = int((at["low"] > 0).sum()), int((at["high"] < 0).sum())
        mean = sources.make(at["difference"].mean(), "signed", source, f"{translator} - linear nDCG@10 at {n} paired "
                            f"texts, mean over {len(at)} pairs of the pairs' seed means")
        parts.append(f"{translator} at {n} paired texts is clearly above the trained linear map on {above} of "
                     f"{len(at)} pairs and clearly below on {below} (nDCG@10 {mean} on average; seed intervals)")
    return "; ".join(parts)


def data_curve_finding(report, sources: Sources) -> Markdown | None:
    """The first-screen line of a data-curve study: how many unpaired fits found an alignment, and Procrustes'
    top-1 matching over the pairs at its smallest sampled size of at least 100 texts and on every text."""
    curve = report.data_curve
    if curve.empty:
        return None
    top1 = curve[(curve["metric"] == "top1_accuracy") & (curve["arch"] == "procrustes") & (curve["paired_texts"] > 0)]
    unpaired = curve[(curve["metric"] == "top1_accuracy") & (curve["paired_texts"] == 0)]
    failed, found = len(report.unpaired_failures), int(unpaired["seeds"].sum()) if len(unpaired) else 0
    source = report.analysis_dir / "tables" / "data_curve.csv" if report.analysis_dir else None
    parts = []
    if failed or found:
        parts.append(f"translators that read no pair found an alignment in {found} of {failed + found} fits "
                     + ("(each failure is listed, not scored)" if failed else ""))
    sizes = sorted(top1["paired_texts"].unique())
    if sizes:
        small = next((n for n in sizes if n >= 100), sizes[0])

        def span(n):
            at = top1[top1["paired_texts"] == n]["mean"]
            text = f"{at.min():.3f}–{at.max():.3f}"
            return sources.make(at.mean(), "fraction", source, f"procrustes top-1 over {len(at)} pairs at {n:,} "
                                "paired texts: lowest–highest pair mean", text)
        parts.append(f"Procrustes' top-1 matching across pairs is {span(small)} with {small:,} paired texts and "
                     f"{span(sizes[-1])} with {sizes[-1]:,}")
    gaps = gap_finding(report.data_gaps, sources, report.analysis_dir / "tables" / "data_gaps.csv"
                       if report.analysis_dir else None) if not report.data_gaps.empty else None
    if gaps:
        parts.append(gaps)
    return Markdown("**What a paired text buys**: " + "; ".join(parts) + ".")
