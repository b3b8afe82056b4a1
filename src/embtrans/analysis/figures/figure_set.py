"""The analysis' figures, in their documented places under figures/, with one UMAP fit per native space."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from embtrans.analysis.figures.plots import (
    plot_data_curve,
    plot_kernel_grid,
    plot_kernel_matrices,
    plot_mse_vs_width,
    plot_ndcg_heatmaps,
    plot_umap,
)
from embtrans.analysis.figures.projection import SharedProjection
from embtrans.analysis.identifiers import CLOSED_FORM, file_name
from embtrans.metrics.registry import title_of as metric_title

# The data-curve metrics drawn (tables/data_curve.csv has them all): vec2vec's top-1, and search quality.
CURVE_FIGURES = ("top1_accuracy", "ndcg@10")


class FigureSet:
    def __init__(self, folder: Path, umap_cache: Path, settings: DictConfig):
        self.folder = Path(folder)
        self.umap_cache = Path(umap_cache)
        self.settings = settings
        self.written: list[Path] = []

    def umap(self, pair_dir: str, candidate, pair, title: str) -> Path:
        """Native B and translated A -> B test vectors in B's projection, fitted on native B once and
        reused for every translator (and every later analysis)."""
        umap = self.settings.umap
        projection = SharedProjection.fit_or_load(pair.native_b, self.umap_cache, seed=umap.seed,
                                                  n_neighbors=umap.n_neighbors, min_dist=umap.min_dist,
                                                  metric=umap.metric)
        path = self.folder / "umap" / pair_dir / f"{candidate.id.file_name}.png"
        self.written.append(plot_umap(projection.native_xy, projection.transform(candidate.vectors),
                                      pair.test_texts["label"].astype(str).tolist(), f"UMAP: {title}", path))
        return path

    def kernels(self, pair_dir: str, candidate, pair, title: str) -> Path:
        path = self.folder / "kernels" / pair_dir / f"{candidate.id.file_name}.png"
        self.written.append(plot_kernel_matrices(pair.native_b, candidate.vectors,
                                                 pair.test_texts["label"].astype(str).tolist(),
                                                 f"Cosine similarity: {title}", path,
                                                 sample_size=self.settings.kernel_sample, seed=self.settings.seed))
        return path

    def kernel_grid(self, pair_dir: str, pair, spaces: list[tuple[str, object]], title: str) -> Path:
        """One pair's kernels in native A, native B and the pictured translators, on one colour scale."""
        path = self.folder / "kernels" / pair_dir / "kernel_grid.png"
        self.written.append(plot_kernel_grid(spaces, pair.test_texts["label"].astype(str).tolist(), title, path,
                                             sample_size=self.settings.kernel_sample, seed=self.settings.seed))
        return path

    def ndcg_matrix(self, matrix: pd.DataFrame, searched: list[str]) -> list[Path]:
        """Absolute nDCG@k as source x target heatmaps, one figure per dataset."""
        paths = []
        for dataset, rows in matrix.groupby("dataset", sort=True):
            shown = [name for name in searched if (rows["searched"] == name).any()]
            if shown:
                paths.append(plot_ndcg_heatmaps(rows, shown, self.folder / f"ndcg_matrix_{dataset}.png"))
        self.written += paths
        return paths

    def retention_vs_width(self, translators: pd.DataFrame) -> list[Path]:
        """nDCG@k retention against hidden units per pair, closed forms and width-free translators as lines."""
        metric = next((c for c in translators.columns if re.fullmatch(r"ndcg@\d+_retention", c)), None)
        if metric is None:
            return []
        paths = []
        for dataset, rows in translators.groupby("dataset", sort=True):
            if rows[metric].notna().any():
                table = width_table(rows, metric)
                paths.append(plot_mse_vs_width(table, self.folder / f"retention_vs_width_{dataset}.png", metric,
                                               metric_title(metric)))
        self.written += paths
        return paths

    def data_curve(self, curve: pd.DataFrame, failures: pd.DataFrame) -> list[Path]:
        """Per dataset, top-1 matching and nDCG@k against the number of paired texts (analysis/data_curve.py);
        unpaired fits that found no alignment are named in their pair's panel."""
        paths = []
        for (dataset, metric), rows in curve.groupby(["dataset", "metric"], sort=True):
            if metric in CURVE_FIGURES and rows["mean"].notna().any():
                failed = failures[failures["dataset"] == dataset]
                notes = {pair: "; ".join(f"{name}: no alignment found at {len(seeds)} seed(s)"
                                         for name, seeds in group.groupby("translator"))
                         for pair, group in failed.groupby("pair")}
                paths.append(plot_data_curve(rows, self.folder / f"data_curve_{dataset}_{file_name(metric)}.png",
                                             metric_title(metric), notes))
        self.written += paths
        return paths

    def mse_vs_width(self, translators: pd.DataFrame, results: pd.DataFrame) -> list[Path]:
        """One error-vs-dimension figure per dataset: learned maps by hidden size with their 95 % intervals,
        references as lines."""
        paths = [plot_mse_vs_width(mse_width_table(rows, results[results["dataset"] == dataset]),
                                   self.folder / f"mse_vs_width_{dataset}.png")
                 for dataset, rows in translators.groupby("dataset", sort=True)]
        self.written += paths
        return paths


def interval_table(translators: pd.DataFrame, metric: str) -> pd.DataFrame:
    """pair, translator, value, low, high: the bootstrap interval over test items where there is one,
    else the interval over seeds."""
    low = translators.get(f"{metric}_boot_low", translators.get(f"{metric}_seed_low"))
    high = translators.get(f"{metric}_boot_high", translators.get(f"{metric}_seed_high"))
    return pd.DataFrame({"pair": translators["pair"], "translator": translators["translator"],
                         "value": translators[metric], "low": low, "high": high})


def width_table(translators: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One dataset's translators as plot_mse_vs_width wants them, for any metric: mean over seeds with its
    interval; closed-form maps named after themselves."""
    bounds = interval_table(translators, metric)
    table = translators[["pair", "arch", "width", "hidden", metric]].assign(low=bounds["low"], high=bounds["high"])
    table.loc[translators["kind"] == CLOSED_FORM, "arch"] = translators["translator"]
    return table


def mse_width_table(translators: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """One dataset's translators as plot_mse_vs_width wants them: mean test MSE over seeds with its
    interval; closed-form maps and the mean vector as reference lines named after themselves."""
    table = width_table(translators, "test_mse")
    floors = results.drop_duplicates("pair")[["pair", "mean_vector_mse"]].rename(columns={"mean_vector_mse": "test_mse"})
    floors = floors.assign(arch="mean_vector", width=None, hidden=None)
    return pd.concat([table, floors], ignore_index=True)
