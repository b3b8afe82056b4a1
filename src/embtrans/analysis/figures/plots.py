"""The report's figures, drawn with matplotlib's object API (no pyplot, so no window ever opens).

Every figure goes through ``save_figure``, which writes a PNG only when its bytes change: re-running
an analysis leaves unchanged figures untouched, mtime included, so a build tool or a diff sees
only the figures whose content moved.
"""

from __future__ import annotations

import io
import itertools
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import NullLocator

from embtrans.analysis.figures.projection import check_vectors
from embtrans.files import write_atomically
from embtrans.metrics.neighbours import unit_rows

DPI = 150
MAX_COLOURED_LABELS = 10  # tab10 has ten colours; more categories become unreadable anyway
OTHER = "other"
OTHER_COLOUR = "#9e9e9e"
# tab10 without its grey, which is kept for "other".
LABEL_COLOURS = [c for i, c in enumerate(colormaps["tab10"].colors) if i != 7] + [OTHER_COLOUR]
# Closed-form and trivial translators are drawn as horizontal lines, each in its own style.
REFERENCE_STYLES = {
    "linear": {"color": "#1b1b1b", "linestyle": "--"},
    "lstsq": {"color": "#8c564b", "linestyle": "-."},
    "procrustes": {"color": "#17becf", "linestyle": ":"},
    "mean_vector": {"color": OTHER_COLOUR, "linestyle": "-", "linewidth": 2.0},
}
EXTRA_REFERENCE_DASHES = [(0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 3))]


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG only if the file is missing or its bytes differ; close it; return the path."""
    path = Path(path)
    # Titles and legends show labels and model names from configs: a "$" in one starts no mathtext, which
    # could fail to parse and take the analysis down with it (these figures use no mathtext of their own).
    for text in fig.findobj(Text):
        text.set_parse_math(False)
    buffer = io.BytesIO()
    # No "Software" entry: it holds matplotlib's version, and would change bytes between installs.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    if "matplotlib.pyplot" in sys.modules:  # only pyplot keeps figures alive; object-API ones just go
        sys.modules["matplotlib.pyplot"].close(fig)
    png = buffer.getvalue()
    if path.exists() and path.read_bytes() == png:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda handle: handle.write(png))
    return path


def points_2d(xy, name: str) -> np.ndarray:
    array = np.asarray(xy, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {array.shape}")
    if len(array) == 0:
        raise ValueError(f"{name} is empty: nothing to plot")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite coordinates")
    return array


def vector_rows(vectors, name: str) -> np.ndarray:
    array = check_vectors(vectors, name)  # 2-D, numeric, finite
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (rows x dimensions), got shape {array.shape}")
    return array.astype(np.float64)


def label_array(labels, n: int) -> np.ndarray:
    array = np.asarray([str(label) for label in labels], dtype=object)
    if len(array) != n:
        raise ValueError(f"got {len(array)} labels for {n} rows: labels must be aligned with the rows")
    return array


def legend_groups(labels: np.ndarray, max_groups: int = MAX_COLOURED_LABELS) -> tuple[list[str], np.ndarray]:
    """The groups to colour (most frequent first) and each row's group.

    Beyond ``max_groups`` distinct labels, the ``max_groups - 1`` most frequent keep their name and
    the rest become "other". Ties in frequency go alphabetically, so the choice is reproducible.
    """
    counts = Counter(labels.tolist())
    by_frequency = sorted(counts, key=lambda label: (-counts[label], label))
    if len(by_frequency) <= max_groups:
        return by_frequency, labels
    kept = by_frequency[: max_groups - 1]
    bucket = OTHER if OTHER not in kept else f"{OTHER} (rest)"  # a real label may be called "other"
    grouped = np.where(np.isin(labels, kept), labels, bucket)
    return [*kept, bucket], grouped


def plot_umap(native_xy, translated_xy, labels, title: str, path: Path) -> Path:
    """Native B and translated A->B points in one shared projection, coloured by label."""
    native_xy = points_2d(native_xy, "native_xy")
    translated_xy = points_2d(translated_xy, "translated_xy")
    if len(native_xy) != len(translated_xy):
        raise ValueError(
            f"native_xy has {len(native_xy)} rows and translated_xy {len(translated_xy)}: "
            "row i of both must be the same text"
        )
    groups, grouped = legend_groups(label_array(labels, len(native_xy)))
    colour_of = dict(zip(groups, LABEL_COLOURS))
    colours = [colour_of[g] for g in grouped]
    # A fixed shuffle, so no label is always drawn on top of the others.
    order = np.random.default_rng(0).permutation(len(native_xy))

    fig = Figure(figsize=(7.5, 5.5), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(*native_xy[order].T, c=[colours[i] for i in order], s=6, marker="o", alpha=0.5, linewidths=0)
    # Crosses on top: thin strokes leave the native dots underneath visible.
    ax.scatter(*translated_xy[order].T, c=[colours[i] for i in order], s=10, marker="x", alpha=0.6,
               linewidths=0.6)
    ax.set_xticks([])
    ax.set_yticks([])  # UMAP's axes have no units or meaning
    ax.set_title(title)

    label_handles = [Line2D([], [], linestyle="", marker="o", markersize=5, color=colour_of[g], label=g)
                     for g in groups]
    label_legend = ax.legend(handles=label_handles, title="label", loc="upper left",
                             bbox_to_anchor=(1.01, 1.0), fontsize=8, title_fontsize=8, frameon=False)
    ax.add_artist(label_legend)  # a second ax.legend() call would otherwise replace it
    kind_handles = [
        Line2D([], [], linestyle="", marker="o", markersize=5, color="#444444", label="native B"),
        Line2D([], [], linestyle="", marker="x", markersize=5, color="#444444", label="translated A→B"),
    ]
    ax.legend(handles=kind_handles, loc="lower left", bbox_to_anchor=(1.01, 0.0), fontsize=8, frameon=False)
    return save_figure(fig, path)


def kernel_sample_rows(labels: np.ndarray, sample_size: int, seed: int) -> np.ndarray:
    """A seeded sample of row indices, ordered by label, then by original index."""
    if sample_size < 1:
        raise ValueError(f"sample_size must be at least 1, got {sample_size}")
    n = len(labels)
    rows = np.arange(n) if n <= sample_size else np.random.default_rng(seed).choice(n, sample_size, replace=False)
    return rows[np.lexsort((rows, labels[rows]))]


def label_blocks(sampled_labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Of labels sorted into blocks: each block's middle row and its label, to name it on an axis."""
    starts = np.concatenate([[0], np.flatnonzero(sampled_labels[1:] != sampled_labels[:-1]) + 1])
    ends = np.concatenate([starts[1:], [len(sampled_labels)]])
    return (starts + ends - 1) / 2, [str(sampled_labels[start]) for start in starts]


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    unit = unit_rows(vectors)  # a zero vector is similar to nothing
    return (unit @ unit.T).numpy()


