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
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf

from embtrans.analysis.chroma_store import EmbeddingStore, collection_name
from embtrans.analysis.data_curve import unpaired_failures
from embtrans.analysis.identifiers import CLOSED_FORM, TRAINED, PairId, TranslatorId, file_name
from embtrans.analysis.pairs import PairData, load_pair, pair_id, translated_test
from embtrans.analysis.published import published_table
from embtrans.analysis.runs import Run, SweepRuns, latest_sweep, load_sweep
from embtrans.analysis.score_pool import ScorePool, scores_on_one_thread, worker_count
from embtrans.analysis.scoring import matching, untranslated_scores
from embtrans.analysis.search import (
    exact_search,
    examples_markdown,
    reference_searches,
    search,
    translated_search_scores,
    worked_examples,
)
from embtrans.analysis.summaries import Items, Settings
from embtrans.analysis.tables import build_tables, write_tables
from embtrans.analysis.transfer import Fitted, ScoredOn, transfer_rows, transfer_table
from embtrans.errors import UserError
from embtrans.files import cached_scores, content_hash, has_cached_scores, write_if_changed
from embtrans.metrics.mixed_index import mixed_index_scores
from embtrans.metrics.regression import regression_per_text, regression_scores
from embtrans.metrics.retrieval import scored_queries
from embtrans.metrics.stitching import stitching_from_classifiers
from embtrans.run_files import DamagedFile
from embtrans.sweep.run_index import NOT_IN_FINGERPRINT, fingerprint_settings
from embtrans.translators.artefact import Translator

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    """One translated embedding dataset: a sweep run, or a closed-form map fitted during analysis."""

    id: TranslatorId
    vectors: np.ndarray
    run: Run | None = None
    val_ndcg: float | None = None  # a closed form's validation nDCG@10 (a run records its own)

    @property
    def label(self) -> str:
        return self.id.label

    @property
    def fingerprint(self) -> str:
        """Part of its collection's name: two runs that differ only in hyperparameters get two collections."""
        return self.run.key[:8] if self.run else ""


@dataclass
class Analysis:
    output_dir: Path
    sweep: SweepRuns
    results: pd.DataFrame  # one row per candidate: a translator at one seed, on one pair
    items: Items = field(default_factory=Items)  # per-text / per-query scores, for the intervals
    references: dict = field(default_factory=dict)  # per pair: scores that hold before translation
    examples: dict = field(default_factory=dict)  # per pair and chosen translator
    figures: list[Path] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    collections: list[str] = field(default_factory=list)
    chroma_dir: Path | None = None
    seconds: float = 0.0
    transfer: list[dict] = field(default_factory=list)  # translators scored on other corpora (analysis/transfer.py)


# Part of every cached score's key: what the scores are made of. A change of what a cached file holds
# (per-item arrays; the floor, a random ranking on every pair since issue 25) changes it.
SCORES_VERSION = "items; floor: random ranking; mixed index, stitching, hubness"


