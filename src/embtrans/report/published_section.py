"""The report's "Beside the published numbers": tables/published.csv (analysis/published.py) as a table."""

from __future__ import annotations

import pandas as pd

from embtrans.analysis.published import NOT_MEASURED
from embtrans.report.content import Table


def published_section(report, sources) -> dict:
    """{} when the analysis has no such table or measured none of its entries."""
    table = report.published
    if table.empty or (table["here"] == NOT_MEASURED).all():
        return {}
    source = report.analysis_dir / "tables" / "published.csv" if report.analysis_dir else None
    rows = []
    for r in table[table["here"] != NOT_MEASURED].to_dict("records"):
        theirs = f"{r['their_pairs']}; {r['their_corpus']}; {r['their_paired_texts']} paired texts; pool {r['their_pool']}"
        pool = f"; pool {int(r['here_pool']):,}" if pd.notna(r.get("here_pool")) else ""
        here = f"{r['pair']}; {r['here_corpus']}; {int(r['here_paired_texts']):,} paired texts{pool}"
        value = (sources.make(r["here_mean"], "fraction", source, f"{r['translator']}, {r['pair']}: mean over seeds "
                              "(tables/published.csv)", r["here"]) if pd.notna(r.get("here_mean")) else r["here"])
        note = r["note"] if isinstance(r.get("note"), str) else ""
        rows.append([r["source"], f"{r['translator_theirs']}: {r['metric']}", r["published"], theirs,
                     r["translator"], value, here, note])
    missing = table[table["here"] == NOT_MEASURED]
    return {"table": Table(["who", "their translator: metric", "published", "their setting", "here", "this study",
                            "this study's setting", "what else differs"], rows,
                           "Published figures as their authors report them; this study's as the mean over seeds with "
                           "the seeds' range (one fit: a closed form on every training text)."),
            "not_measured": [f"{r['source']} ({r['published']})" for r in missing.to_dict("records")]}
