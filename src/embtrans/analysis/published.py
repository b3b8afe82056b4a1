"""This study's figures beside published ones, where the setting is comparable, with each difference of setting
stated (the entries are in published.yaml beside this file).

One row per published figure and pair of models (and per translator of this study that matches it): the published
figure and its setting, this study's mean over seeds with the seeds' range, and this study's setting read from its
results (corpus, pool, paired texts the fit read). An entry with no matching result is listed as not measured; an
unsupervised translator whose every fit failed is listed with its failures, never as a score.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

PUBLISHED = Path(__file__).with_name("published.yaml")
NOT_MEASURED = "not measured in this study"  # what an entry without a comparable result reads (the report's test)
COLUMNS = ["source", "translator_theirs", "metric", "published", "their_corpus", "their_pairs", "their_paired_texts",
           "their_pool", "pair", "translator", "here", "here_mean", "here_low", "here_high", "seeds", "here_corpus",
           "here_paired_texts", "here_pool", "note"]


def published_entries(path: Path = PUBLISHED) -> list[dict]:
    return yaml.safe_load(path.read_text())


def published_table(results: pd.DataFrame, failures: pd.DataFrame | None = None,
                    entries: list[dict] | None = None) -> pd.DataFrame:
    rows = []
    for entry in entries if entries is not None else published_entries():
        theirs = {"source": entry["source"], "translator_theirs": entry["translator"], "metric": entry["metric"],
                  "published": entry["published"], **{f"their_{k}": v for k, v in entry["theirs"].items()},
                  "note": entry.get("note", "")}
        found = comparable_rows(results, entry["here"])
        failed = failed_fits(failures, entry["here"])
        if not found.empty:
            for here in summarised(found, entry["here"]):
                also = next((f["seeds"] for f in failed if (f["pair"], f["translator"]) == (here["pair"], here["translator"])), 0)
                rows.append(theirs | here | ({"here": f"{here['here']}; {also} more fit(s) failed"} if also else {}))
        elif failed:
            rows += [theirs | here for here in failed]
        else:
            rows.append(theirs | {"pair": "", "translator": "", "here": NOT_MEASURED})
    return pd.DataFrame(rows, columns=COLUMNS)


def comparable_rows(results: pd.DataFrame, here: dict) -> pd.DataFrame:
    """The results of the entry's pairs and archs with the number of paired texts it names ("all": the pair's
    whole training split, the most any fit of that pair read)."""
    needed = {"pair", "arch", "paired_texts", here["column"]}
    if results.empty or not needed <= set(results.columns):
        return pd.DataFrame()
    rows = results[results["arch"].isin(here["arch"])]
    if here["pairs"] != "all":
        rows = rows[rows["pair"].isin(here["pairs"])]
    if rows.empty:
        return rows
    texts = pd.to_numeric(rows["paired_texts"], errors="coerce")
    if here["paired_texts"] == "all":
        most = pd.to_numeric(results["paired_texts"], errors="coerce").groupby(results["pair"]).max()
        rows = rows[texts.to_numpy() == rows["pair"].map(most).to_numpy()]
    else:
        rows = rows[texts == int(here["paired_texts"])]
    rows = rows[pd.to_numeric(rows[here["column"]], errors="coerce").notna()]
    # A closed form the analysis fitted on every text is the same fit as a sweep's run of it: keep the run.
    if "kind" in rows and len(rows):
        keys = pd.Series(list(zip(rows["pair"], rows["arch"])), index=rows.index)
        fitted_by_runs = set(keys[rows["kind"] != "closed form"])
        rows = rows[~((rows["kind"] == "closed form") & keys.isin(fitted_by_runs))]
    return rows


def summarised(rows: pd.DataFrame, here: dict) -> list[dict]:
    out = []
    for (dataset, pair, translator), group in rows.groupby(["dataset", "pair", "translator"], sort=True):
        values = pd.to_numeric(group[here["column"]], errors="coerce")
        pools = pd.to_numeric(group[here["pool"]], errors="coerce") if here["pool"] in group else pd.Series(dtype=float)
        seeds = len(values)
        text = f"{values.mean():.3f}" + (f" ({values.min():.3f}–{values.max():.3f} over {seeds} seeds)" if seeds > 1
                                         else " (one fit)")
        out.append({"pair": pair, "translator": translator, "here": text, "here_mean": values.mean(),
                    "here_low": values.min(), "here_high": values.max(), "seeds": seeds,
                    "here_corpus": str(dataset).split("-")[0],
                    "here_paired_texts": int(pd.to_numeric(group["paired_texts"]).max()),
                    "here_pool": int(pools.max()) if pools.notna().any() else None})
    return out


def failed_fits(failures: pd.DataFrame | None, here: dict) -> list[dict]:
    """The entry's unsupervised fits that found no alignment (analysis/data_curve.unpaired_failures)."""
    if failures is None or failures.empty:
        return []
    failed = failures[failures["translator"].isin(here["arch"])]
    if here["pairs"] != "all":
        failed = failed[failed["pair"].isin(here["pairs"])]
    return [{"pair": pair, "translator": translator, "seeds": len(group),
             "here": f"no alignment found: {len(group)} fit(s) failed, none succeeded (no score)",
             "here_corpus": str(group["dataset"].iloc[0]).split("-")[0], "here_paired_texts": 0}
            for (pair, translator), group in failed.groupby(["pair", "translator"], sort=True)]
