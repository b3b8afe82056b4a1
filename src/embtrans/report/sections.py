"""The report's sections as template context: tables of linked values, figures and worked searches.

Everything shown is read from the ReportInput; which metric columns exist (k of Jaccard@k, k of
nDCG@k) is found from the results, so a sweep analysed with other settings still reports.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd

from embtrans.analysis.identifiers import TRAINED, PairId, file_name
from embtrans.metrics.registry import aggregated, reference_of, title_of
from embtrans.report.content import Figure, Markdown, Section, Sources, Table, counted, source_anchor
from embtrans.report.inputs import ReportInput
from embtrans.report.trusted_html import anchor_html
from embtrans.report.values import Value

# What was found comes first (in short, results, conclusion); how it was measured, the pictures and the
# worked examples after: a reader meets the first number on the first screen.
SECTIONS = [
    Section("introduction", "1. What was done"),
    Section("results", "2. Results"),
    Section("conclusion", "3. Conclusion"),
    Section("measured", "4. How it was measured"),
    Section("kernels", "5. Are the kernel matrices different?"),
    Section("examples", "6. Example searches"),
    Section("umap", "7. UMAP pictures"),
    Section("glossary", "Glossary"),
    Section("sources", "Appendix: where every number comes from"),
]
# Every term the report uses without defining it where it stands.
GLOSSARY = [
    ("nDCG@k", "normalised discounted cumulative gain of the top k results: 1 when every relevant passage is ranked "
               "first, less the lower they sit; the mean over B's test queries"),
    ("native B", "the passages embedded by model B itself: the search a migration aims for (the ceiling)"),
    ("floor", "the expected score of a random ranking of the passages, in exact expectation: one definition on "
              "every pair"),
    ("raw A in B's index", "B's queries over A's untranslated passage vectors, only where the dimensions match"),
    ("retention", "translated score ÷ native B's score"),
    ("gap closed", "(translated − floor) ÷ (native B − floor): the share of the floor-to-native gap recovered"),
    ("half-migrated index", "one index with half the passages translated from A and half native B, searched by "
                            "B's queries; translated share@k is how much of the top k is translated"),
    ("stitching accuracy", "a classifier trained on native B vectors, scored on translated ones"),
    ("hubness", "skewness of the k-occurrence distribution: how unevenly texts appear in others' k nearest lists"),
    ("Jaccard@k", "shared ÷ either of a text's k nearest neighbours in native B and in the translated space"),
    ("RBO_ext@k", "rank-biased overlap of two neighbour lists, extrapolated (Webber, Moffat & Zobel 2010)"),
    ("k-NN edit similarity@k", "1 − the edit distance between two ordered neighbour lists, over k"),
    ("CKA", "centred kernel alignment of two spaces' similarity matrices (0: unrelated, 1: the same up to rotation "
            "and scale)"),
    ("top-k matching, MRR, mean rank", "each translated vector ranks every native B test vector: whether its own "
                                       "text's is among the first k, the mean of 1 ÷ its rank, and the mean rank"),
    ("×8 (width)", "an MLP's hidden units as a multiple of min(d_A, d_B)"),
    ("@seed0", "one training run of a translator, at that seed"),
    ("lstsq, Procrustes", "closed-form maps: least squares (ridge, alpha chosen on validation), and the orthogonal "
                          "map that best rotates A onto B"),
    ("on these pairs", "an interval that resamples the test items (queries in clusters) and seeds of the pairs "
                       "studied, which stay fixed"),
    ("across pairs", "an interval that resamples the pairs first (a hierarchical bootstrap): a claim about "
                     "translators beyond the pairs studied"),
    ("sign test over pairs", "how likely as many pairs would agree on the direction of a difference by chance"),
]
SNIPPET_CHARS = 280
# The summary table's columns, in this order (registry templates); every other metric has its own section.
SUMMARY_COLUMNS = ["ndcg@{k}", "mixed50_ndcg@{k}", "stitch_accuracy", "test_cosine", "jaccard@{k}", "top{k}_accuracy",
                   "cka_linear", "hubness_skew@{k}"]


def metric_ks(results: pd.DataFrame, pattern: str) -> list[int]:
    return sorted(int(m.group(1)) for c in results.columns if (m := re.fullmatch(pattern, c)))


class ReportSections:
    """Reads the analysis' tables: ``results`` (one row per run), ``summary`` (per translator and pair over
    its seeds, with intervals), ``aggregate`` (per translator over pairs) and ``comparisons``."""

    def __init__(self, report: ReportInput, report_dir: Path, examples_per_pair: int = 2):
        self.report = report
        self.results = report.results
        self.summary = report.translators
        self.sources = Sources(report, report_dir)
        self.report_dir = Path(report_dir)
        self.examples_per_pair = examples_per_pair
        self.pairs = list(dict.fromkeys(zip(self.results["dataset"], self.results["pair"])))
        self.pair_ids = {(d, p): PairId(d, a, b) for d, p, a, b in
                         self.results[["dataset", "pair", "model_a", "model_b"]].itertuples(index=False)}
        self.translators = list(dict.fromkeys(self.summary["translator"]))
        self.knn_ks = metric_ks(self.results, r"jaccard@(\d+)")  # every k the analysis ran with
        self.knn_k = (self.knn_ks or [None])[0]  # the one the by-pair tables show
        self.retrieval_k = (metric_ks(self.results, r"ndcg@(\d+)") or [None])[0]
        self.seeds = int(self.summary["seeds"].max()) if len(self.summary) else 1

    # -- shared pieces ---------------------------------------------------------------------------------

    def pair_title(self, dataset: str, pair: str) -> str:
        several = len({d for d, _ in self.pairs}) > 1
        return self.pair_ids[(dataset, pair)].title + (f" ({dataset})" if several else "")

    def model_b(self, dataset: str, pair: str) -> str:
        return self.pair_ids[(dataset, pair)].model_b

    def rows_of(self, translator: str) -> pd.DataFrame:
        """Every run of the translator: one per pair and seed."""
        return self.results[self.results["translator"] == translator]

    def row(self, dataset: str, pair: str, translator: str):
        """The translator on one pair, over its seeds (the translators table's row)."""
        found = self.summary[(self.summary["dataset"] == dataset) & (self.summary["pair"] == pair)
                             & (self.summary["translator"] == translator)]
        return None if found.empty else found.iloc[0]

    def run_row(self, dataset: str, pair: str, run_label: str):
        found = self.results[(self.results["dataset"] == dataset) & (self.results["pair"] == pair)
                             & (self.results["run_label"] == run_label)]
        return None if found.empty else found.iloc[0]

    def pair_rows(self) -> pd.DataFrame:
        """One row per pair: where its before-translation references are read."""
        return self.results.drop_duplicates(["dataset", "pair"])

    def first_row(self, dataset: str, pair: str):
        return self.results[(self.results["dataset"] == dataset) & (self.results["pair"] == pair)].iloc[0]

    def by_pair(self, metric: str, style: str = "fraction", references: list[tuple[str, str]] = (),
                caption: str = "", mean: bool = True) -> Table:
        """Translators × pairs, with before-translation references as extra rows and a mean column."""
        header = ["translator", *(self.pair_title(d, p) for d, p in self.pairs)] + (["mean over pairs"] if mean else [])
        rows = []
        for translator in self.translators:
            cells = [self.sources.summarised(r, metric, style) if (r := self.row(d, p, translator)) is not None else "–"
                     for d, p in self.pairs]
            rows.append([translator, *cells] + ([self.over_pairs(translator, metric, style)] if mean else []))
        for label, reference in references:
            cells = [self.sources.reference(self.first_row(d, p), reference, style) for d, p in self.pairs]
            rows.append([f"{label} (reference)", *cells] + ([""] if mean else []))
        table = Table(header, rows, caption)
        return transposed(table, "pair") if len(self.pairs) > PAIR_COLUMNS else table

    def over_pairs(self, translator: str, metric: str, style: str) -> Value:
        """The translator's mean over pairs as the analysis' aggregate table has it (with its interval), or,
        for a metric not summarised there, the plain mean of the pairs' values."""
        aggregate = self.report.aggregate
        found = aggregate[aggregate["translator"] == translator] if f"{metric}_mean" in aggregate else aggregate[:0]
        if len(found):
            return self.sources.aggregated(found.iloc[0].to_dict(), metric, style)
        return self.sources.mean(self.summary[self.summary["translator"] == translator], metric, style)

    def figures_of(self, kind: str) -> dict[tuple[str, str, str], Path]:
        """(dataset, pair, run label) -> the analysis' figure of that kind (figures are of one run)."""
        names = {(d, p, file_name(t)): t for d, p, t in zip(self.results["dataset"], self.results["pair"],
                                                             self.results["run_label"])}
        found = {}
        for path in self.report.figures:
            parts = path.parts
            if kind in parts and len(parts) >= 3:
                dataset, pair, stem = parts[-3], parts[-2], path.stem
                if (dataset, pair, stem) in names:
                    found[(dataset, pair, names[(dataset, pair, stem)])] = path
        return found

    # -- 1. introduction -----------------------------------------------------------------------------

    def introduction(self) -> dict:
        report = self.report
        trained = self.results[self.results["kind"] == "trained"]
        datasets = Table(["dataset", "what it is", "texts used", "train / val / test"], [
            [info["name"], info["description"],
             self.sources.make(sum(info["split_sizes"].values()) if info["split_sizes"] else None, "count"),
             " / ".join(f"{info['split_sizes'].get(s, 0):,}" for s in ("train", "val", "test"))]
            for info in report.datasets.values()])
        models = Table(["model", "what it is", "dimension"],
                       [[name, m["description"], str(m["dim"])] for name, m in sorted(report.models.items())])
        family = []
        for translator in self.translators:
            rows = self.rows_of(translator)
            first = rows.iloc[0]
            hidden = pd.to_numeric(rows["hidden"], errors="coerce").dropna()
            params = pd.to_numeric(rows["parameters"], errors="coerce").dropna()
            family.append([
                translator, first["kind"],
                f"{int(hidden.min()):,}–{int(hidden.max()):,}" if len(hidden) and hidden.min() != hidden.max()
                else (f"{int(hidden.iloc[0]):,}" if len(hidden) else "–"),
                f"{int(params.min()):,}–{int(params.max()):,}" if len(params) and params.min() != params.max()
                else (f"{int(params.iloc[0]):,}" if len(params) else "closed form"),
                str(rows["pair"].nunique()), str(rows.groupby("pair").size().max()),
            ])
        scope, missing = self.scope(trained)
        return {
            "scope": scope, "missing": missing, "cut": cut_jobs(report.skipped),
            "notes": Markdown(report.notes) if report.notes else None,
            "trained": counted(trained["translator"].nunique(), "trained translator"),
            "runs": counted(len(trained), "training run"), "pairs": counted(len(self.pairs), "model pair"),
            "sampled": counted(report.sampled_runs, "run") if report.sampled_runs else "",
            "protocol": report.protocol,
            "datasets": datasets, "models": models,
            "family": Table(["translator", "kind", "hidden units", "parameters", "pairs", "seeds"], family),
            "seeds": self.seeds, "seed_list": sorted({int(s) for s in self.results["seed"].dropna()}),
            "directions": [self.pair_title(d, p) for d, p in self.pairs],
        }

    def scope(self, trained: pd.DataFrame) -> tuple[Table, list[str]]:
        """Per trained translator: its runs, where and how long they trained, how they stopped; and the
        pairs where it has fewer runs than the study's seeds (a cut, a failure or a run never made)."""
        rows, missing = [], []
        seeds = sorted({int(s) for s in trained["seed"].dropna()})
        for translator in dict.fromkeys(trained["translator"]):
            runs = trained[trained["translator"] == translator]
            facts = [self.report.runs[d] for d in dict.fromkeys(runs["run_dir"]) if d in self.report.runs]
            machines = sorted({("another machine's GPU" if f.transported else "this machine")
                               + (f" ({f.precision})" if f.precision else "") for f in facts})
            epochs = sorted(f.epochs for f in facts if f.epochs is not None)
            stops = pd.Series([f.stopped_by or "?" for f in facts]).value_counts()
            seconds = sum(f.seconds or 0.0 for f in facts)
            rows.append([translator, str(len(facts)), str(runs["pair"].nunique()), ", ".join(machines),
                         f"{epochs[len(epochs) // 2]} ({epochs[0]}–{epochs[-1]})" if epochs else "–",
                         ", ".join(f"{reason} {count}" for reason, count in stops.items()),
                         self.sources.make(seconds / 60, "rank", f"#{source_anchor(translator)}",
                                           f"{translator}: minutes of training, added up over its runs (appendix)")])
            # a corpus the translator has no run on is not its grid (e.g. a data-scale corpus fitting samples only)
            for dataset, pair in [(d, p) for d, p in self.pairs if d in set(runs["dataset"])]:
                have = sorted({int(s) for s in runs.loc[(runs["dataset"] == dataset) & (runs["pair"] == pair), "seed"].dropna()})
                if len(have) < len(seeds):
                    seeds_had = f"seed{'s' if len(have) > 1 else ''} {', '.join(map(str, have))} only"
                    missing.append(f"{translator}, {self.pair_title(dataset, pair)}: " + (seeds_had if have else "no run"))
        return Table(["translator", "runs", "pairs", "trained on (number format)", "epochs: median (range)",
                      "stopped by", "job time (min)"], rows,
                     "Read from each run's metrics.json (linked in the appendix): epochs run, why training stopped, "
                     "seconds of training; job time adds up the runs, which ran in parallel."), missing

    # -- 3. kernel matrices and CKA ------------------------------------------------------------------

    def kernels(self) -> dict:
        entries = []
        for path in self.report.figures:  # one grid per pair: native A, native B, the pictured translators
            if path.name.startswith("kernel_grid") and len(path.parts) >= 3:
                dataset, pair = path.parts[-3], path.parts[-2]
                if (dataset, pair) in self.pair_ids:
                    title = self.pair_title(dataset, pair)
                    entries.append({"title": title, "figure": self.sources.figure(
                        path, f"Cosine-similarity matrices of {title}",
                        f"{title}: cosine similarities among one sample of test texts (sorted by label) in native A, "
                        f"native {self.model_b(dataset, pair)} and the translated spaces, on one colour scale.")})
        rows = []
        pictured = {(d, p, t) for d, p, t in self.figures_of("kernels")}
        for dataset, pair in self.pairs:
            for translator in self.results["run_label"].drop_duplicates():
                row = self.run_row(dataset, pair, translator)
                # the pictured runs and the closed-form references; section 5 has every translator
                if (row is None or "cka_linear" not in row
                        or (row["kind"] == TRAINED and (dataset, pair, translator) not in pictured)):
                    continue
                cells = []
                for kernel in ("linear", "rbf"):
                    if f"cka_{kernel}" in row:
                        cells += [self.sources.value(row, f"cka_{kernel}"),
                                  self.sources.value(row, f"cka_{kernel}_null_p95"),
                                  self.sources.value(row, f"cka_{kernel}_p_value", "p_value")]
                rows.append([self.pair_title(dataset, pair), translator, *cells])
            first = self.first_row(dataset, pair)
            rows.append([self.pair_title(dataset, pair), "untranslated A (reference)",
                         *[cell for kernel in ("linear", "rbf") if f"untranslated_cka_{kernel}" in first
                           for cell in (self.sources.reference(first, f"untranslated_cka_{kernel}"),
                                        self.sources.reference(first, f"untranslated_cka_{kernel}_null_p95"),
                                        self.sources.reference(first, f"untranslated_cka_{kernel}_p_value", "p_value"))]])
        header = ["pair", "translator"]
        for kernel in ("linear", "rbf"):
            if f"cka_{kernel}" in self.results:
                header += [f"{kernel} CKA", "null 95th pct.", "p"]
        return {"entries": entries, "table": Table(header, rows)}

    # -- 4. example searches -------------------------------------------------------------------------

    def examples(self) -> list[dict]:
        shown = []
        by_pair = defaultdict(list)
        for key, queries in self.report.examples.items():
            dataset, pair, translator = key.split("/", 2)
            by_pair[(dataset, pair)].append((translator, queries))
        for (dataset, pair), candidates in by_pair.items():
            # the most accurate trained translator that has examples: what a migration would use
            def error(item):
                row = self.run_row(dataset, pair, item[0])
                return (row is None or row["kind"] != TRAINED, row["test_mse"] if row is not None else 0)
            translator, queries = min(candidates, key=error)
            if not queries:
                continue
            row = self.run_row(dataset, pair, translator)
            picks = spread_indices(len(queries), self.examples_per_pair)
            shown.append({
                "title": f"{self.pair_title(dataset, pair)}, {translator}",
                "model_b": self.model_b(dataset, pair),
                "queries": [self.example(queries[i], row) for i in picks],
            })
        return shown

    def example(self, example: dict, row) -> dict:
        def docs(items):
            return [{"text": self.sources.text(snippet(d["text"])), "relevant": bool(d.get("relevant"))}
                    for d in items]
        return {
            "query": self.sources.text(snippet(example["query"])),
            "jaccard": self.sources.make(example.get("jaccard"), "fraction", self.sources.of_row(row),
                                         "Jaccard of the two top-k lists for this query"),
            "relevant": docs(example.get("relevant", [])), "both": docs(example.get("both", [])),
            "only_native": docs(example.get("only_native", [])),
            "only_translated": docs(example.get("only_translated", [])),
        }

    # -- 5. aggregates -------------------------------------------------------------------------------

    def aggregates(self) -> dict:
        knn, rk = self.knn_k, self.retrieval_k
        out = {
            "mse": self.by_pair("test_mse", "mse", [("mean target vector", "mean_vector_mse")], mean=False),
            "mse_figures": [self.sources.figure(p, "Test MSE against hidden units",
                                                "Test MSE against the translator's hidden units, one panel per pair; "
                                                "closed-form maps and the mean-vector baseline as horizontal lines.")
                            for p in self.report.figures if p.name.startswith("mse_vs_width")],
            "summary": self.summary_table(),
            "knn_k": knn, "retrieval_k": rk,
        }
        if knn:
            out["knn"] = self.by_pair(f"jaccard@{knn}", references=[("untranslated A", f"untranslated_jaccard@{knn}"),
                                                                    ("chance", f"untranslated_chance_jaccard@{knn}")])
            out["rbo"] = self.by_pair(f"rbo@{knn}", references=[("untranslated A", f"untranslated_rbo@{knn}")])
        if "cka_linear" in self.results:
            out["cka"] = self.by_pair("cka_linear", references=[("untranslated A", "untranslated_cka_linear")])
        if knn and f"knn_edit_similarity@{knn}" in self.summary:
            out["edit"] = self.by_pair(f"knn_edit_similarity@{knn}",
                                       references=[("untranslated A", f"untranslated_knn_edit_similarity@{knn}")])
        if rk and f"ndcg@{rk}" in self.summary:
            out["ndcg"] = self.by_pair(f"ndcg@{rk}", references=[("native B", f"ndcg@{rk}_native"),
                                                                 ("floor (random ranking)", f"ndcg@{rk}_floor")])
            out["ndcg_figures"] = [self.sources.figure(p, f"Absolute nDCG@{rk}, source × target",
                                                       f"nDCG@{rk} of B's test queries over translated passages, "
                                                       "source model (rows) into target model (columns); the "
                                                       "diagonal is each model's own search.")
                                   for p in self.report.figures if p.name.startswith("ndcg_matrix")]
        if rk and f"mixed50_ndcg@{rk}" in self.summary:
            out["mixed"] = self.by_pair(f"mixed50_ndcg@{rk}", references=[("native B", f"ndcg@{rk}_native")])
            out["mixed_share"] = self.by_pair(f"mixed50_translated_share@{rk}")
        if "stitch_accuracy" in self.summary:
            out["stitching"] = self.by_pair("stitch_accuracy", references=[
                ("native B", "stitch_accuracy_native"), ("A's own classifier", "stitch_accuracy_source")])
        hubness = next((c for c in self.results.columns if re.fullmatch(r"hubness_skew@\d+", c)), None)
        if hubness and hubness in self.summary:
            k = hubness.split("@")[1]
            out["hubness_k"] = k
            out["hubness"] = self.by_pair(hubness, "statistic", references=[("native B", f"native_hubness_skew@{k}"),
                                                                        ("raw A", f"untranslated_hubness_skew@{k}")])
        if rk:
            out["retention"] = self.by_pair(f"ndcg@{rk}_retention")
            out["retention_figures"] = [
                self.sources.figure(p, f"nDCG@{rk} retention against width, per pair",
                                    f"nDCG@{rk} retention against the translator's hidden units, one panel per pair, "
                                    "mean over seeds with its 95 % interval; closed-form maps and width-free "
                                    "translators as horizontal lines (off-scale ones named at the edge).")
                for p in self.report.figures if p.name.startswith("retention_vs_width")]
            out["gap_closed"] = self.by_pair(f"ndcg@{rk}_gap_closed")
            out["retrieval_refs"] = self.retrieval_references(rk)
        if "top1_accuracy" in self.results:
            out["matching"] = self.by_pair("top1_accuracy")
            if "vec2vec_top1_accuracy" in self.summary:
                out["matching_vec2vec"] = self.by_pair("vec2vec_top1_accuracy")
            out["matching_pool"] = self.sources.make(self.results["matching_pool"].max(), "count")
            if "mrr" in self.summary and "mean_rank" in self.summary:
                out["mrr"] = self.by_pair("mrr")
                out["mean_rank"] = self.by_pair("mean_rank", "rank")
        return out

    def summary_table(self) -> Table:
        """One row per translator: every comparable metric over pairs (the analysis' aggregate table), baselines
        last: mean ± standard deviation over pairs, and the 95 % interval of the mean."""
        aggregate = self.report.aggregate
        metrics = [(metric, column) for metric, column in
                   aggregated([c.removesuffix("_mean") for c in aggregate.columns if c.endswith("_mean")])
                   if aggregate[f"{column}_mean"].notna().any()]
        # The headline columns, at the smallest k of each, so the table fits the page; the sections below and
        # tables/aggregate.csv have every one.
        firsts, shown = set(), []
        for metric, column in metrics:
            if metric.column in SUMMARY_COLUMNS and metric.column not in firsts:
                firsts.add(metric.column)
                shown.append((metric, column))
        metrics = sorted(shown, key=lambda pair: SUMMARY_COLUMNS.index(pair[0].column))
        rows = []
        for row in aggregate.to_dict("records"):  # not itertuples: "jaccard@10_mean" is no attribute name
            rows.append([row["translator"], str(row["pairs"]), str(row["seeds"]),
                         *(self.sources.aggregated(row, column, metric.style) for metric, column in metrics)])
        reference_row = ["before translation (reference)", str(len(self.pairs)), "–"]
        first_rows = self.pair_rows()
        for _, column in metrics:
            reference = reference_of(column)
            reference_row.append(self.sources.spread(first_rows, reference, anchor="sources")
                                 if reference and reference in first_rows else "")
        rows.append(reference_row)
        return Table(["translator", "pairs", "seeds", *(title_of(column) for _, column in metrics)], rows,
                     "Each pair's mean over seeds, averaged over pairs: mean ± standard deviation over pairs, then the "
                     "95 % interval of that mean on these pairs (a bootstrap over every pair's test texts, or queries "
                     "in clusters, and seeds; for CKA, a t interval over seeds; tables/aggregate.csv adds the interval "
                     "across pairs). References: native B for search and stitching, the mean target vector for "
                     "cosine, raw A vectors (untranslated) for neighbourhoods and CKA.")

    def retrieval_references(self, k: int) -> Table:
        rows = []
        for dataset, pair in self.pairs:
            first = self.first_row(dataset, pair)
            rows.append([self.pair_title(dataset, pair),
                         self.sources.reference(first, f"ndcg@{k}_native"),
                         self.sources.reference(first, f"ndcg@{k}_floor"),
                         self.sources.reference(first, f"ndcg@{k}_untranslated")
                         if f"ndcg@{k}_untranslated" in first and pd.notna(first.get(f"ndcg@{k}_untranslated")) else "—",
                         self.sources.reference(first, f"ndcg@{k}_source"),
                         self.sources.make(first.get("retrieval_queries"), "count"),
                         self.sources.make(first.get("retrieval_pool"), "count")])
        return Table(["pair", f"native nDCG@{k} (ceiling)", f"floor nDCG@{k} (random ranking)",
                      f"raw A in B's index nDCG@{k}", f"A's own nDCG@{k}", "queries", "passages searched"], rows,
                     "The floor of gap closed is a random ranking's expected score on every pair; raw A (B's "
                     "queries over A's passages, not translating) only exists where the dimensions match (— elsewhere).")

    # -- 6. UMAP -------------------------------------------------------------------------------------

    def umap(self) -> list[Figure]:
        return [self.sources.figure(path, f"UMAP of {self.pair_title(d, p)}, {t}",
                                    f"{self.pair_title(d, p)}, {t}: native {self.model_b(d, p)} test vectors (dots) "
                                    f"and translated ones (crosses) in one UMAP projection fitted on the native "
                                    "vectors; colours are the texts' labels.")
                for (d, p, t), path in self.figures_of("umap").items()]

    # -- appendix ------------------------------------------------------------------------------------

    def appendix(self) -> Table:
        rows = []
        ordered = self.results.assign(order=self.results["translator"].map(self.translators.index)).sort_values(
            ["order", "dataset", "pair", "seed"], kind="stable")
        seen = set()
        for _, row in ordered.iterrows():
            translator = row["translator"]
            anchor = "" if translator in seen else anchor_html(source_anchor(translator))
            seen.add(translator)
            source = self.sources.of_row(row)
            facts = self.report.runs.get(row.get("run_dir"))
            if self.report.placeholder or source is None:
                link = self.sources.text("(no run yet)")
            elif row["kind"] == "trained":
                link = self.sources.link(Path(row["run_dir"]).name, source)
            else:
                link = self.sources.link("fitted during analysis", source)
            wandb = self.sources.link(facts.wandb_dir.name, facts.wandb_dir) if facts and facts.wandb_dir else "–"
            metrics = facts.run_dir / "metrics.json" if facts else None
            seed = "–" if pd.isna(row.get("seed")) else str(int(row["seed"]))
            rows.append([Markdown(anchor + self.sources.text(translator)), seed, self.pair_title(row["dataset"], row["pair"]),
                         link, wandb, self.sources.make(facts.epochs if facts else None, "count", metrics),
                         self.sources.make(facts.seconds if facts else None, "rank", metrics)])
        return Table(["translator", "seed", "pair", "run", "W&B run", "epochs", "seconds"], rows)


# Beyond this many pairs, a translators x pairs table is printed pairs x translators: twenty pairs of
# "mean ± std [low, high]" cells do not fit a page across, and read fine down it.
PAIR_COLUMNS = 8


def transposed(table: Table, corner: str) -> Table:
    """The table with rows and columns swapped; ``corner`` names the new first column."""
    header = [corner, *(str(row[0]) for row in table.rows)]
    rows = [[name, *(row[i] for row in table.rows)] for i, name in enumerate(table.header[1:], start=1)]
    return Table(header, rows, table.caption)


def spread_indices(n: int, wanted: int) -> list[int]:
    """``wanted`` indices from first to last: the examples run from most to least agreement."""
    if n <= wanted:
        return list(range(n))
    if wanted == 1:
        return [0]
    return sorted({round(i * (n - 1) / (wanted - 1)) for i in range(wanted)})


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """One line of at most ``limit`` characters. Datasets' texts carry HTML entities (Rotten Tomatoes'
    "&amp;"): shown as the characters they stand for, which the report then escapes like any text."""
    text = " ".join(html.unescape(str(text)).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def cut_jobs(skipped: list[str]) -> list[str]:
    """The jobs the sweep's cut left out (``job: cut: reason``), one line per reason with its jobs; jobs skipped
    because A and B are one model are no missing runs, and are not listed."""
    by_reason: dict[str, list[str]] = {}
    for line in skipped:
        job, _, reason = line.partition(": ")
        if reason.startswith("cut:"):
            by_reason.setdefault(reason.split(" (cut.", 1)[0], []).append(job)
    return [f"{reason} ({len(jobs)}): {', '.join(jobs)}" for reason, jobs in by_reason.items()]
