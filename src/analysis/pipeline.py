"""analyze.py's work: every finished run of a sweep -> scores, Chroma collections, tables, figures, examples.

Per model pair it loads the native vectors once, scores each translator (the sweep's runs plus
closed-form lstsq and Procrustes fitted here, so every pair has a reference), and caches each
score set under a hash of its inputs: re-running reads them back and rewrites nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf

from src.analysis.chroma_store import EmbeddingStore, collection_name
from src.analysis.files import cached_json, content_hash, file_name, write_if_changed
from src.analysis.pairs import PairData, load_pair, pair_key, translated_test
from src.analysis.search import (examples_markdown, reference_searches, search, translated_search_scores,
                                            worked_examples)
from src.analysis.runs import Run, SweepRuns, latest_sweep, load_sweep
from src.analysis.tables import build_tables, write_tables
from src.analysis.scoring import translation_scores, untranslated_scores
from src.errors import UserError
from src.sweep.run_files import DamagedFile
from src.sweep.run_index import run_fingerprint

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    """One translated embedding dataset: a sweep run, or a closed-form map fitted during analysis."""

    label: str  # arch-x<width>, arch, or "<name> (closed form)"
    arch: str
    width: int | None
    kind: str  # "trained" or "closed form"
    vectors: np.ndarray
    run: Run | None = None

    @property
    def fingerprint(self) -> str:
        """Part of its collection's name: two runs that differ only in hyperparameters get two collections."""
        return self.run.key[:8] if self.run else ""


@dataclass
class Analysis:
    output_dir: Path
    sweep: SweepRuns
    results: pd.DataFrame  # one row per candidate
    references: dict = field(default_factory=dict)  # per pair: scores that hold before translation
    examples: dict = field(default_factory=dict)  # per pair and chosen translator
    figures: list[Path] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    collections: list[str] = field(default_factory=list)
    chroma_dir: Path | None = None
    seconds: float = 0.0


def resolve_sweep_dir(cfg: DictConfig) -> Path:
    return Path(cfg.sweep_dir) if cfg.get("sweep_dir") else latest_sweep(Path(cfg.paths.log_dir))


def analyze(cfg: DictConfig) -> Analysis:
    started = time.perf_counter()
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    sweep = load_sweep(resolve_sweep_dir(cfg))
    output_dir = Path(cfg.output_dir) if cfg.get("output_dir") else Path(cfg.paths.log_dir) / "analysis" / sweep.sweep_dir.name
    for line in sweep.left_out:
        log.warning("left out of the analysis: %s", line)

    groups: dict[tuple, list[Run]] = defaultdict(list)
    for run in sweep.runs:
        groups[pair_key(run)].append(run)

    from src.analysis.figures.figure_set import FigureSet  # matplotlib and umap load only when there is work

    figures = FigureSet(output_dir / "figures", Path(cfg.paths.log_dir) / "analysis" / "cache" / "umap", cfg.figures)
    rows, references, examples, collections = [], {}, {}, []
    with EmbeddingStore(Path(cfg.chroma_dir)) as store:
        for (tag, model_a, model_b), runs in groups.items():
            pair = load_pair(runs[0], cfg.paths.embedding_cache_dir)
            pair_name = f"{model_a}-to-{model_b}"
            pair_dir = f"{tag}/{pair_name}"
            log.info("analysing %s on %s: %d run(s)", pair_name, tag, len(runs))
            natives = sync_native(store, pair, tag, model_a, model_b, already=set(collections))
            collections += natives.values()
            queries, pool = search_sets(pair)
            queries_a, queries_b = vectors_of(pair, "a", queries), vectors_of(pair, "b", queries)
            settings_key = OmegaConf.to_container(cfg.metrics, resolve=True)
            reference = cached_json(
                output_dir / "cache" / pair_dir / "untranslated.json",
                content_hash(pair.native_a, pair.native_b, extra=[settings_key, cfg.retrieval.k, natives]),
                lambda: {
                    **untranslated_scores(pair.native_a, pair.native_b, pair.paired.target[pair.paired.rows("train")],
                                          cfg.metrics),
                    "search": reference_searches(store, natives["a"], natives["b"], queries_a, queries_b, queries,
                                                 pool, pair.relevant, cfg.retrieval.k),
                },
            )
            references[pair_dir] = {k: v for k, v in reference.items() if k != "search"} | {
                "search": reference["search"]["scores"]}
            scored = []
            for candidate in candidates(runs, pair, cfg, sweep.left_out):
                name = collection_name(tag, pair_name, file_name(candidate.label), candidate.fingerprint)
                sync_translated(store, name, pair, candidate, model_a, model_b)
                collections.append(name)
                result = cached_json(
                    output_dir / "cache" / pair_dir / f"{file_name(candidate.label)}.json",
                    content_hash(candidate.vectors, pair.native_b, extra=[settings_key, cfg.retrieval.k, name]),
                    lambda: score_candidate(store, name, pair, candidate, queries, queries_b, pool, reference["search"],
                                            cfg),
                )
                scored.append((candidate, result))
                rows.append(result_row(tag, model_a, model_b, candidate, result, reference))
            for candidate, result in chosen(scored, cfg.figures.translators):
                label = f"{pair_name} {candidate.label}"
                figures.umap(pair_dir, candidate, pair, label)
                figures.kernels(pair_dir, candidate, pair, label)
                examples[f"{pair_dir}/{candidate.label}"] = worked_examples(
                    reference["search"]["native_ranking"], result["ranking"], pair.relevant, pair.test_texts,
                    cfg.retrieval.examples, cfg.retrieval.k)

    results = pd.DataFrame(rows)
    analysis = Analysis(output_dir, sweep, results, references=references, examples=examples,
                        figures=figures.written, collections=collections, chroma_dir=Path(cfg.chroma_dir))
    write_outputs(analysis, cfg, figures)
    analysis.seconds = round(time.perf_counter() - started, 1)
    return analysis


