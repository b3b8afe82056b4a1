"""A placeholder report's input: the study as configured, with synthetic numbers, texts and pictures.

The layout, tables and figures are the real report's (the same plotting code draws synthetic data),
so the write-up can start before the sweep finishes; every number, text and picture is marked.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from matplotlib.figure import Figure
from matplotlib.image import imread
from omegaconf import OmegaConf

from embtrans.analysis.figures.figure_set import mse_width_table, width_table
from embtrans.analysis.figures.plots import (
    DPI,
    plot_kernel_grid,
    plot_kernel_matrices,
    plot_mse_vs_width,
    plot_ndcg_heatmaps,
    plot_umap,
    save_figure,
)
from embtrans.analysis.identifiers import CLOSED_FORM, TRAINED, PairId, TranslatorId, file_name
from embtrans.analysis.summaries import Items, Settings
from embtrans.analysis.tables import build_tables, ndcg_matrix
from embtrans.metrics.registry import title_of as metric_title
from embtrans.paths import CONFIG_DIR
from embtrans.report.diagrams import placeholder_stamp
from embtrans.report.inputs import ReportInput, RunFacts, config_description, protocol_of

LABELS = ["fresh", "rotten", "plot"]
KNN_K, RETRIEVAL_K = 10, 10


def train_config(overrides: list[str]) -> dict:
    """conf/train.yaml composed as a run would be, inside or outside a running Hydra app."""
    if GlobalHydra.instance().is_initialized():
        cfg = compose("train", overrides=overrides)
    else:
        with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR):
            cfg = compose("train", overrides=overrides)
    return OmegaConf.to_container(cfg, resolve=False)


def stamp_png(source: Path, target: Path) -> Path:
    """Redraw a PNG with the placeholder stamp across it, at the same pixel size."""
    image = imread(source)
    height, width = image.shape[:2]
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    fig.figimage(image, 0, 0)
    placeholder_stamp(fig)
    return save_figure(fig, target)


def placeholder_input(folder: Path, study, seed: int = 0) -> ReportInput:
    """Synthetic results for ``study`` (dataset, models, archs, widths) with figures under ``folder``."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    config = train_config([f"dataset={study.dataset}"])
    models = {}
    for name in study.models:
        model = OmegaConf.load(Path(CONFIG_DIR) / "model_a" / f"{name}.yaml")
        models[name] = {"dim": int(model.dim), "description": config_description("model_a", name)}
    tag = f"{study.dataset}-placeholder"
    pairs = [(a, b) for a in study.models for b in study.models if a != b]
    split_sizes = {"train": 9_300, "val": 1_030, "test": 2_580}
    rows, runs, items = [], {}, Items()
    seeds = list(study.get("seeds") or [0])
    for model_a, model_b in pairs:
        d_a, d_b = models[model_a]["dim"], models[model_b]["dim"]
        pid = PairId(tag, model_a, model_b)
        reference = synthetic_reference(rng)
        items.references[pid] = synthetic_reference_items(reference, rng)
        translators = [(arch, width) for arch in study.archs
                       for width in ([None] if arch == "linear" else study.widths)]
        for arch, width in translators:
            hidden = None if width is None else width * min(d_a, d_b)
            layers = {"mlp1": 1, "mlp2": 2}.get(arch, 0)
            parameters = d_a * d_b + d_b if not layers else (
                d_a * hidden + hidden + (layers - 1) * (hidden * hidden + hidden) + hidden * d_b + d_b)
            net = OmegaConf.to_container(OmegaConf.load(Path(CONFIG_DIR) / "arch" / f"{arch}.yaml").net)
            if "width" in net:
                net["width"] = width
            quality = 0.55 + 0.08 * layers + 0.03 * np.log2(width or 1) + rng.normal(0, 0.03)
            for seed in seeds:
                tid = TranslatorId(arch, width, TRAINED, seed=seed)
                run_dir = f"placeholder/{pid.name}/{tid.run_label}"
                runs[run_dir] = RunFacts(Path(run_dir), {"a": d_a, "b": d_b}, split_sizes, None, None, seed, net)
                rows.append(synthetic_row(rng, pid, tid, hidden, parameters, run_dir, quality + rng.normal(0, 0.01),
                                          reference))
                items.translators[(pid, tid)] = synthetic_items(rows[-1], items.references[pid], rng)
        for name, quality in (("lstsq", 0.6), ("procrustes", 0.56)):
            tid = TranslatorId(name, kind=CLOSED_FORM)
            rows.append(synthetic_row(rng, pid, tid, None, None, "", quality, reference))
            items.translators[(pid, tid)] = synthetic_items(rows[-1], items.references[pid], rng)
    results = pd.DataFrame(rows)
    # The analysis' own summaries, from the synthetic runs and items: the same tables a study gets.
    tables = build_tables(results, items, Settings(replicates=200))
    figures = synthetic_figures(folder / "figures", results, tables, rng)
    shown = TranslatorId(study.archs[-1], study.widths[-1], TRAINED, seed=seeds[0]).run_label
    examples = {f"{PairId(tag, a, b).folder}/{shown}": synthetic_examples(rng) for a, b in pairs}
    return ReportInput(
        name="placeholder", results=results, translators=tables["translators"], aggregate=tables["aggregate"],
        comparisons=tables["comparisons"], references={}, examples=examples, figures=figures, runs=runs,
        protocol=protocol_of(config), models=models,
        datasets={tag: {"name": study.dataset, "description": config_description("dataset", study.dataset),
                        "limit": None, "split_sizes": split_sizes}},
        placeholder=True, analysis_dir=folder,
        command=f"python train.py -m model_a={','.join(study.models)} model_b={','.join(study.models)} "
                f"skip_same_model=true arch={','.join(study.archs)} width={','.join(map(str, study.widths))}",
    )


