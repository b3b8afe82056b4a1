"""Figures and the shared UMAP projection: offline, small (200 x 16), deterministic.

The first UMAP fit in the process pays numba's compilation (several seconds); the module-scoped
projection pays it once and the other tests fit in a fraction of a second.
"""

import logging
import os
import threading

import matplotlib

matplotlib.use("Agg")  # before pyplot: no window, whatever the environment says

import numpy as np
import pandas as pd
import pytest
import umap
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from PIL import Image

from embtrans.analysis.figures import plots
from embtrans.analysis.figures.plots import (
    DPI,
    kernel_sample_rows,
    legend_groups,
    plot_kernel_matrices,
    plot_mse_vs_width,
    plot_umap,
    save_figure,
)
from embtrans.analysis.figures.projection import SharedProjection

N, DIM = 200, 16
OLD_MTIME_NS = 1_000_000_000 * 10**9  # 2001: a rewrite cannot keep it by coincidence


def clustered(n: int, dim: int = DIM, seed: int = 0, clusters: int = 4):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(123).normal(size=(clusters, dim))
    which = rng.integers(0, clusters, n)
    return (centres[which] + 0.3 * rng.normal(size=(n, dim))).astype(np.float32), [f"topic-{w}" for w in which]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    native, labels = clustered(N)
    cache_dir = tmp_path_factory.mktemp("umap-cache")
    return native, labels, cache_dir, SharedProjection.fit_or_load(native, cache_dir)


@pytest.fixture
def captured(monkeypatch):
    """Keep the Figure a plot function builds, so its axes and legends can be inspected."""
    figures = []
    real_save = plots.save_figure

    def keep(fig, path):
        figures.append(fig)
        return real_save(fig, path)

    monkeypatch.setattr(plots, "save_figure", keep)
    return figures


def png_size(path):
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        return image.size


def files_state(folder):
    return {p.relative_to(folder): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def refuse(*args, **kwargs):
    raise AssertionError("UMAP was asked to compute again instead of reading the cache")


# --- save_figure ---------------------------------------------------------------------------------

def line_figure(values):
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot(values)
    return fig


def test_save_figure_leaves_an_unchanged_file_untouched(tmp_path):
    path = save_figure(line_figure([1, 3, 2]), tmp_path / "deep" / "er" / "line.png")
    assert path == tmp_path / "deep" / "er" / "line.png"
    first = path.read_bytes()
    os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))

    save_figure(line_figure([1, 3, 2]), path)
    assert path.stat().st_mtime_ns == OLD_MTIME_NS
    assert path.read_bytes() == first

    save_figure(line_figure([1, 2, 3]), path)
    assert path.stat().st_mtime_ns != OLD_MTIME_NS
    assert path.read_bytes() != first
    assert png_size(path) == (3 * DPI, 2 * DPI)
    assert not list(tmp_path.rglob("*.tmp"))


def test_written_files_follow_the_umask(tmp_path, fitted):
    """Temporary files from mkstemp are private (0600); a shared results folder needs them readable."""
    previous = os.umask(0o022)
    try:
        figure = save_figure(line_figure([1]), tmp_path / "f.png")
        projection = SharedProjection.fit_or_load(fitted[0], tmp_path / "cache")
    finally:
        os.umask(previous)
    for path in (figure, projection.folder / "reducer.pkl", projection.folder / "native_xy.npy"):
        assert path.stat().st_mode & 0o777 == 0o644, path


def test_save_figure_closes_pyplot_figures(tmp_path):
    fig = plt.figure(figsize=(2, 2))
    save_figure(fig, tmp_path / "pyplot.png")
    assert not plt.fignum_exists(fig.number)