def candidates(runs: list[Run], pair: PairData, cfg: DictConfig, left_out: list[str]) -> list[Candidate]:
    """The pair's translators. A run whose translated vectors are damaged is left out (and listed in
    ``left_out``); the others go on."""
    readable = []
    for run in runs:
        try:
            readable.append((run, translated_test(run, pair)))
        except DamagedFile as damaged:
            log.warning("left out of the analysis: %s: %s", " ".join(run.jobs), damaged)
            left_out.append(f"{' '.join(run.jobs)}: {damaged}")
    labels = twin_labels([run for run, _ in readable])
    found = [Candidate(labels[run.key], run.info["arch"], run.info.get("width"), "trained", vectors, run)
             for run, vectors in readable]
    return found + [Candidate(f"{name} (closed form)", name, None, "closed form",
                              pair.closed_form(name, closed_form_config(cfg, name)))
                    for name in cfg.baselines]


def twin_labels(runs: list[Run]) -> dict[str, str]:
    """Each run's translator label, by run key. A sweep over something other than arch and width gives
    several runs one label: runs that differ only by seed become <label>@seed<n>, any others
    <label>@<fingerprint>; their jobs column says which overrides made each."""
    by_label = defaultdict(list)
    for run in runs:
        by_label[run.label].append(run)
    labels = {}
    for label, twins in by_label.items():
        seeds = [run.info.get("seed") for run in twins]
        only_seed = len(twins) > 1 and len(set(seeds)) == len(twins) and len({without_seed(run) for run in twins}) == 1
        for run in twins:
            labels[run.key] = (label if len(twins) == 1 else f"{label}@seed{run.info['seed']}" if only_seed
                               else f"{label}@{run.key[:6]}")
    return labels


def without_seed(run: Run) -> str:
    """The run's fingerprint as if it had no seed: equal for runs that differ only by seed."""
    config = OmegaConf.masked_copy(run.config, [key for key in run.config if key != "seed"])
    return run_fingerprint(config)


def closed_form_config(cfg: DictConfig, name: str) -> DictConfig:
    if name not in cfg.closed_form:
        raise UserError(f"baselines names {name!r}, which is not a closed-form map: use some of "
                        f"{sorted(cfg.closed_form)}")
    return cfg.closed_form[name]


def search_sets(pair: PairData) -> tuple[list[str], list[str]]:
    """Test queries that have a relevant test passage, and the test passages they search."""
    texts = pair.test_texts
    pool = texts.loc[texts["kind"] == "passage", "id"].astype(str).tolist()
    queries = [q for q in texts.loc[texts["kind"] == "query", "id"].astype(str) if q in pair.relevant]
    return queries, pool


def vectors_of(pair: PairData, side: str, ids: list[str]) -> np.ndarray:
    position = {text_id: i for i, text_id in enumerate(pair.test_texts["id"].astype(str))}
    native = pair.native_a if side == "a" else pair.native_b
    return native[[position[i] for i in ids]]


