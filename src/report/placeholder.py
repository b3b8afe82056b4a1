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

from src.analysis.figures.figure_set import mse_width_table
from src.analysis.files import file_name
from src.analysis.figures.plots import DPI, plot_kernel_matrices, plot_mse_vs_width, plot_umap, save_figure
from src.report.diagrams import placeholder_stamp
from src.report.inputs import ReportInput, RunFacts, config_description, protocol_of
from src.cli import CONFIG_DIR

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
    rows, runs = [], {}
    for model_a, model_b in pairs:
        d_a, d_b = models[model_a]["dim"], models[model_b]["dim"]
        pair = f"{model_a}-to-{model_b}"
        reference = synthetic_reference(rng)
        translators = [(arch, width) for arch in study.archs
                       for width in ([None] if arch == "linear" else study.widths)]
        for arch, width in translators:
            label = arch if width is None else f"{arch}-x{width}"
            hidden = None if width is None else width * min(d_a, d_b)
            layers = {"mlp1": 1, "mlp2": 2}.get(arch, 0)
            parameters = d_a * d_b + d_b if not layers else (
                d_a * hidden + hidden + (layers - 1) * (hidden * hidden + hidden) + hidden * d_b + d_b)
            run_dir = f"placeholder/{pair}/{label}"
            net = OmegaConf.to_container(OmegaConf.load(Path(CONFIG_DIR) / "arch" / f"{arch}.yaml").net)
            if "width" in net:
                net["width"] = width
            runs[run_dir] = RunFacts(Path(run_dir), {"a": d_a, "b": d_b}, split_sizes, None, None, 0, net)
            quality = 0.55 + 0.08 * layers + 0.03 * np.log2(width or 1) + rng.normal(0, 0.03)
            rows.append(synthetic_row(rng, tag, model_a, model_b, label, arch, width, hidden, "trained", parameters,
                                      run_dir, quality, reference))
        for name, quality in (("lstsq", 0.6), ("procrustes", 0.56)):
            rows.append(synthetic_row(rng, tag, model_a, model_b, f"{name} (closed form)", name, None, None,
                                      "closed form", None, "", quality, reference))
    results = pd.DataFrame(rows)
    figures = synthetic_figures(folder / "figures", results, rng)
    examples = {f"{tag}/{a}-to-{b}/{study.archs[-1]}-x{study.widths[-1]}": synthetic_examples(rng)
                for a, b in pairs}
    return ReportInput(
        name="placeholder", results=results, references={}, examples=examples, figures=figures, runs=runs,
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
        "floor_kind": "random ranking", "retrieval_queries": 2_300, "retrieval_pool": 230, "matching_pool": 2_580,
    }


def synthetic_row(rng, tag, model_a, model_b, label, arch, width, hidden, kind, parameters, run_dir, quality,
                  reference) -> dict:
    quality = float(np.clip(quality, 0.05, 0.98))
    floor, native = reference[f"ndcg@{RETRIEVAL_K}_floor"], reference[f"ndcg@{RETRIEVAL_K}_native"]
    ndcg = floor + quality * (native - floor)
    return {
        "dataset": tag, "pair": f"{model_a}-to-{model_b}", "model_a": model_a, "model_b": model_b,
        "translator": label, "arch": arch, "width": width, "hidden": hidden, "kind": kind, "parameters": parameters,
        "run_dir": run_dir, "test_mse": reference["mean_vector_mse"] * (1 - 0.7 * quality),
        "test_cosine": 0.4 + 0.5 * quality, f"jaccard@{KNN_K}": 0.1 + 0.2 * quality, f"rbo@{KNN_K}": 0.2 + 0.3 * quality,
        "cka_linear": 0.5 + 0.4 * quality, "cka_linear_null_p95": rng.uniform(0.02, 0.04), "cka_linear_p_value": 0.0099,
        "cka_rbf": 0.5 + 0.4 * quality, "cka_rbf_null_p95": rng.uniform(0.02, 0.05), "cka_rbf_p_value": 0.0099,
        "top1_accuracy": quality, f"ndcg@{RETRIEVAL_K}": ndcg, f"ndcg@{RETRIEVAL_K}_retention": ndcg / native,
        f"ndcg@{RETRIEVAL_K}_gap_closed": quality, **reference,
    }


def synthetic_figures(folder: Path, results: pd.DataFrame, rng) -> list[Path]:
    """The analysis' figure kinds drawn by the analysis' own plotting code from random data, then stamped."""
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        labels = rng.choice(LABELS, 300).tolist()
        centres = {label: rng.normal(0, 4, 2) for label in LABELS}
        native_xy = np.array([centres[label] + rng.normal(0, 1, 2) for label in labels])
        for (tag, pair), rows in results.groupby(["dataset", "pair"], sort=False):
            trained = rows[rows["kind"] == "trained"]
            for label in (trained["translator"].iloc[-1], trained["translator"].iloc[0]):
                name = f"{tag}/{pair}/{file_name(label)}.png"
                translated_xy = native_xy + rng.normal(0, 0.8, native_xy.shape)
                plot_umap(native_xy, translated_xy, labels, f"UMAP: {pair} {label}", scratch / "u.png")
                written.append(stamp_png(scratch / "u.png", folder / "umap" / name))
                native = rng.normal(size=(64, 32)) + np.array([[i % 3] * 32 for i in range(64)])
                plot_kernel_matrices(native, native + rng.normal(0, 0.7, native.shape), labels[:64],
                                     f"Cosine similarity: {pair} {label}", scratch / "k.png", sample_size=32)
                written.append(stamp_png(scratch / "k.png", folder / "kernels" / name))
        for tag, rows in results.groupby("dataset"):
            plot_mse_vs_width(mse_width_table(rows), scratch / "m.png")
            written.append(stamp_png(scratch / "m.png", folder / f"mse_vs_width_{tag}.png"))
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