def score_settings(cfg: DictConfig) -> list:
    """Every setting a cached score depends on (part of its key)."""
    return [OmegaConf.to_container(cfg.metrics, resolve=True), list(cfg.retrieval.mixed_shares),
            cfg.retrieval.mixed_seed, OmegaConf.to_container(cfg.stitching, resolve=True)]


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

    groups: dict[PairId, list[Run]] = defaultdict(list)
    for run in sweep.runs:
        groups[pair_id(run)].append(run)

    from embtrans.analysis.figures.figure_set import FigureSet  # matplotlib and umap load only when there is work

    figures = FigureSet(output_dir / "figures", Path(cfg.paths.log_dir) / "analysis" / "cache" / "umap", cfg.figures)
    rows, references, examples, collections, items = [], {}, {}, [], Items()
    # Pairs of models the sweep holds on two or more corpora: their translators are also scored across corpora.
    corpora = defaultdict(set)
    for pid, runs in groups.items():
        corpora[(pid.model_a, pid.model_b)].add(runs[0].config.dataset.name)
    fitted, scored_on, transfer = defaultdict(dict), defaultdict(dict), []
    score_pool = ScorePool(worker_count(cfg.get("score_workers")))
    with EmbeddingStore(Path(cfg.chroma_dir)) as store:
        for pid, runs in groups.items():
            pair = load_pair(runs[0], cfg.paths.embedding_cache_dir)
            log.info("analysing %s on %s: %d run(s)", pid.name, pid.dataset, len(runs))
            natives = sync_native(store, pair, pid, already=set(collections))
            collections += natives.values()
            queries, pool = search_sets(pair)
            queries_a, queries_b = vectors_of(pair, "a", queries), vectors_of(pair, "b", queries)
            settings_key = score_settings(cfg)

            def untranslated():
                scores, per_text = untranslated_scores(pair.native_a, pair.native_b,
                                                       pair.paired.target[pair.paired.rows("train")], cfg.metrics)
                searches = reference_searches(store, natives["a"], natives["b"], queries_a, queries_b, queries,
                                              pool, pair.relevant, cfg.retrieval.k)
                return {**scores, "search": searches}, {**per_text, **searches.pop("items")}

            reference, reference_items = cached_scores(
                output_dir / "cache" / pid.folder / "untranslated.json",
                content_hash(pair.native_a, pair.native_b, extra=[settings_key, cfg.retrieval.k, natives, SCORES_VERSION]),
                untranslated)
            items.references[pid] = reference_items
            items.query_clusters[pid] = query_clusters(pair.relevant)
            references[pid.folder] = {k: v for k, v in reference.items() if k != "search"} | {
                "search": reference["search"]["scores"]}
            scored = []
            found = candidates(runs, pair, cfg, sweep.left_out)
            names = [collection_name(pid.dataset, pid.name, c.id.file_name, c.fingerprint) for c in found]
            paths = [output_dir / "cache" / pid.folder / f"{c.id.file_name}.json" for c in found]
            keys = [content_hash(c.vectors, pair.native_b, extra=[settings_key, cfg.retrieval.k, name, SCORES_VERSION])
                    for c, name in zip(found, names)]
            train_size = len(pair.paired.rows("train"))
            on_curve = [sampled(c, train_size) for c in found]
            # Every uncached translator's vector scores start at once, in the workers.
            pending = [None if curve_only or has_cached_scores(path, key)
                       else score_pool.submit(pair.native_b, c.vectors, cfg.metrics)
                       for c, path, key, curve_only in zip(found, paths, keys, on_curve)]
            for candidate, name, path, key, vector_scores, curve_only in zip(found, names, paths, keys, pending, on_curve):
                if curve_only:
                    result, per_item = cached_scores(path, key, lambda: curve_scores(
                        pair, candidate, queries, queries_b, pool, reference["search"], cfg))
                else:
                    sync_translated(store, name, pair, pid, candidate)
                    collections.append(name)
                    result, per_item = cached_scores(
                        path, key,
                        lambda: score_candidate(store, name, pair, candidate, queries, queries_b, pool,
                                                reference["search"], cfg, vector_scores),
                    )
                items.translators[(pid, candidate.id)] = per_item
                scored.append((candidate, result))
                rows.append(result_row(pid, candidate, result, reference, train_size))
            # pictures and worked examples are of translators fitted on every training text
            pictured = chosen([item for item, curve_only in zip(scored, on_curve) if not curve_only],
                              cfg.figures.translators, cfg.figures.run_seed)
            for candidate, result in pictured:
                label = f"{pid.name} {candidate.id.run_label}"
                figures.umap(pid.folder, candidate, pair, label)
                figures.kernels(pid.folder, candidate, pair, label)
                examples[f"{pid.folder}/{candidate.id.run_label}"] = worked_examples(
                    reference["search"]["native_ranking"], result["ranking"], pair.relevant, pair.test_texts,
                    cfg.retrieval.examples, cfg.retrieval.k)
            models = (pid.model_a, pid.model_b)
            if len(corpora[models]) > 1:
                corpus = runs[0].config.dataset.name
                scored_on[models][corpus] = ScoredOn.of(corpus, pair, cfg.retrieval.k)
                fitted[models][corpus] = [transferable(c, pair, cfg) for c, curve_only in zip(found, on_curve)
                                          if not curve_only]
                if len(scored_on[models]) == len(corpora[models]):  # every corpus of the pair seen: score, let go
                    transfer += transfer_rows(f"{models[0]}-to-{models[1]}", *models, fitted.pop(models),
                                              scored_on.pop(models), cfg.retrieval.k)
            # the report's one kernel figure of the pair: both native spaces and (at most) two translators
            figures.kernel_grid(pid.folder, pair, [(f"native A ({pid.model_a})", pair.native_a),
                                                   (f"native B ({pid.model_b})", pair.native_b),
                                                   *[(c.id.run_label, c.vectors) for c, _ in pictured[:2]]],
                                pid.title)

    results = pd.DataFrame(rows)
    analysis = Analysis(output_dir, sweep, results, items, references=references, examples=examples,
                        figures=figures.written, collections=collections, chroma_dir=Path(cfg.chroma_dir),
                        transfer=transfer)
    write_outputs(analysis, cfg, figures)
    analysis.seconds = round(time.perf_counter() - started, 1)
    return analysis