def sync_native(store: EmbeddingStore, pair: PairData, tag: str, model_a: str, model_b: str,
                already: set[str]) -> dict[str, str]:
    """A collection per (dataset, model) with every text of the dataset, split in its metadata. A model
    shared by several pairs is synced once per analysis (``already`` holds what was)."""
    texts = pair.paired.dataset.texts
    names = {}
    for side, model, vectors in (("a", model_a, pair.paired.source), ("b", model_b, pair.paired.target)):
        name = names[side] = collection_name(tag, model)
        if name in already:
            continue
        metadatas = [{"text_id": str(i), "split": str(s), "kind": str(k), "label": str(lab), "model": model,
                      "dataset": tag} for i, s, k, lab in zip(texts["id"], pair.paired.split, texts["kind"], texts["label"])]
        added = store.sync(name, texts["id"].astype(str).tolist(), vectors, metadatas, texts["text"].tolist(),
                           {"dataset": tag, "model": model, "space": "native"})
        if added:
            log.info("Chroma: %d vectors added to %s", added, name)
    return names


def sync_translated(store: EmbeddingStore, name: str, pair: PairData, candidate: Candidate, model_a: str,
                    model_b: str) -> None:
    texts = pair.test_texts
    common = {"split": "test", "from_model": model_a, "to_model": model_b, "arch": candidate.arch,
              "translator": candidate.label}
    if candidate.width is not None:
        common["width"] = int(candidate.width)
    metadatas = [{"text_id": str(i), "kind": str(k), "label": str(lab), **common}
                 for i, k, lab in zip(texts["id"], texts["kind"], texts["label"])]
    description = {**{k: v for k, v in common.items() if k != "split"}, "space": "translated",
                   "run_dir": str(candidate.run.run_dir) if candidate.run else "fitted during analysis"}
    added = store.sync(name, texts["id"].astype(str).tolist(), candidate.vectors, metadatas, texts["text"].tolist(),
                       description)
    if added:
        log.info("Chroma: %d vectors added to %s", added, name)


def score_candidate(store, name, pair, candidate, queries, query_vectors, pool, reference_search, cfg) -> dict:
    scores = translation_scores(pair.native_b, candidate.vectors, cfg.metrics)
    ranking = search(store, name, query_vectors, queries, pool, cfg.retrieval.k)
    scores.update(translated_search_scores(ranking, reference_search, pair.relevant, cfg.retrieval.k))
    return {**scores, "ranking": ranking}


def result_row(tag: str, model_a: str, model_b: str, candidate: Candidate, result: dict, reference: dict) -> dict:
    run = candidate.run
    row = {
        "dataset": tag, "pair": f"{model_a}-to-{model_b}", "model_a": model_a, "model_b": model_b,
        "translator": candidate.label, "arch": candidate.arch, "width": candidate.width,
        "hidden": run.info.get("hidden") if run else None, "kind": candidate.kind,
        "parameters": run.info.get("parameters") if run else None,
        "run_dir": str(run.run_dir) if run else "", "jobs": " ".join(run.jobs) if run else "",
    }
    row.update({k: v for k, v in result.items() if k != "ranking"})
    row.update({k: v for k, v in reference.items() if k != "search"})
    return row


def chosen(scored: list[tuple[Candidate, dict]], wanted) -> list[tuple[Candidate, dict]]:
    """The translators that get pictures and worked examples: 'best' (lowest test MSE among trained
    runs) and/or named labels such as linear or mlp1-x8."""
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    picks = []
    trained = [item for item in scored if item[0].kind == "trained"]
    for name in wanted:
        if name == "best" and trained:
            picks.append(min(trained, key=lambda item: item[1]["test_mse"]))
        picks += [item for item in scored if item[0].label == name]
    return list({id(item[0]): item for item in picks}.values())


def write_outputs(analysis: Analysis, cfg: DictConfig, figures) -> None:
    analysis.tables = build_tables(analysis.results)
    write_tables(analysis.tables, analysis.output_dir / "tables")
    figures.mse_vs_width(analysis.results)  # adds to figures.written, which analysis.figures is
    for key, examples in analysis.examples.items():
        write_if_changed(analysis.output_dir / "examples" / f"{file_name(key)}.json", json.dumps(examples, indent=1))
        write_if_changed(analysis.output_dir / "examples" / f"{file_name(key)}.md", examples_markdown(key, examples))
    summary = {
        "sweep_dir": str(analysis.sweep.sweep_dir),
        "left_out": analysis.sweep.left_out,
        "skipped": analysis.sweep.skipped,
        "chroma_dir": str(cfg.chroma_dir),
        "collections": sorted(set(analysis.collections)),
        "references": analysis.references,
        "results": json.loads(analysis.results.to_json(orient="records")),
        "tables": sorted(str(p.relative_to(analysis.output_dir)) for p in (analysis.output_dir / "tables").iterdir()),
        "figures": sorted(str(p.relative_to(analysis.output_dir)) for p in analysis.figures),
        "examples": sorted(analysis.examples),
    }
    write_if_changed(analysis.output_dir / "analysis.json", json.dumps(summary, indent=1))