def synthetic_reference(rng) -> dict:
    native = rng.uniform(0.5, 0.7)
    return {
        "mean_vector_mse": rng.uniform(0.0012, 0.0016), "mean_vector_cosine": rng.uniform(0.40, 0.50),
        f"untranslated_jaccard@{KNN_K}": rng.uniform(0.12, 0.2), f"untranslated_rbo@{KNN_K}": rng.uniform(0.2, 0.3),
        f"untranslated_chance_jaccard@{KNN_K}": 0.004, "untranslated_cka_linear": rng.uniform(0.5, 0.65),
        "untranslated_cka_linear_null_p95": rng.uniform(0.02, 0.04), "untranslated_cka_linear_p_value": 0.0099,
        "untranslated_cka_rbf": rng.uniform(0.5, 0.7), "untranslated_cka_rbf_null_p95": rng.uniform(0.02, 0.05),
        "untranslated_cka_rbf_p_value": 0.0099, f"ndcg@{RETRIEVAL_K}_native": native,
        f"ndcg@{RETRIEVAL_K}_floor": rng.uniform(0.0, 0.05), f"ndcg@{RETRIEVAL_K}_source": native * 0.9,
        "floor_kind": "random ranking (expected)", "retrieval_queries": 2_300, "retrieval_pool": 230,
        "matching_pool": 2_580, "stitch_accuracy_native": rng.uniform(0.7, 0.8),
        "stitch_accuracy_source": rng.uniform(0.65, 0.75),
        f"native_hubness_skew@{KNN_K}": rng.uniform(1.0, 2.0), f"untranslated_hubness_skew@{KNN_K}": rng.uniform(1.0, 2.0),
        f"untranslated_knn_edit_similarity@{KNN_K}": rng.uniform(0.02, 0.05),
    }


def synthetic_row(rng, pid: PairId, tid: TranslatorId, hidden, parameters, run_dir, quality, reference) -> dict:
    quality = float(np.clip(quality, 0.05, 0.98))
    floor, native = reference[f"ndcg@{RETRIEVAL_K}_floor"], reference[f"ndcg@{RETRIEVAL_K}_native"]
    ndcg = floor + quality * (native - floor)
    return {
        "dataset": pid.dataset, "pair": pid.name, "model_a": pid.model_a, "model_b": pid.model_b,
        "translator": tid.label, "seed": tid.seed, "run_label": tid.run_label, "arch": tid.arch, "width": tid.width,
        "hidden": hidden, "kind": tid.kind, "parameters": parameters,
        "run_dir": run_dir, "test_mse": reference["mean_vector_mse"] * (1 - 0.7 * quality),
        "test_cosine": 0.4 + 0.5 * quality, f"jaccard@{KNN_K}": 0.1 + 0.2 * quality, f"rbo@{KNN_K}": 0.2 + 0.3 * quality,
        "cka_linear": 0.5 + 0.4 * quality, "cka_linear_null_p95": rng.uniform(0.02, 0.04), "cka_linear_p_value": 0.0099,
        "cka_rbf": 0.5 + 0.4 * quality, "cka_rbf_null_p95": rng.uniform(0.02, 0.05), "cka_rbf_p_value": 0.0099,
        "top1_accuracy": quality, "vec2vec_top1_accuracy": quality * 0.95, f"ndcg@{RETRIEVAL_K}": ndcg,
        f"ndcg@{RETRIEVAL_K}_retention": ndcg / native, f"ndcg@{RETRIEVAL_K}_gap_closed": quality,
        f"mixed50_ndcg@{RETRIEVAL_K}": (ndcg + native) / 2, f"mixed50_translated_share@{RETRIEVAL_K}": 0.3 + 0.2 * quality,
        "stitch_accuracy": reference["stitch_accuracy_native"] * (0.7 + 0.3 * quality),
        f"hubness_skew@{KNN_K}": reference[f"native_hubness_skew@{KNN_K}"] * (1.5 - 0.5 * quality),
        f"knn_edit_similarity@{KNN_K}": 0.05 + 0.1 * quality, "mrr": quality * 0.9, "mean_rank": 1 + 40 * (1 - quality),
        **reference,
    }


ITEMS = 200  # synthetic test texts / queries per pair


def with_mean(rng, mean: float, spread: float) -> np.ndarray:
    """ITEMS values around ``mean`` whose mean is exactly ``mean``, so the intervals sit around the table's numbers."""
    values = rng.normal(0, spread, ITEMS)
    return values - values.mean() + mean