def transferable(candidate: Candidate, pair: PairData, cfg: DictConfig) -> Fitted:
    """The candidate as a map of vectors: a run's kept weights (read when scored), or the closed form fitted here
    (taken now: the map is small, and the pair's data need not be kept for it)."""
    tid = candidate.id
    if candidate.run is None:
        mapped = pair.closed_form_map(tid.arch, closed_form_config(cfg, tid.arch))
        return Fitted(tid.label, tid.seed, tid.kind, lambda: mapped)
    run_dir = candidate.run.run_dir
    return Fitted(tid.label, tid.seed, tid.kind, lambda: Translator.from_run(run_dir).translate)


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
    ids = translator_ids([run for run, _ in readable])
    found = [Candidate(ids[run.key], vectors, run) for run, vectors in readable]
    for name in cfg.baselines:
        config = closed_form_config(cfg, name)
        found.append(Candidate(TranslatorId(name, kind=CLOSED_FORM), pair.closed_form(name, config),
                               val_ndcg=pair.closed_form_validation(name, config)))
    return found


def translator_ids(runs: list[Run]) -> dict[str, TranslatorId]:
    """Each run's translator, by run key. Runs that differ only by seed are one translator at several
    seeds; runs of one arch and width that differ in something else (a swept loss, init, learning
    rate...) are told apart by the settings that differ, e.g. ``linear@init=lstsq,loss=mse+infonce``
    (their jobs column says which overrides made each)."""
    groups = defaultdict(list)
    for run in runs:
        groups[(run.info["arch"], run.info.get("width"))].append(run)
    ids = {}
    for (arch, width), group in groups.items():
        variants = variant_labels(group)
        for run in group:
            ids[run.key] = TranslatorId(arch, width, TRAINED, variants[run.key], run.info.get("seed"))
    # Runs the config cannot tell apart (a copied run folder): each keeps its own label, by fingerprint.
    taken = defaultdict(list)
    for key, tid in ids.items():
        taken[tid].append(key)
    for tid, keys in taken.items():
        for key in keys if len(keys) > 1 else []:
            ids[key] = TranslatorId(tid.arch, tid.width, TRAINED, key[:6], tid.seed)
    return ids


# Settings that never tell two translators apart: the seed, and what the run fingerprint leaves out
# (where a run writes, how it logs, the references scored beside it).
NOT_A_VARIANT = ("seed", *NOT_IN_FINGERPRINT)