def test_same_data_renders_identical_bytes(tmp_path, fitted):
    _, labels, _, projection = fitted
    a = plot_umap(projection.native_xy, projection.native_xy + 0.1, labels, "t", tmp_path / "a.png")
    b = plot_umap(projection.native_xy, projection.native_xy + 0.1, labels, "t", tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes()
    assert b"Software" not in a.read_bytes()  # no entry naming the matplotlib version


# --- plot_umap -----------------------------------------------------------------------------------

def test_plot_umap_draws_both_sets_with_two_legends(tmp_path, fitted, captured):
    native, labels, _, projection = fitted
    translated_xy = projection.transform(native + 0.05)
    path = plot_umap(projection.native_xy, translated_xy, labels, "minilm → mpnet", tmp_path / "umap.png")

    assert png_size(path) == (round(7.5 * DPI), round(5.5 * DPI))
    (ax,) = captured[0].axes
    assert ax.get_title() == "minilm → mpnet"
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    native_points, translated_points = ax.collections
    assert len(native_points.get_offsets()) == len(translated_points.get_offsets()) == N
    legends = [a for a in ax.get_children() if isinstance(a, Legend)]
    texts = [[t.get_text() for t in legend.get_texts()] for legend in legends]
    assert sorted(texts[0]) == sorted(set(labels))
    assert texts[1] == ["native B", "translated A→B"]


def test_more_than_ten_labels_become_nine_and_other():
    # label k appears k + 1 times, so the nine most frequent are l11 .. l3
    labels = np.array([f"l{k}" for k in range(12) for _ in range(k + 1)], dtype=object)
    groups, grouped = legend_groups(labels)
    assert groups == [f"l{k}" for k in range(11, 2, -1)] + ["other"]
    assert set(grouped[labels == "l0"]) == {"other"} and set(grouped[labels == "l11"]) == {"l11"}
    assert (grouped == "other").sum() == 1 + 2 + 3

    with_other = np.where(labels == "l11", "other", labels)  # a real label that is called "other"
    groups, grouped = legend_groups(with_other)
    assert groups[0] == "other" and groups[-1] == "other (rest)"
    assert set(grouped[labels == "l0"]) == {"other (rest)"}

    few = np.array(["b", "a", "b"], dtype=object)
    assert legend_groups(few)[0] == ["b", "a"]
    assert list(legend_groups(few)[1]) == ["b", "a", "b"]


@pytest.mark.parametrize("native_xy, translated_xy, labels, message", [
    (np.empty((0, 2)), np.empty((0, 2)), [], "empty"),
    (np.zeros((3, 2)), np.zeros((4, 2)), ["a"] * 3, "same text"),
    (np.zeros((3, 2)), np.zeros((3, 2)), ["a"] * 2, "labels"),
    (np.zeros((3, 3)), np.zeros((3, 2)), ["a"] * 3, r"\(n, 2\)"),
])
def test_plot_umap_rejects_bad_input_clearly(tmp_path, native_xy, translated_xy, labels, message):
    with pytest.raises(ValueError, match=message):
        plot_umap(native_xy, translated_xy, labels, "t", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


# --- plot_kernel_matrices ------------------------------------------------------------------------

def test_kernel_sample_is_seeded_and_ordered_by_label_then_index():
    labels = np.array(list("cabcab" * 20), dtype=object)
    rows = kernel_sample_rows(labels, 16, seed=3)
    assert len(set(rows)) == 16
    assert list(zip(labels[rows], rows)) == sorted(zip(labels[rows], rows))
    assert np.array_equal(rows, kernel_sample_rows(labels, 16, seed=3))
    assert not np.array_equal(rows, kernel_sample_rows(labels, 16, seed=4))
    assert sorted(kernel_sample_rows(labels[:10], 64, seed=0)) == list(range(10))


def test_plot_kernel_matrices_panels_and_scales(tmp_path, captured):
    native, labels = clustered(120)
    translated = native + 0.2 * np.random.default_rng(1).normal(size=native.shape)
    translated[kernel_sample_rows(np.asarray(labels, dtype=object), 32, 0)[0]] *= -1  # differences lean negative
    path = plot_kernel_matrices(native, translated, labels, "minilm → mpnet", tmp_path / "kernel.png",
                                sample_size=32)

    assert png_size(path) == (14 * DPI, round(4.8 * DPI))
    fig = captured[0]
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == [
        "native B: cosine similarity", "translated A→B: cosine similarity", "translated − native"]
    assert len(fig.axes) == 5  # three panels and two colourbars
    native_image, translated_image, difference_image = (ax.images[0] for ax in panels)
    assert native_image.get_array().shape == (32, 32)
    assert native_image.get_clim() == translated_image.get_clim()
    low, high = difference_image.get_clim()
    difference = difference_image.get_array()
    assert high == pytest.approx(np.abs(difference).max()) and low == -high
    assert difference.max() < high  # symmetric by design, not because the data happen to be
    assert np.allclose(np.diag(native_image.get_array()), 1)
    # One horizontal and one vertical line per boundary between label blocks, in every panel.
    sampled = np.asarray(labels, dtype=object)[kernel_sample_rows(np.asarray(labels, dtype=object), 32, 0)]
    assert len(set(sampled)) == 4
    assert [len(ax.lines) for ax in panels] == [2 * 3] * 3


def test_plot_kernel_matrices_uses_every_row_when_there_are_few(tmp_path, captured):
    native, labels = clustered(10)
    plot_kernel_matrices(native, native, labels, "t", tmp_path / "k.png", sample_size=64)
    difference = captured[0].axes[2].images[0].get_array()
    assert difference.shape == (10, 10)
    assert np.abs(difference).max() < 1e-12


@pytest.mark.parametrize("native, translated, labels, message", [
    (np.empty((0, 4)), np.empty((0, 4)), [], "non-empty"),
    (np.ones((3, 4)), np.ones((5, 4)), ["a"] * 3, "rows"),
    (np.ones((3, 4)), np.ones((3, 4)), ["a"] * 4, "labels"),
])
def test_plot_kernel_matrices_rejects_bad_input_clearly(tmp_path, native, translated, labels, message):
    with pytest.raises(ValueError, match=message):
        plot_kernel_matrices(native, translated, labels, "t", tmp_path / "k.png")


# --- plot_mse_vs_width ---------------------------------------------------------------------------

def sweep_table(pairs=("minilm-to-mpnet", "mpnet-to-minilm")):
    full_rank = {"minilm-to-mpnet": 768, "mpnet-to-minilm": 384, "glove-to-minilm": 384, "e5-to-mpnet": 768}
    rows = []
    for pair in pairs:
        for arch, extra in (("mlp1", 0.0), ("mlp2", 0.0002)):
            for width in (1, 8, 32):
                rows.append({"pair": pair, "arch": arch, "width": width, "hidden": width * full_rank[pair],
                             "test_mse": 0.0020 / np.sqrt(width) + extra})
        for arch, mse in (("linear", 0.0021), ("lstsq", 0.0020), ("procrustes", 0.0024), ("mean_vector", 0.004)):
            rows.append({"pair": pair, "arch": arch, "width": np.nan, "hidden": np.nan, "test_mse": mse})
    table = pd.DataFrame(rows)
    table["hidden"] = table["hidden"].astype("Int64")  # ints with gaps, as a sweep table holds them
    return table


def test_plot_mse_vs_width_realistic_table(tmp_path, captured):
    path = plot_mse_vs_width(sweep_table(), tmp_path / "mse.png")

    width, height = png_size(path)
    assert width > 2 * height  # two panels side by side
    fig = captured[0]
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["minilm-to-mpnet", "mpnet-to-minilm"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "mlp1", "mlp2", "linear", "lstsq", "procrustes", "mean_vector"]
    ax = panels[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["768\n×1", "6,144\n×8", "24,576\n×32"]
    mlp1 = next(line for line in ax.lines if line.get_label() == "mlp1")
    assert list(mlp1.get_xdata()) == [768, 6144, 24576]
    mean_vector = next(line for line in ax.lines if line.get_label() == "mean_vector")
    assert mean_vector.get_ydata()[0] == pytest.approx(0.004)
    low, high = ax.get_ylim()
    assert low < 0.0020 / np.sqrt(32) and high > 0.004  # reference lines are inside the view
    styles = {line.get_label(): line.get_linestyle() for line in ax.lines}
    assert len({styles[a] for a in ("linear", "lstsq", "procrustes")}) == 3


def test_plot_mse_vs_width_one_pair_missing_archs_and_only_references(tmp_path, captured):
    table = sweep_table(("minilm-to-mpnet", "mpnet-to-minilm", "glove-to-minilm", "e5-to-mpnet"))
    table = table[~((table["pair"] == "e5-to-mpnet") & (table["arch"].isin(["mlp2", "procrustes"])))]
    grid = plot_mse_vs_width(table, tmp_path / "grid.png")
    one = plot_mse_vs_width(table[table["pair"] == "e5-to-mpnet"], tmp_path / "one.png")
    ridge = pd.DataFrame([{"pair": "e5-to-mpnet", "arch": "ridge", "width": np.nan, "hidden": pd.NA,
                           "test_mse": 0.003}])
    references_only = pd.concat([table[table["hidden"].isna()], ridge], ignore_index=True)
    references = plot_mse_vs_width(references_only, tmp_path / "references.png")

    assert png_size(grid)[1] > png_size(one)[1]  # four pairs take two rows of three
    grid_fig, one_fig, references_fig = captured
    assert sum(ax.get_visible() for ax in grid_fig.axes) == 4
    assert sorted(line.get_label() for line in one_fig.axes[0].lines) == ["linear", "lstsq", "mean_vector", "mlp1"]
    assert [t.get_text() for t in references_fig.legends[0].get_texts()] == [
        "linear", "lstsq", "procrustes", "mean_vector", "ridge"]  # an unknown reference still gets a line
    assert png_size(references)[0] > 0
    low, high = references_fig.axes[0].get_ylim()
    assert 0.0015 < low < 0.0020 and 0.004 < high < 0.0045  # zoomed on the lines, not matplotlib's 0..1


def test_plot_mse_vs_width_averages_repeated_seeds(tmp_path, captured):
    table = pd.DataFrame({"pair": ["p"] * 3, "arch": ["mlp1"] * 3, "width": [1, 1, 2],
                          "hidden": [10, 10, 20], "test_mse": [1.0, 3.0, 1.5]})
    plot_mse_vs_width(table, tmp_path / "seeds.png")
    (line,) = captured[0].axes[0].lines
    assert list(line.get_ydata()) == [2.0, 1.5]


@pytest.mark.parametrize("table, message", [
    (pd.DataFrame(columns=["pair", "arch", "width", "hidden", "test_mse"]), "nothing to plot"),
    (pd.DataFrame({"pair": ["p"], "arch": ["mlp1"], "width": [1], "hidden": [8], "test_mse": [np.nan]}),
     "nothing to plot"),
    (pd.DataFrame({"pair": ["p"], "arch": ["mlp1"], "test_mse": [0.1]}), "hidden"),
])
def test_plot_mse_vs_width_rejects_bad_tables_clearly(tmp_path, table, message):
    with pytest.raises(ValueError, match=message):
        plot_mse_vs_width(table, tmp_path / "mse.png")
    with pytest.raises(TypeError, match="DataFrame"):
        plot_mse_vs_width(table.to_dict("records"), tmp_path / "mse.png")


# --- SharedProjection ----------------------------------------------------------------------------

def test_projection_shapes_and_deterministic_transform(fitted):
    projection = fitted[3]
    assert projection.native_xy.shape == (N, 2) and projection.native_xy.dtype == np.float32
    other, _ = clustered(50, seed=7)
    xy = projection.transform(other)
    assert xy.shape == (50, 2) and xy.dtype == np.float32
    assert np.isfinite(xy).all()
    # The fitted reducer itself, asked again without the cache, gives the same coordinates.
    assert np.array_equal(projection.reducer.transform(other), xy)


def test_second_call_loads_instead_of_fitting(fitted, monkeypatch):
    native, _, cache_dir, projection = fitted
    other, _ = clustered(30, seed=8)
    expected = projection.transform(other)
    reducer_file = projection.folder / "reducer.pkl"
    mtime = reducer_file.stat().st_mtime_ns

    monkeypatch.setattr(umap.UMAP, "fit", refuse)
    monkeypatch.setattr(umap.UMAP, "fit_transform", refuse)
    monkeypatch.setattr(umap.UMAP, "transform", refuse)
    again = SharedProjection.fit_or_load(native.copy(), cache_dir)

    assert again.folder == projection.folder
    assert np.array_equal(again.native_xy, projection.native_xy)
    assert np.array_equal(again.transform(other), expected)  # from the cache: transform is refused
    assert reducer_file.stat().st_mtime_ns == mtime


def test_loaded_reducer_projects_new_vectors_like_the_fitted_one(fitted):
    native, _, cache_dir, projection = fitted
    loaded = SharedProjection.fit_or_load(native, cache_dir)
    assert loaded.reducer is not projection.reducer
    new, _ = clustered(20, seed=9)
    assert np.array_equal(loaded.reducer.transform(new), projection.reducer.transform(new))


def test_other_parameters_get_their_own_entry(fitted):
    native, _, cache_dir, projection = fitted
    before = files_state(projection.folder)
    other = SharedProjection.fit_or_load(native, cache_dir, seed=1, n_neighbors=10)
    assert other.folder != projection.folder and other.folder.parent == projection.folder.parent
    assert files_state(projection.folder) == before


def test_transform_rejects_another_dimension(fitted):
    projection = fitted[3]
    with pytest.raises(ValueError, match=r"dimension 8.*dimension 16"):
        projection.transform(np.zeros((5, 8), dtype=np.float32))


@pytest.mark.parametrize("bad_native, message", [
    (np.zeros((2, DIM)), "at least 3"),
    (np.full((10, DIM), np.nan), "NaN"),
    (np.zeros(DIM), "2-D"),
])
def test_fit_rejects_unusable_native_vectors(tmp_path, bad_native, message):
    with pytest.raises(ValueError, match=message):
        SharedProjection.fit_or_load(bad_native, tmp_path)


@pytest.mark.parametrize("damaged", ["reducer.pkl", "native_xy.npy"])
def test_corrupt_cache_file_is_rebuilt_with_one_warning(tmp_path, fitted, caplog, damaged):
    native, _, _, reference = fitted
    bystander = SharedProjection.fit_or_load(native[:50], tmp_path)
    projection = SharedProjection.fit_or_load(native, tmp_path)
    bystander_files = files_state(bystander.folder)
    (projection.folder / damaged).write_bytes(b"\x00 not what it should be")

    with caplog.at_level(logging.INFO, logger="embtrans.analysis.figures.projection"):
        rebuilt = SharedProjection.fit_or_load(native, tmp_path)

    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert str(projection.folder / damaged) in warning.getMessage()
    assert "\n" not in warning.getMessage() and warning.exc_info is None
    assert np.array_equal(rebuilt.native_xy, reference.native_xy)  # the same seed refits the same
    assert files_state(bystander.folder) == bystander_files
    caplog.clear()
    SharedProjection.fit_or_load(native, tmp_path)  # the rebuilt entry now loads quietly
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_corrupt_transform_cache_is_recomputed(fitted, caplog):
    projection = fitted[3]
    other, _ = clustered(25, seed=10)
    expected = projection.transform(other)
    (cached,) = [p for p in (projection.folder / "transformed").glob("*.npy")
                 if np.array_equal(np.load(p), expected)]
    cached.write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING, logger="embtrans.analysis.figures.projection"):
        assert np.array_equal(projection.transform(other), expected)
    assert [str(cached) in r.getMessage() for r in caplog.records] == [True]


def test_tiny_native_set_lowers_n_neighbors_and_says_so(tmp_path, caplog):
    native, _ = clustered(8)
    with caplog.at_level(logging.WARNING, logger="embtrans.analysis.figures.projection"):
        projection = SharedProjection.fit_or_load(native, tmp_path, n_neighbors=15)
    assert projection.native_xy.shape == (8, 2)
    assert projection.reducer.n_neighbors == 7
    assert any("n_neighbors=7" in r.getMessage() for r in caplog.records)


def test_parallel_callers_fit_once(tmp_path, monkeypatch):
    native, _ = clustered(60, seed=11)
    fits = []
    real_fit = umap.UMAP.fit

    def counting_fit(self, *args, **kwargs):
        fits.append(threading.get_ident())
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(umap.UMAP, "fit", counting_fit)
    results = [None, None]

    def call(i):
        results[i] = SharedProjection.fit_or_load(native, tmp_path)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fits) == 1
    assert np.array_equal(results[0].native_xy, results[1].native_xy)