def synthetic_reference_items(reference: dict, rng) -> dict[str, np.ndarray]:
    return {f"ndcg@{RETRIEVAL_K}_{side}": with_mean(rng, reference[f"ndcg@{RETRIEVAL_K}_{side}"], 0.05)
            for side in ("native", "floor")}


def synthetic_items(row: dict, reference_items: dict, rng) -> dict[str, np.ndarray]:
    """Per-item values for each per-item score of a synthetic row (each with the row's mean)."""
    spread = {"test_mse": row["test_mse"] * 0.3}
    names = ["test_mse", "test_cosine", f"jaccard@{KNN_K}", f"rbo@{KNN_K}", "top1_accuracy", "vec2vec_top1_accuracy",
             f"ndcg@{RETRIEVAL_K}", f"mixed50_ndcg@{RETRIEVAL_K}", f"mixed50_translated_share@{RETRIEVAL_K}",
             f"knn_edit_similarity@{KNN_K}", "mrr", "mean_rank"]
    found = {name: with_mean(rng, row[name], spread.get(name, 0.15)) for name in names}
    found["stitch_correct"] = with_mean(rng, row["stitch_accuracy"], 0.3)
    return found


def synthetic_figures(folder: Path, results: pd.DataFrame, tables: dict, rng) -> list[Path]:
    """The analysis' figure kinds drawn by the analysis' own plotting code from random data, then stamped."""
    written, translators = [], tables["translators"]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        labels = rng.choice(LABELS, 300).tolist()
        centres = {label: rng.normal(0, 4, 2) for label in LABELS}
        native_xy = np.array([centres[label] + rng.normal(0, 1, 2) for label in labels])
        for (tag, pair), rows in results.groupby(["dataset", "pair"], sort=False):
            trained = rows[rows["kind"] == "trained"]
            for label in (trained["run_label"].iloc[-1], trained["run_label"].iloc[0]):
                name = f"{tag}/{pair}/{file_name(label)}.png"
                translated_xy = native_xy + rng.normal(0, 0.8, native_xy.shape)
                plot_umap(native_xy, translated_xy, labels, f"UMAP: {pair} {label}", scratch / "u.png")
                written.append(stamp_png(scratch / "u.png", folder / "umap" / name))
                native = rng.normal(size=(64, 32)) + np.array([[i % 3] * 32 for i in range(64)])
                plot_kernel_matrices(native, native + rng.normal(0, 0.7, native.shape), labels[:64],
                                     f"Cosine similarity: {pair} {label}", scratch / "k.png", sample_size=32)
                written.append(stamp_png(scratch / "k.png", folder / "kernels" / name))
            native = rng.normal(size=(64, 32)) + np.array([[i % 3] * 32 for i in range(64)])
            spaces = [("native A", native + rng.normal(0, 0.9, native.shape)), ("native B", native),
                      *[(label, native + rng.normal(0, 0.7, native.shape)) for label in trained["run_label"].iloc[:2]]]
            plot_kernel_grid(spaces, labels[:64], pair, scratch / "g.png", sample_size=32)
            written.append(stamp_png(scratch / "g.png", folder / "kernels" / tag / pair / "kernel_grid.png"))
        for tag, rows in translators.groupby("dataset"):
            plot_mse_vs_width(mse_width_table(rows, results[results["dataset"] == tag]), scratch / "m.png")
            written.append(stamp_png(scratch / "m.png", folder / f"mse_vs_width_{tag}.png"))
            metric = f"ndcg@{RETRIEVAL_K}_retention"
            plot_mse_vs_width(width_table(rows, metric), scratch / "r.png", metric, metric_title(metric))
            written.append(stamp_png(scratch / "r.png", folder / f"retention_vs_width_{tag}.png"))
        matrix = ndcg_matrix(results)
        closed = list(dict.fromkeys(translators.loc[translators["kind"] == CLOSED_FORM, "translator"]))
        plot_ndcg_heatmaps(matrix, closed[:2] + [translators.loc[translators["kind"] == TRAINED, "translator"].iloc[-1]],
                           scratch / "h.png")
        written.append(stamp_png(scratch / "h.png", folder / f"ndcg_matrix_{results['dataset'].iloc[0]}.png"))
    return written


def synthetic_examples(rng, n: int = 5) -> list[dict]:
    def docs(count, start):
        return [{"id": f"p{start + i}", "text": f"Placeholder passage {start + i}: a plot summary would stand here.",
                 "relevant": i == 0 and start == 0} for i in range(count)]
    examples = []
    for i in range(n):
        shared = n - i
        examples.append({"query_id": f"q{i}", "query": f"Placeholder review {i}: a test query would stand here.",
                         "relevant": docs(1, 0), "jaccard": shared / (2 * n - shared),
                         "both": docs(shared, 0), "only_native": docs(n - shared, 100),
                         "only_translated": docs(n - shared, 200)})
    rng.shuffle(examples[1:-1])
    return sorted(examples, key=lambda e: -e["jaccard"])
