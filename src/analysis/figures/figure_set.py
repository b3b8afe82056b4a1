"""The analysis' figures, in their documented places under figures/, with one UMAP fit per native space."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from src.analysis.files import file_name
from src.analysis.figures.plots import plot_kernel_matrices, plot_mse_vs_width, plot_umap
from src.analysis.figures.projection import SharedProjection


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
        path = self.folder / "umap" / pair_dir / f"{file_name(candidate.label)}.png"
        self.written.append(plot_umap(projection.native_xy, projection.transform(candidate.vectors),
                                      pair.test_texts["label"].astype(str).tolist(), f"UMAP: {title}", path))
        return path

    def kernels(self, pair_dir: str, candidate, pair, title: str) -> Path:
        path = self.folder / "kernels" / pair_dir / f"{file_name(candidate.label)}.png"
        self.written.append(plot_kernel_matrices(pair.native_b, candidate.vectors,
                                                 pair.test_texts["label"].astype(str).tolist(),
                                                 f"Cosine similarity: {title}", path,
                                                 sample_size=self.settings.kernel_sample, seed=self.settings.seed))
        return path

    def mse_vs_width(self, results: pd.DataFrame) -> list[Path]:
        """One error-vs-dimension figure per dataset: learned maps by hidden size, references as lines."""
        paths = [plot_mse_vs_width(mse_width_table(rows), self.folder / f"mse_vs_width_{dataset}.png")
                 for dataset, rows in results.groupby("dataset", sort=True)]
        self.written += paths
        return paths


def mse_width_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One dataset's results as plot_mse_vs_width wants them: closed-form maps and the mean vector as
    reference lines named after themselves."""
    table = rows[["pair", "arch", "width", "hidden", "test_mse"]].copy()
    table.loc[rows["kind"] == "closed form", "arch"] = rows["translator"]
    floors = rows.drop_duplicates("pair")[["pair", "mean_vector_mse"]].rename(columns={"mean_vector_mse": "test_mse"})
    floors = floors.assign(arch="mean_vector", width=None, hidden=None)
    return pd.concat([table, floors], ignore_index=True)
