"""The analysis tables, as CSV (every digit) and Markdown (for reading).

Per-run tables (mse, knn, cka, matching, retrieval) keep one row per translator, seed and pair; the
summaries (translators, aggregate, comparisons) group the seeds of one translator and carry the
intervals; seeds_left_out lists the runs a comparison left out because the other side lacks their seed.
Which metric columns each holds comes from the metric registry (src/embtrans/metrics/registry.py), so every k
the analysis ran with gets its columns.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from embtrans.analysis.data_curve import curve_table, gap_table, split_sampled, worth_table
from embtrans.analysis.identifiers import CLOSED_FORM
from embtrans.analysis.summaries import (
    Items,
    Settings,
    aggregate_table,
    comparison_table,
    seeds_left_out_table,
    translator_table,
)
from embtrans.files import write_if_changed
from embtrans.metrics.registry import aggregated, present

ID = ["dataset", "pair", "translator", "seed", "kind"]


def columns_like(frame: pd.DataFrame, *patterns: str) -> list[str]:
    return [c for c in frame.columns if any(re.fullmatch(p, c) for p in patterns)]


def with_mse_ratio(results: pd.DataFrame) -> pd.DataFrame:
    """A copy with mse_vs_lstsq: test MSE over the pair's least-squares MSE (NaN without that baseline)."""
    results = results.copy()
    is_lstsq = (results["kind"] == CLOSED_FORM) & (results["arch"] == "lstsq")
    lstsq = results[is_lstsq].set_index(["dataset", "pair"])["test_mse"]
    results["mse_vs_lstsq"] = results["test_mse"] / [lstsq.get((d, p), np.nan)
                                                     for d, p in zip(results["dataset"], results["pair"])]
    return results


def build_tables(results: pd.DataFrame, items: Items | None = None,
                 settings: Settings | None = None) -> dict[str, pd.DataFrame]:
    settings = settings or Settings()
    results = with_mse_ratio(results)
    ids = [c for c in ID if c in results]
    tables = {
        "mse": results[ids + columns_like(results, "width", "hidden", "parameters", "test_mse", "mse_vs_lstsq",
                                          "test_cosine", r"(mean_vector|identity)_(mse|cosine)", "run_dir")],
        "mse_by_pair": by_pair(results, "test_mse"),
        "knn": results[ids + columns_like(
            results, r"(untranslated_)?(jaccard|mutual_knn|rbo|rbo_normalised|knn_edit_similarity)@\d+", r"chance_jaccard@\d+")],
        "cka": results[ids + columns_like(results, r"cka_.*", r"untranslated_cka_(linear|rbf)(_debiased)?")],
        "matching": results[ids + columns_like(results, r"(vec2vec_)?top\d+_accuracy", r"(vec2vec_)?(mean_rank|median_rank|mrr)",
                                               "mean_cosine", "matching_pool")],
        "retrieval": results[ids + columns_like(results, r"(recall|ndcg)@\d+.*", r"top\d+_jaccard", "floor_kind",
                                                "retrieval_queries", "retrieval_pool")],
        "mixed_index": results[ids + columns_like(results, r"mixed\d+_(ndcg|recall|translated_share)@\d+")],
        "stitching": results[ids + columns_like(results, r"stitch_(accuracy|accuracy_native|accuracy_source|retention)")],
        "hubness": results[ids + columns_like(results, r"(native_|untranslated_)?(hubness_skew|hub_share|antihub_share)@\d+")],
    }
    tables["ndcg_matrix"] = ndcg_matrix(results)
    tables["data_curve"] = curve_table(results)
    tables["pairs_worth"] = worth_table(results)
    tables["data_gaps"] = gap_table(results)
    # A translator fitted on samples of the training texts is a data curve's point, not a translator of the pair:
    # the per-translator tables and comparisons are of the ones fitted on every training text.
    results, _ = split_sampled(results)
    translators = translator_table(results, items or Items(), settings)
    tables["translators"] = translators
    tables["aggregate"] = aggregate_table(translators, results, items or Items(), settings)
    tables["comparisons"] = comparison_table(translators, items or Items(), settings)
    tables["seeds_left_out"] = seeds_left_out_table(translators, items or Items())
    return tables