def plot_kernel_matrices(native, translated, labels, title: str, path: Path, sample_size: int = 64,
                         seed: int = 0) -> Path:
    """Cosine-similarity matrices of a sample of rows: native, translated, and their difference."""
    native = vector_rows(native, "native")
    translated = vector_rows(translated, "translated")
    if len(native) != len(translated):
        raise ValueError(f"native has {len(native)} rows and translated {len(translated)}: they must match")
    labels = label_array(labels, len(native))
    rows = kernel_sample_rows(labels, sample_size, seed)
    native_kernel, translated_kernel = cosine_matrix(native[rows]), cosine_matrix(translated[rows])
    difference = translated_kernel - native_kernel
    sampled_labels = labels[rows]
    boundaries = np.flatnonzero(sampled_labels[1:] != sampled_labels[:-1]) + 0.5

    fig = Figure(figsize=(14, 4.8), layout="constrained")
    axes = fig.subplots(1, 3)
    low = min(native_kernel.min(), translated_kernel.min())
    high = max(native_kernel.max(), translated_kernel.max())
    shared = {"cmap": "viridis", "vmin": low, "vmax": high, "interpolation": "nearest"}
    image = axes[0].imshow(native_kernel, **shared)
    axes[1].imshow(translated_kernel, **shared)
    fig.colorbar(image, ax=axes[:2], shrink=0.85, label="cosine similarity")
    limit = max(float(np.abs(difference).max()), 1e-6)  # symmetric, so 0 sits at the colormap's centre
    diff_image = axes[2].imshow(difference, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    fig.colorbar(diff_image, ax=axes[2], shrink=0.85, label="difference in cosine")

    panel_titles = ["native B: cosine similarity", "translated A→B: cosine similarity",
                    "translated − native"]
    for ax, panel_title, line_colour in zip(axes, panel_titles, ["white", "white", "black"]):
        ax.set_title(panel_title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        for boundary in boundaries:
            ax.axhline(boundary, color=line_colour, linewidth=0.5)
            ax.axvline(boundary, color=line_colour, linewidth=0.5)
    middles, names = label_blocks(sampled_labels)
    if len(names) <= 16:  # name the label blocks while the names still fit
        axes[0].set_yticks(middles, [name[:18] for name in names], fontsize=7)
    fig.suptitle(f"{title} ({len(rows)} of {len(native)} rows, seed {seed}, ordered by label)")
    return save_figure(fig, path)


def mse_table(table: pd.DataFrame, value: str = "test_mse") -> pd.DataFrame:
    """The rows worth plotting, with numeric columns (``value`` as test_mse); repeated rows (seeds) are averaged."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(table).__name__}")
    if value != "test_mse" and value in table:
        table = table.drop(columns=[c for c in ("test_mse",) if c in table]).rename(columns={value: "test_mse"})
    missing = {"pair", "arch", "hidden", "test_mse"} - set(table.columns)
    if missing:
        raise ValueError(f"the table lacks column(s) {sorted(missing)}; it has {list(table.columns)}")
    frame = pd.DataFrame({
        "pair": table["pair"].astype(str),
        "arch": table["arch"].astype(str),
        "hidden": pd.to_numeric(table["hidden"], errors="coerce").astype("float64"),
        "width": (pd.to_numeric(table["width"], errors="coerce").astype("float64")
                  if "width" in table.columns else np.nan),
        "test_mse": pd.to_numeric(table["test_mse"], errors="coerce").astype("float64"),
        # A 95 % interval per point, when the table has one (a multi-seed study's); NaN draws none.
        "low": pd.to_numeric(table.get("low", np.nan), errors="coerce"),
        "high": pd.to_numeric(table.get("high", np.nan), errors="coerce"),
    })
    frame = frame[np.isfinite(frame["test_mse"])]
    if frame.empty:
        raise ValueError("the table has no rows with a finite test_mse: nothing to plot")
    # hidden is NaN for reference rows: dropna=False keeps them as their own group.
    return (frame.groupby(["pair", "arch", "hidden"], dropna=False, sort=True)
            .agg(test_mse=("test_mse", "mean"), width=("width", "first"), low=("low", "first"),
                 high=("high", "first")).reset_index())


def plot_mse_vs_width(table: pd.DataFrame, path: Path, value: str = "test_mse", label: str = "test MSE") -> Path:
    """A score (test MSE by default) against hidden units, one panel per pair; closed-form and width-free
    translators as horizontal lines. Rows with low / high get error bars (swept archs) or a shaded band
    (references). The y-range follows the swept archs and the closed forms: a reference far outside it (the
    mean vector, a translator trained for something else) would flatten the curves, so it is named at the
    panel's edge with its value instead."""
    frame = mse_table(table, value)
    sized = frame[frame["hidden"].notna()]
    references = frame[frame["hidden"].isna()]
    swept_archs = sorted(sized["arch"].unique())
    known = list(REFERENCE_STYLES)
    reference_archs = sorted(references["arch"].unique(),
                             key=lambda a: (known.index(a) if a in known else len(known), a))
    colour_of = {arch: f"C{i % 10}" for i, arch in enumerate(swept_archs)}
    extra_dashes = itertools.cycle(EXTRA_REFERENCE_DASHES)  # for reference archs without a style of their own
    style_of = {arch: REFERENCE_STYLES.get(arch) or {"color": "#5e3c99", "linestyle": next(extra_dashes)}
                for arch in reference_archs}

    pairs = sorted(frame["pair"].unique())
    columns = min(3, len(pairs))
    rows = math.ceil(len(pairs) / columns)
    fig = Figure(figsize=(4.2 * columns + 1.8, 3.4 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    handles = {}
    for ax, pair in zip(axes, pairs):
        ax.set_xscale("log")
        of_pair = sized[sized["pair"] == pair]
        for arch, points in of_pair.groupby("arch", sort=True):
            points = points.sort_values("hidden")
            (line,) = ax.plot(points["hidden"], points["test_mse"], marker="o", markersize=4,
                              color=colour_of[arch], label=arch)
            bars = points[points["low"].notna() & points["high"].notna()]
            if len(bars):
                ax.errorbar(bars["hidden"], bars["test_mse"], capsize=3, linestyle="none", color=colour_of[arch],
                            # clipped: a mean rounded a hair outside its own interval must not break the bar
                            yerr=[(bars["test_mse"] - bars["low"]).clip(lower=0),
                                  (bars["high"] - bars["test_mse"]).clip(lower=0)])
            handles.setdefault(arch, line)
        for arch, row in references[references["pair"] == pair].set_index("arch").iterrows():
            line = ax.axhline(row["test_mse"], label=arch, **{"linewidth": 1.2, **style_of[arch]})
            if pd.notna(row["low"]) and pd.notna(row["high"]):
                ax.axhspan(row["low"], row["high"], color=style_of[arch]["color"], alpha=0.12, linewidth=0)
            handles.setdefault(arch, line)
        ticks = of_pair.drop_duplicates("hidden").sort_values("hidden")
        ax.xaxis.set_minor_locator(NullLocator())
        if len(ticks):
            ax.set_xticks(ticks["hidden"], [hidden_tick(h, w) for h, w in zip(ticks["hidden"], ticks["width"])],
                          fontsize=7)
            ax.set_xlabel("hidden units (× width)")
        else:
            ax.set_xticks([])
            ax.set_xlabel("no swept architectures for this pair")
        low, high = panel_limits(frame[frame["pair"] == pair])
        ax.set_ylim(low, high)
        off_scale = [(arch, row["test_mse"]) for arch, row in references[references["pair"] == pair].set_index("arch").iterrows()
                     if not low <= row["test_mse"] <= high]
        for place, (arch, score) in enumerate(off_scale):
            above = score > high
            ax.annotate(f"{arch}: {score:.3g} {'↑' if above else '↓'}", xy=(0.02, (0.97 if above else 0.03)),
                        xycoords="axes fraction", va="top" if above else "bottom", fontsize=8,
                        color=style_of[arch]["color"], xytext=(0, (-11 if above else 11) * place),
                        textcoords="offset points")
        ax.set_ylabel(label)
        ax.set_title(pair, fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
    for ax in axes[len(pairs):]:
        ax.set_visible(False)
    order = [a for a in swept_archs + reference_archs if a in handles]
    fig.legend([handles[a] for a in order], order, loc="outside right upper", fontsize=8, frameon=False)
    return save_figure(fig, path)


def panel_limits(panel: pd.DataFrame) -> tuple[float, float]:
    """A panel's y-range: the swept archs' points and intervals and the closed forms' lines, widened to any
    other reference within that range's span of it; the rest are off scale."""
    swept = panel[panel["hidden"].notna()]
    closed = panel[panel["hidden"].isna() & panel["arch"].astype(str).str.contains("closed form|lstsq|procrustes", regex=True)]
    core = pd.concat([swept, closed])[["test_mse", "low", "high"]].to_numpy().ravel()
    core = core[np.isfinite(core)]
    everything = panel[["test_mse", "low", "high"]].to_numpy().ravel()
    everything = everything[np.isfinite(everything)]
    if core.size == 0:
        return padded_limits(everything)
    low, high = float(core.min()), float(core.max())
    span = (high - low) or abs(high) or 1.0
    near = everything[(everything >= low - span) & (everything <= high + span)]
    return padded_limits(np.concatenate([core, near]))


def hidden_tick(hidden: float, width: float) -> str:
    if np.isnan(width):
        return f"{int(hidden):,}"
    return f"{int(hidden):,}\n×{width:g}"


def padded_limits(values: np.ndarray, margin: float = 0.08) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    pad = (high - low) * margin or abs(high) * margin or 1e-12
    return low - pad, high + pad


def plot_kernel_grid(spaces: list[tuple[str, np.ndarray]], labels, title: str, path: Path, sample_size: int = 64,
                     seed: int = 0) -> Path:
    """Cosine-similarity matrices of one sample of texts in several spaces (native A, native B, translators),
    side by side on one colour scale, so a difference in colour is a difference in similarity."""
    if not spaces:
        raise ValueError("plot_kernel_grid needs at least one space")
    vectors = [vector_rows(v, name) for name, v in spaces]
    if len({len(v) for v in vectors}) > 1:
        raise ValueError(f"the spaces have {[len(v) for v in vectors]} rows: they must match")
    labels = label_array(labels, len(vectors[0]))
    rows = kernel_sample_rows(labels, sample_size, seed)
    kernels = [cosine_matrix(v[rows]) for v in vectors]
    sampled_labels = labels[rows]
    boundaries = np.flatnonzero(sampled_labels[1:] != sampled_labels[:-1]) + 0.5
    low, high = min(float(k.min()) for k in kernels), max(float(k.max()) for k in kernels)
    fig = Figure(figsize=(3.6 * len(spaces) + 1.4, 4.2), layout="constrained")
    axes = fig.subplots(1, len(spaces), squeeze=False).ravel()
    for ax, (name, _), kernel in zip(axes, spaces, kernels):
        image = ax.imshow(kernel, cmap="viridis", vmin=low, vmax=high, interpolation="nearest")
        ax.set_title(name, fontsize=12)
        ax.set_xticks([])
        ax.set_yticks([])
        for boundary in boundaries:
            ax.axhline(boundary, color="white", linewidth=0.6)
            ax.axvline(boundary, color="white", linewidth=0.6)
    middles, names = label_blocks(sampled_labels)
    if len(names) <= 12:  # name the label blocks while the names still fit
        axes[0].set_yticks(middles, [name[:14] for name in names], fontsize=10)
    fig.colorbar(image, ax=list(axes), shrink=0.9, label="cosine similarity (one scale for every panel)")
    fig.suptitle(f"{title}: {len(rows)} test texts (seed {seed}), ordered by label", fontsize=12)
    return save_figure(fig, path)


def plot_ndcg_heatmaps(matrix: pd.DataFrame, searched: list[str], path: Path) -> Path:
    """Absolute nDCG@k as source x target heatmaps, one panel per translator in ``searched``: a cell is
    the translator's search quality from the row's model into the column's; the diagonal is the model's
    own search (native), so a row can be read against the search it would replace and a column against
    the search a migration aims for."""
    models = sorted(set(matrix["model_a"]) | set(matrix["model_b"]))
    k = int(matrix["k"].iloc[0])
    native = matrix[matrix["searched"] == "native B"].drop_duplicates("model_b").set_index("model_b")["ndcg"]
    panels = [name for name in searched if (matrix["searched"] == name).any()]
    if not panels:
        raise ValueError(f"none of {searched} is in the matrix: nothing to draw")
    values = []
    for name in panels:
        grid = np.full((len(models), len(models)), np.nan)
        for row in matrix[matrix["searched"] == name].itertuples(index=False):
            grid[models.index(row.model_a), models.index(row.model_b)] = row.ndcg
        for model, score in native.items():
            grid[models.index(model), models.index(model)] = score
        values.append(grid)
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([0.0, 1.0])
    low, high = float(finite.min()), float(finite.max())
    fig = Figure(figsize=(3.4 * max(1, len(panels)) + 1.4, 3.6), layout="constrained")
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False).ravel()
    for ax, name, grid in zip(axes, panels, values):
        image = ax.imshow(grid, cmap="viridis", vmin=low, vmax=high)
        for i in range(len(models)):
            for j in range(len(models)):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", fontsize=10,
                            color="white" if grid[i, j] < (low + high) / 2 else "black",
                            fontweight="bold" if i == j else "normal")
        ax.set_xticks(range(len(models)), models, fontsize=10, rotation=30, ha="right")
        ax.set_yticks(range(len(models)), models if ax is axes[0] else [], fontsize=10)
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("target B", fontsize=10)
    axes[0].set_ylabel("source A", fontsize=10)
    fig.colorbar(image, ax=list(axes), shrink=0.9, label=f"nDCG@{k}")
    fig.suptitle(f"nDCG@{k} of B's queries over translated passages (bold diagonal: the model's own search)",
                 fontsize=11)
    return save_figure(fig, path)


def plot_data_curve(curve: pd.DataFrame, path: Path, label: str, failures: dict[str, str] | None = None) -> Path:
    """One metric against the number of paired texts a fit read (log scale), one panel per pair: each translator
    fitted on pairs as a line with its 95 % t interval over seeds, each unpaired translator (0 pairs) as a horizontal line
    with its band. ``curve``: rows of analysis/data_curve.curve_table for one dataset and metric; ``failures``:
    per pair, a line saying which unpaired fits found no alignment (written in the panel: they have no score)."""
    failures = failures or {}
    pairs = sorted(set(curve["pair"]) | set(failures))
    columns = min(3, len(pairs))
    rows = math.ceil(len(pairs) / columns)
    fig = Figure(figsize=(4.2 * columns + 1.8, 3.4 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    supervised = sorted(curve.loc[curve["paired_texts"] > 0, "translator"].unique())
    unpaired = sorted(curve.loc[curve["paired_texts"] == 0, "translator"].unique())
    colour_of = {name: f"C{i % 10}" for i, name in enumerate(supervised + unpaired)}
    handles = {}
    for ax, pair in zip(axes, pairs):
        of_pair = curve[curve["pair"] == pair]
        ax.set_xscale("log")
        for arch, points in of_pair[of_pair["paired_texts"] > 0].groupby("translator", sort=True):
            points = points.sort_values("paired_texts")
            (line,) = ax.plot(points["paired_texts"], points["mean"], marker="o", markersize=4, color=colour_of[arch])
            bars = points[points["low"].notna() & points["high"].notna()]
            if len(bars):
                ax.errorbar(bars["paired_texts"], bars["mean"], capsize=3, linestyle="none", color=colour_of[arch],
                            yerr=[(bars["mean"] - bars["low"]).clip(lower=0), (bars["high"] - bars["mean"]).clip(lower=0)])
            handles.setdefault(arch, line)
        for name, row in of_pair[of_pair["paired_texts"] == 0].set_index("translator").iterrows():
            line = ax.axhline(row["mean"], color=colour_of[name], linestyle="--", linewidth=1.2)
            if pd.notna(row["low"]) and pd.notna(row["high"]):
                ax.axhspan(row["low"], row["high"], color=colour_of[name], alpha=0.12, linewidth=0)
            handles.setdefault(f"{name} (no pairs)", line)
        sizes = sorted(of_pair.loc[of_pair["paired_texts"] > 0, "paired_texts"].unique())
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(sizes, [f"{int(n):,}" for n in sizes], fontsize=7)
        if pair in failures:
            ax.annotate(failures[pair], xy=(0.02, 0.97), xycoords="axes fraction", va="top", fontsize=7,
                        color="#b2182b", wrap=True)
        ax.set_xlabel("paired texts fitted on")
        ax.set_ylabel(label)
        ax.set_title(pair, fontsize=10)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(pairs):]:
        ax.set_visible(False)
    fig.legend(list(handles.values()), list(handles), loc="outside right upper", fontsize=8, frameon=False)
    return save_figure(fig, path)
