"""The report's "Fitted on one corpus, searched on another": tables/transfer.csv (analysis/transfer.py) as a table."""

from __future__ import annotations

from embtrans.report.content import Table


def transfer_section(report, sources) -> dict:
    """{} when the sweep holds no pair of models on two corpora."""
    table = report.transfer
    if table.empty or table["in_domain"].all():
        return {}
    metric = next(c for c in table.columns if c.startswith("ndcg@") and "_" not in c)
    source = report.analysis_dir / "tables" / "transfer.csv" if report.analysis_dir else None
    rows = []
    away = table[~table["in_domain"].astype(bool)]
    for (pair, translator, fitted_on, scored_on), group in away.groupby(
            ["pair", "translator", "fitted_on", "scored_on"], sort=True):
        seeds = len(group)
        where = f"{translator}, {pair}, fitted on {fitted_on}, searched on {scored_on}"
        spread = (f" ({group[metric].min():.3f}–{group[metric].max():.3f})" if seeds > 1 else "")
        rows.append([pair.replace("-to-", " → "), translator, fitted_on, scored_on,
                     sources.make(group[metric].mean(), "fraction", source,
                                  f"{where}: {metric}, mean over {seeds} seed(s)", f"{group[metric].mean():.3f}{spread}"),
                     sources.make(group["in_domain_ndcg"].iloc[0], "fraction", source,
                                  f"{translator}, {pair}, fitted on {scored_on} itself: {metric}, mean over its seeds"),
                     sources.make(group["share_of_in_domain"].mean(), "fraction", source,
                                  f"{where}: the transferred score over the in-domain one"),
                     sources.make(group[f"{metric}_native"].iloc[0], "fraction", source,
                                  f"native B on {scored_on}'s test split: {metric}")])
    return {"table": Table(["pair", "translator", "fitted on", "searched on", f"{metric.replace('ndcg', 'nDCG')}",
                            "fitted there instead", "share of it", "native B"], rows,
                           "B's test queries search the test passages translated from A, by exact cosine, with the "
                           "translator fitted on the other corpus' training split; beside it the same translator "
                           "fitted on the searched corpus itself, scored the same way (mean over seeds; in brackets "
                           "the seeds' range).")}