def ndcg_matrix(results: pd.DataFrame) -> pd.DataFrame:
    """Absolute nDCG@k per (dataset, source model, target model) and what searched: native B (B's own search),
    raw A's own search, the random-ranking floor, and each translator (mean over seeds). The report draws
    it as source x target heatmaps."""
    found = sorted(columns_like(results, r"ndcg@\d+"), key=lambda c: int(c.split("@")[1]))
    if not found or results.empty:
        return pd.DataFrame(columns=["dataset", "model_a", "model_b", "searched", "ndcg"])
    column, rows = found[0], []
    for (dataset, model_a, model_b), runs in results.groupby(["dataset", "model_a", "model_b"], sort=False):
        first = runs.iloc[0]
        for searched, reference in (("native B", f"{column}_native"), ("A's own search", f"{column}_source"),
                                    ("floor (random ranking)", f"{column}_floor")):
            if reference in runs:
                rows.append({"dataset": dataset, "model_a": model_a, "model_b": model_b, "searched": searched,
                             "k": int(column.split("@")[1]), "ndcg": first[reference]})
        for translator, seeds in runs.groupby("translator", sort=False):
            rows.append({"dataset": dataset, "model_a": model_a, "model_b": model_b, "searched": translator,
                         "k": int(column.split("@")[1]), "ndcg": pd.to_numeric(seeds[column], errors="coerce").mean()})
    return pd.DataFrame(rows)


def by_pair(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Translators x pairs (mean over seeds), translators in the order the results list them (by arch, then width)."""
    order = list(dict.fromkeys(results["translator"]))
    table = results.pivot_table(index=["dataset", "translator"], columns="pair", values=metric).reset_index()
    table["translator"] = pd.Categorical(table["translator"], categories=order, ordered=True)
    return table.sort_values(["dataset", "translator"]).astype({"translator": str}).reset_index(drop=True)


def with_interval(mean: float, std: float, low: float, high: float) -> str:
    text = f"{mean:.4g}"
    if not math.isnan(std):
        text += f" ± {std:.2g}"
    if not (math.isnan(low) or math.isnan(high)):
        text += f" [{low:.4g}, {high:.4g}]"
    return text


def readable(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """For Markdown: summaries as mean ± std [95 % interval], and no long paths."""
    if name == "aggregate":
        shown = table[["translator", "pairs", "seeds"]].copy()
        for _, metric in aggregated([c.removesuffix("_mean") for c in table.columns if c.endswith("_mean")]):
            shown[metric] = [with_interval(*values) for values in zip(
                table[f"{metric}_mean"], table[f"{metric}_std"], table[f"{metric}_low"], table[f"{metric}_high"])]
        return shown
    if name == "translators":
        shown = table[["dataset", "pair", "translator", "seeds"]].copy()
        for _, column in present(table.columns):
            low = table.get(f"{column}_boot_low", table[f"{column}_seed_low"])
            high = table.get(f"{column}_boot_high", table[f"{column}_seed_high"])
            shown[column] = [with_interval(*values) for values in zip(table[column], table[f"{column}_std"], low, high)]
        return shown
    if name == "comparisons":
        shown = table[["family", "first", "second", "metric", "scope", "pairs", "seeds", "claim"]].copy()
        shown.insert(5, "effect [on these pairs]", [with_interval(e, math.nan, lo, hi) for e, lo, hi in
                                                    zip(table["effect"], table["low"], table["high"])])
        shown.insert(6, "across pairs", [f"[{lo:.4g}, {hi:.4g}]" if not (math.isnan(lo) or math.isnan(hi)) else ""
                                         for lo, hi in zip(table["across_low"], table["across_high"])])
        return shown
    return table.drop(columns=[c for c in ("run_dir",) if c in table])


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    written = []
    for name, table in tables.items():
        csv, markdown = folder / f"{name}.csv", folder / f"{name}.md"
        write_if_changed(csv, table.to_csv(index=False))
        write_if_changed(markdown, readable(table, name).to_markdown(index=False, floatfmt=".4g") + "\n")
        written += [csv, markdown]
    return written