def variant_labels(runs: list[Run]) -> dict[str, str]:
    """By run key: "" when the runs differ only by seed, else the settings in which the run's variant
    differs from the others (`key=value`, by the key's last part where that is unambiguous). Runs whose
    fingerprints differ only by seed are one translator whatever else their configs spell differently
    (a run reused from an older sweep, whose config predates a default), so variants are told apart
    between one run of each such group."""
    groups = defaultdict(list)
    for run in runs:
        settings = fingerprint_settings(run.config)
        settings.pop("seed", None)
        groups[json.dumps(settings, sort_keys=True, default=str)].append(run)
    labels = differing_settings([group[0] for group in groups.values()])
    return {run.key: labels[group[0].key] for group in groups.values() for run in group}


def differing_settings(runs: list[Run]) -> dict[str, str]:
    settings = {run.key: {key: value for key, value in flat_settings(run.config).items()
                          if not any(key == skip or key.startswith(skip + ".") for skip in NOT_A_VARIANT)}
                for run in runs}
    differing = sorted({key for values in settings.values() for key in values
                        if len({json.dumps(other.get(key), default=str) for other in settings.values()}) > 1})
    if not differing:
        return {run.key: "" for run in runs}
    last = [key.rsplit(".", 1)[-1] for key in differing]
    names = {key: short if last.count(short) == 1 else key for key, short in zip(differing, last)}
    # a run on every training text is the translator itself, beside its runs on samples: "linear", not
    # "linear@train_pairs=None"
    return {key: ",".join(f"{names[k]}={values.get(k)}" for k in differing
                          if not (k == "dataset.train_pairs" and values.get(k) is None))
            for key, values in settings.items()}


