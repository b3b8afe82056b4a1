"""The analysis tables, as CSV (every digit) and Markdown (for reading), from one row per translator."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from src.analysis.files import write_if_changed

ID = ["dataset", "pair", "translator", "kind"]
# What the aggregate table summarises across pairs, as patterns: every k the analysis was run with
# (metrics.knn_ks, retrieval.k) gets its column. Each is comparable between pairs (raw MSE is not: it
# depends on the target model's scale, so it enters as a ratio to the pair's least-squares map).
AGGREGATED = ["mse_vs_lstsq", "test_cosine", r"jaccard@\d+", r"rbo@\d+", "cka_linear", "cka_rbf", "top1_accuracy",
              r"recall@\d+_retention", r"ndcg@\d+_retention", r"ndcg@\d+_gap_closed", r"top\d+_jaccard"]


def columns_like(frame: pd.DataFrame, *patterns: str) -> list[str]:
    return [c for c in frame.columns if any(re.fullmatch(p, c) for p in patterns)]


def in_pattern_order(columns, patterns: list[str]) -> list[str]:
    """The columns matching each pattern, pattern by pattern, smaller k first within one."""
    def k_of(column: str) -> int:
        found = re.search(r"\d+", column)
        return int(found.group()) if found else 0

    return [c for p in patterns for c in sorted((c for c in columns if re.fullmatch(p, c)), key=k_of)]


def with_mse_ratio(results: pd.DataFrame) -> pd.DataFrame:
    """A copy with mse_vs_lstsq: test MSE over the pair's least-squares MSE (NaN without that baseline)."""
    results = results.copy()
    lstsq = results[results["translator"] == "lstsq (closed form)"].set_index(["dataset", "pair"])["test_mse"]
    results["mse_vs_lstsq"] = results["test_mse"] / [lstsq.get((d, p), np.nan) for d, p in zip(results["dataset"], results["pair"])]
    return results


def build_tables(results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    results = with_mse_ratio(results)
    tables = {
        "mse": results[ID + columns_like(results, "width", "hidden", "parameters", "test_mse", "mse_vs_lstsq",
                                         "test_cosine", r"(mean_vector|identity)_(mse|cosine)", "run_dir")],
        "mse_by_pair": by_pair(results, "test_mse"),
        "knn": results[ID + columns_like(results, r"(untranslated_)?(jaccard|mutual_knn|rbo|rbo_normalised|knn_edit_distance)@\d+",
                                         r"chance_jaccard@\d+")],
        "cka": results[ID + columns_like(results, r"cka_.*", r"untranslated_cka_(linear|rbf)(_debiased)?")],
        "matching": results[ID + columns_like(results, r"top\d+_accuracy", "mean_rank", "median_rank", "mrr",
                                              "matching_pool")],
        "retrieval": results[ID + columns_like(results, r"(recall|ndcg)@\d+.*", r"top\d+_jaccard", "floor_kind",
                                               "retrieval_queries", "retrieval_pool")],
    }
    tables["aggregate"] = aggregate(results)
    return tables


def by_pair(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Translators x pairs, translators in the order the results list them (by arch, then width)."""
    order = list(dict.fromkeys(results["translator"]))
    table = results.pivot_table(index=["dataset", "translator"], columns="pair", values=metric).reset_index()
    table["translator"] = pd.Categorical(table["translator"], categories=order, ordered=True)
    return table.sort_values(["dataset", "translator"]).astype({"translator": str}).reset_index(drop=True)


def aggregate(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, spread and range of each comparable metric over every pair, per translator."""
    metrics = in_pattern_order(results.columns, AGGREGATED)
    grouped = results.groupby("translator", sort=False)[metrics]
    stats = grouped.agg(["mean", "std", "min", "max"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    stats.insert(0, "pairs", grouped.size())
    return stats.reset_index()


def readable(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """For Markdown: the aggregate table as mean ± std, and no long paths."""
    if name == "aggregate":
        shown = table[["translator", "pairs"]].copy()
        for metric in in_pattern_order([c.removesuffix("_mean") for c in table.columns if c.endswith("_mean")],
                                       AGGREGATED):
            mean, std = table[f"{metric}_mean"], table[f"{metric}_std"].fillna(0)
            shown[metric] = [f"{m:.4g} ± {s:.2g}" for m, s in zip(mean, std)]
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