def flat_settings(config, prefix: str = "") -> dict:
    """A run's config as dotted key -> value."""
    container = OmegaConf.to_container(config, resolve=False) if not isinstance(config, dict) else config
    flat = {}
    for key, value in container.items():
        if isinstance(value, dict):
            flat.update(flat_settings(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def closed_form_config(cfg: DictConfig, name: str) -> DictConfig:
    if name not in cfg.closed_form:
        raise UserError(f"baselines names {name!r}, which is not a closed-form map: use some of "
                        f"{sorted(cfg.closed_form)}")
    return cfg.closed_form[name]


def passages(pair: PairData) -> np.ndarray:
    """Which test texts are passages: the corpus every search runs over, and what each Chroma
    collection holds."""
    return (pair.test_texts["kind"] == "passage").to_numpy()


def search_sets(pair: PairData) -> tuple[list[str], list[str]]:
    """Test queries that have a relevant test passage, and the test passages they search."""
    texts = pair.test_texts
    pool = texts.loc[passages(pair), "id"].astype(str).tolist()
    queries = [q for q in texts.loc[texts["kind"] == "query", "id"].astype(str) if q in pair.relevant]
    return queries, pool


def query_clusters(relevant: dict[str, set[str]]) -> np.ndarray:
    """Each scored query's cluster, in the order of its per-query scores: the passages it is about (queries
    about one plot share it, and are not independent draws)."""
    return np.array(["|".join(sorted(relevant[query])) for query in scored_queries(relevant)])


def vectors_of(pair: PairData, side: str, ids: list[str]) -> np.ndarray:
    position = {text_id: i for i, text_id in enumerate(pair.test_texts["id"].astype(str))}
    native = pair.native_a if side == "a" else pair.native_b
    return native[[position[i] for i in ids]]


def sync_native(store: EmbeddingStore, pair: PairData, pid: PairId, already: set[str]) -> dict[str, str]:
    """A collection per (dataset, model): the test passages as the model embeds them. A model shared by
    several pairs is synced once per analysis (``already`` holds what was)."""
    names = {}
    for side, model, vectors in (("a", pid.model_a, pair.native_a), ("b", pid.model_b, pair.native_b)):
        name = names[side] = collection_name(pid.dataset, model)
        if name not in already:
            sync_passages(store, name, pair, vectors, {"model": model, "dataset": pid.dataset},
                          {"dataset": pid.dataset, "model": model, "space": "native"})
    return names


def sync_translated(store: EmbeddingStore, name: str, pair: PairData, pid: PairId, candidate: Candidate) -> None:
    """The translator's collection: the test passages translated from A into B's space (what a migration
    without re-embedding would store)."""
    common = {"from_model": pid.model_a, "to_model": pid.model_b, "arch": candidate.id.arch,
              "translator": candidate.label}
    if candidate.id.width is not None:
        common["width"] = int(candidate.id.width)
    if candidate.id.seed is not None:
        common["seed"] = int(candidate.id.seed)
    description = {**common, "space": "translated",
                   "run_dir": str(candidate.run.run_dir) if candidate.run else "fitted during analysis"}
    sync_passages(store, name, pair, candidate.vectors, common, description)


def sync_passages(store: EmbeddingStore, name: str, pair: PairData, test_vectors: np.ndarray, common: dict,
                  description: dict) -> None:
    """Store the test passages' rows of ``test_vectors`` (one row per test text), with their texts."""
    rows = passages(pair)
    texts = pair.test_texts[rows]
    metadatas = [{"text_id": str(i), "split": "test", "kind": str(k), "label": str(lab), **common}
                 for i, k, lab in zip(texts["id"], texts["kind"], texts["label"])]
    added = store.sync(name, texts["id"].astype(str).tolist(), test_vectors[rows], metadatas, texts["text"].tolist(),
                       description)
    if added:
        log.info("Chroma: %d vectors added to %s", added, name)


def score_candidate(store, name, pair, candidate, queries, query_vectors, pool, reference_search,
                    cfg, vector_scores: Future | None = None) -> tuple[dict, dict]:
    """The translator's vector scores (from a worker when ``vector_scores`` is its future), its search, the
    search of a partly migrated index, and its stitching accuracy."""
    scores, per_item = (vector_scores.result() if vector_scores is not None
                        else scores_on_one_thread(pair.native_b, candidate.vectors, cfg.metrics))
    ranking = search(store, name, query_vectors, queries, pool, cfg.retrieval.k)
    searched, per_query = translated_search_scores(ranking, reference_search, pair.relevant, cfg.retrieval.k)
    rows = passages(pair)
    mixed, mixed_items = mixed_index_scores(query_vectors, queries, pair.native_b[rows], candidate.vectors[rows], pool,
                                            pair.relevant, shares=tuple(cfg.retrieval.mixed_shares),
                                            k=cfg.retrieval.k, seed=cfg.retrieval.mixed_seed)
    mixed.pop("queries", None)
    stitched, stitched_items = stitching_of(pair, candidate.vectors, cfg)
    return ({**scores, **searched, **mixed, **stitched, "ranking": ranking},
            {**per_item, **per_query, **mixed_items, **stitched_items})


def sampled(candidate: Candidate, train_size: int) -> bool:
    """A run fitted on a sample of the training texts (dataset.train_pairs): a point of a data curve."""
    run = candidate.run
    return run is not None and 0 < run.info.get("paired_texts", train_size) < train_size


def curve_scores(pair, candidate, queries, query_vectors, pool, reference_search, cfg) -> tuple[dict, dict]:
    """A data-curve point's scores: what the curves and the report read of it (MSE and cosine to the target,
    vec2vec's matching, the search's recall and nDCG with retention and gap closed), the search by exact cosine
    rather than through a Chroma collection of its own. A data-scale sweep has hundreds of such runs, and the
    neighbourhoods, CKA, hubness, the half-migrated index and stitching of each took most of its analysis."""
    native, translated = pair.native_b, candidate.vectors
    per_text = {f"test_{name}": values for name, values in
                regression_per_text(torch.from_numpy(translated), torch.from_numpy(native)).items()}
    regression = regression_scores(torch.from_numpy(translated), torch.from_numpy(native))
    matched, matched_items = matching(native, translated, cfg.metrics)
    ranking = exact_search(query_vectors, queries, translated[passages(pair)], pool, cfg.retrieval.k)
    searched, per_query = translated_search_scores(ranking, reference_search, pair.relevant, cfg.retrieval.k)
    return ({"test_mse": regression["mse"], "test_cosine": regression["cosine"], **matched, **searched,
             "ranking": ranking}, {**per_text, **matched_items, **per_query})


def stitching_of(pair: PairData, translated: np.ndarray, cfg: DictConfig) -> tuple[dict, dict]:
    """B's classifier on the translated test vectors, with native B's and raw A's own accuracy beside it;
    nothing when stitching is off or the texts have a single label."""
    classifiers = pair.stitching_classifiers(cfg.stitching.seed) if cfg.stitching.enabled else None
    if classifiers is None:
        return {}, {}
    classifier_b, classifier_a = classifiers
    return stitching_from_classifiers(classifier_b, pair.native_b, translated, pair.test_texts["label"].astype(str),
                                      classifier_a, pair.native_a)


def result_row(pid: PairId, candidate: Candidate, result: dict, reference: dict, train_size: int) -> dict:
    run, tid = candidate.run, candidate.id
    row = {
        "dataset": pid.dataset, "pair": pid.name, "model_a": pid.model_a, "model_b": pid.model_b,
        "translator": tid.label, "seed": tid.seed, "run_label": tid.run_label, "arch": tid.arch, "width": tid.width,
        "hidden": run.info.get("hidden") if run else None, "kind": tid.kind,
        "parameters": run.info.get("parameters") if run else None,
        "run_dir": str(run.run_dir) if run else "", "jobs": " ".join(run.jobs) if run else "",
        # What chose the run's kept epoch on the validation split, and its value there: lets the analysis
        # pick its best trained translator without looking at the test split (summaries.questions).
        **validation_choice(run),
        **({"val_ndcg": candidate.val_ndcg} if run is None else {}),
        # Where and in which number format it trained: comparisons that mix them compare machines too.
        "trained_on": trained_on(run), "precision": run.info.get("precision") if run else None,
        # How many paired texts its fit read (0: unsupervised): the x of the data curve (analysis/data_curve.py).
        # Runs from before the count was recorded read every training text.
        "paired_texts": run.info.get("paired_texts", run.info["split_sizes"]["train"]) if run else train_size,
    }
    row.update({k: v for k, v in result.items() if k != "ranking"})
    row.update({k: v for k, v in reference.items() if k != "search"})
    return row


def trained_on(run) -> str | None:
    """"this machine", or another machine's (a run brought here with tools/gpu_transport.py, whose vectors
    crossed in float16); None for a closed-form map fitted during the analysis."""
    if run is None:
        return None
    return "another machine (vectors via float16)" if (run.run_dir / "transport.json").exists() else "this machine"


def validation_choice(run) -> dict:
    """What chose the run's kept epoch and its value there, and the kept weights' validation nDCG@k
    (recorded whatever the monitor): what the analysis picks translators by, never the test split."""
    monitor = (run.info.get("monitor") or {}) if run else {}
    validation = (run.info.get("validation") or {}) if run else {}
    ndcg = next((value for key, value in validation.items() if key.startswith("ndcg@")), None)
    return {"val_monitor": monitor.get("metric"), "val_score": monitor.get("best"), "val_ndcg": ndcg}


def chosen(scored: list[tuple[Candidate, dict]], wanted, run_seed: int | None) -> list[tuple[Candidate, dict]]:
    """The runs that get pictures and worked examples: of 'best' (the trained translator with the highest
    validation nDCG, averaged over its seeds; the lowest validation MSE where runs have no validation
    search) and/or named translators such as linear or mlp1-x8, the run at ``run_seed`` (null: each
    translator's lowest seed), so a multi-seed study still shows one run each. The test split never chooses."""
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    by_label = defaultdict(list)
    for item in scored:
        by_label[item[0].label].append(item)
    labels = []
    trained = {label: runs for label, runs in by_label.items() if runs[0][0].id.kind == TRAINED}
    for name in wanted:
        if name == "best" and trained:
            best = best_by_validation(trained)
            labels += [best] if best else []
        elif name in by_label:
            labels.append(name)
    picks = []
    for label in dict.fromkeys(labels):
        runs = sorted(by_label[label], key=lambda item: (item[0].id.seed is None, item[0].id.seed or 0))
        at_seed = [item for item in runs if run_seed is None or item[0].id.seed in (run_seed, None)]
        if at_seed:
            picks.append(at_seed[0])
    return picks


def headline_translators(tables: dict) -> list[str]:
    """The translators the report's heatmaps show: the closed forms, and the best trained translator as the
    comparisons chose it (on validation where runs allow)."""
    translators = tables["translators"]
    shown = list(dict.fromkeys(translators.loc[translators["kind"] == CLOSED_FORM, "translator"]))
    comparisons = tables["comparisons"]
    learned = comparisons.loc[comparisons["family"] == "learned vs closed form", "first"] if len(comparisons) else []
    return shown[:2] + list(dict.fromkeys(learned))[:1]


def best_by_validation(trained: dict[str, list[tuple[Candidate, dict]]]) -> str | None:
    """The trained translator with the highest mean validation nDCG when every one has it, else the lowest
    mean validation MSE (the monitor's best, where the monitor is val/mse); None when neither is known."""
    def mean_of(runs, value):
        values = [value(candidate) for candidate, _ in runs]
        return float(np.mean(values)) if values and all(v is not None for v in values) else None

    ndcg = {label: mean_of(runs, lambda c: validation_choice(c.run)["val_ndcg"]) for label, runs in trained.items()}
    if all(v is not None for v in ndcg.values()):
        return max(ndcg, key=ndcg.get)
    mse = {label: mean_of(runs, lambda c: validation_choice(c.run)["val_score"]
                          if validation_choice(c.run)["val_monitor"] == "val/mse" else None)
           for label, runs in trained.items()}
    return min(mse, key=mse.get) if all(v is not None for v in mse.values()) else None


def write_outputs(analysis: Analysis, cfg: DictConfig, figures) -> None:
    analysis.tables = build_tables(analysis.results, analysis.items, Settings(**cfg.intervals))
    analysis.tables["unpaired_failures"] = unpaired_failures(analysis.sweep.sweep_dir)
    analysis.tables["transfer"] = transfer_table(analysis.transfer, cfg.retrieval.k)
    analysis.tables["published"] = published_table(analysis.results, analysis.tables["unpaired_failures"])
    for note in analysis.tables["seeds_left_out"]["note"]:
        log.warning("left out of a comparison: %s", note)
    write_tables(analysis.tables, analysis.output_dir / "tables")
    figures.mse_vs_width(analysis.tables["translators"], analysis.results)
    figures.retention_vs_width(analysis.tables["translators"])  # each adds to figures.written,
    figures.ndcg_matrix(analysis.tables["ndcg_matrix"], headline_translators(analysis.tables))  # = analysis.figures
    figures.data_curve(analysis.tables["data_curve"], analysis.tables["unpaired_failures"])
    for key, examples in analysis.examples.items():
        write_if_changed(analysis.output_dir / "examples" / f"{file_name(key)}.json", json.dumps(examples, indent=1))
        write_if_changed(analysis.output_dir / "examples" / f"{file_name(key)}.md", examples_markdown(key, examples))
    summary = {
        "sweep_dir": str(analysis.sweep.sweep_dir),
        "left_out": analysis.sweep.left_out,
        "skipped": analysis.sweep.skipped,
        # comparisons made at the seeds both sides have: what each left out (tables/seeds_left_out.csv)
        "seeds_left_out": analysis.tables["seeds_left_out"]["note"].tolist(),
        "chroma_dir": str(cfg.chroma_dir),
        "collections": sorted(set(analysis.collections)),
        "references": analysis.references,
        "results": json.loads(analysis.results.to_json(orient="records", double_precision=15)),
        "tables": sorted(str(p.relative_to(analysis.output_dir)) for p in (analysis.output_dir / "tables").iterdir()),
        "figures": sorted(str(p.relative_to(analysis.output_dir)) for p in analysis.figures),
        "examples": sorted(analysis.examples),
    }
    write_if_changed(analysis.output_dir / "analysis.json", json.dumps(summary, indent=1))
