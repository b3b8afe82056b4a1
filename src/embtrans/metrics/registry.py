"""Every metric the analysis reports, declared once: the tables, the console summary, the report's
sections, its conclusions and the placeholder all read this list.

A metric that depends on k is declared with ``{k}`` in its column; which k exist comes from the
analysis settings (metrics.knn_ks, metrics.matching_top_ks, retrieval.k) and is found back from the
columns a results table holds, so no caller hard-codes @10.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# How the per-item means make the metric (each is a ratio of means, so a bootstrap resamples items
# once for every array involved):
#   mean        the mean of the metric's own per-item values
#   retention   translated / native (both per query)
#   gap_closed  (translated - floor) / (native - floor)
#   vs_lstsq    the translator's mean squared error over the pair's least-squares map's
STATISTICS = ("mean", "retention", "gap_closed", "vs_lstsq")


@dataclass(frozen=True)
class Metric:
    column: str  # the results column, with {k} where it depends on k
    title: str  # how tables and the report name it, with {k}
    higher_is_better: bool
    style: str  # how a value reads: fraction, ratio, statistic, mse, rank (see report.values.formatted)
    items: str | None  # "texts" or "queries": what a bootstrap resamples; None: no per-item form
    aggregate: bool  # comparable between pairs, so summarised over pairs (raw MSE is not: B's scale)
    reference: str | None = None  # the column of the same score before translation (raw A, mean vector)
    statistic: str = "mean"
    base: str | None = None  # the per-item values it is made of, when not its own column
    description: str = ""
    headline: bool = False  # in analyze.py's console summary

    @property
    def pattern(self) -> re.Pattern:
        return column_pattern(self.column)

    def k_of(self, column: str) -> int | None:
        """The k of a column of this metric, None for a metric without k; raises if not this metric's."""
        found = self.pattern.match(column)
        if not found:
            raise ValueError(f"{column!r} is not a column of {self.column}")
        return int(found.group(1)) if found.groups() else None

    def at(self, k: int | None, template: str | None = None) -> str | None:
        """The template (its column by default) with k filled in."""
        template = self.column if template is None else template
        return None if template is None else template.replace("{k}", str(k))


METRICS: list[Metric] = [
    Metric("test_mse", "test MSE", False, "mse", "texts", False, "mean_vector_mse",
           description="mean squared error to the native B vector, over every coordinate of every test text", headline=True),
    Metric("mse_vs_lstsq", "MSE ÷ lstsq MSE", False, "ratio", "texts", True, statistic="vs_lstsq", base="test_mse",
           description="test MSE over the pair's least-squares map's: scale-free, so comparable between pairs"),
    Metric("test_cosine", "cosine", True, "fraction", "texts", True, "mean_vector_cosine",
           description="mean cosine between translated and native B vectors", headline=True),
    Metric("jaccard@{k}", "Jaccard@{k}", True, "fraction", "texts", True, "untranslated_jaccard@{k}",
           description="Jaccard of each text's k nearest test neighbours in native B and in translated space", headline=True),
    Metric("mutual_knn@{k}", "mutual k-NN@{k}", True, "fraction", "texts", False, "untranslated_mutual_knn@{k}",
           description="shared neighbours / k (Huh et al. 2024)"),
    Metric("rbo@{k}", "RBO_ext@{k}", True, "fraction", "texts", True, "untranslated_rbo@{k}",
           description="rank-biased overlap of the neighbour lists, RBO_ext of Webber, Moffat & Zobel (2010), "
                       "p = metrics.rbo_p"),
    Metric("rbo_normalised@{k}", "normalised truncated RBO@{k}", True, "fraction", "texts", False,
           "untranslated_rbo_normalised@{k}",
           description="Σ p^(d-1) A_d / Σ p^(d-1): the earlier score, not comparable with published RBO"),
    Metric("knn_edit_similarity@{k}", "k-NN edit similarity@{k}", True, "fraction", "texts", False,
           "untranslated_knn_edit_similarity@{k}",
           description="1 - Levenshtein distance of the ordered neighbour lists / k (platonic-rep's edit_distance_knn)"),
    Metric("cka_linear", "linear CKA", True, "fraction", None, True, "untranslated_cka_linear",
           description="centred kernel alignment with native B, linear kernel", headline=True),
    Metric("cka_rbf", "RBF CKA", True, "fraction", None, True, "untranslated_cka_rbf",
           description="centred kernel alignment with native B, RBF kernel"),
    Metric("cka_linear_debiased", "debiased linear CKA", True, "fraction", None, False,
           "untranslated_cka_linear_debiased", description="CKA from the unbiased HSIC estimator"),
    Metric("cka_rbf_debiased", "debiased RBF CKA", True, "fraction", None, False, "untranslated_cka_rbf_debiased",
           description="CKA from the unbiased HSIC estimator"),
    Metric("top{k}_accuracy", "top-{k} matching", True, "fraction", "texts", True,
           description="each translated vector ranks every native B test vector: how often its own text is in "
                       "the first k (translated → native)", headline=True),
    Metric("mrr", "matching MRR", True, "fraction", "texts", False,
           description="mean reciprocal rank of the own text, translated → native"),
    Metric("mean_rank", "matching mean rank", False, "rank", "texts", False,
           description="mean rank of the own text, translated → native"),
    Metric("vec2vec_top{k}_accuracy", "top-{k} matching (vec2vec direction)", True, "fraction", "texts", True,
           description="each native B vector ranks every translated vector, as vec2vec evaluates: how often its "
                       "own text's translation is in the first k (native → translated)"),
    Metric("vec2vec_mrr", "matching MRR (vec2vec direction)", True, "fraction", "texts", False,
           description="mean reciprocal rank, native → translated"),
    Metric("vec2vec_mean_rank", "matching mean rank (vec2vec direction)", False, "rank", "texts", False,
           description="mean rank, native → translated"),
    Metric("recall@{k}", "recall@{k}", True, "fraction", "queries", True, "recall@{k}_native",
           description="B's test queries searching the translated test passages in Chroma"),
    Metric("ndcg@{k}", "nDCG@{k}", True, "fraction", "queries", True, "ndcg@{k}_native",
           description="B's test queries searching the translated test passages in Chroma (absolute: "
                       "retention and gap closed are views of it)", headline=True),
    Metric("recall@{k}_retention", "recall@{k} retention", True, "fraction", "queries", True,
           statistic="retention", base="recall@{k}", description="translated recall@k over native B's"),
    Metric("ndcg@{k}_retention", "nDCG@{k} retention", True, "fraction", "queries", True,
           statistic="retention", base="ndcg@{k}", description="translated nDCG@k over native B's", headline=True),
    Metric("ndcg@{k}_gap_closed", "nDCG@{k} gap closed", True, "fraction", "queries", True,
           statistic="gap_closed", base="ndcg@{k}",
           description="share of the floor → native nDCG@k gap the translated search recovers", headline=True),
    Metric("top{k}_jaccard", "top-{k} Jaccard of searches", True, "fraction", "queries", True,
           description="Jaccard of the top k passages fetched by native and by translated search, per query"),
    Metric("mixed50_ndcg@{k}", "nDCG@{k}, half-migrated index", True, "fraction", "queries", True, "ndcg@{k}_native",
           description="B's queries over one index holding half the passages translated from A (at random, "
                       "seeded) and half native B, as during a live migration (exact cosine search)"),
    Metric("mixed50_translated_share@{k}", "translated share of the top {k}, half-migrated", True, "fraction",
           "queries", False,
           description="of the top k in the half-migrated index, the share that is translated: 0.5 when translated "
                       "and native passages rank alike, lower when translations are pushed out, higher when they flood"),
    Metric("stitch_accuracy", "stitching accuracy", True, "fraction", "texts", True, "stitch_accuracy_native",
           base="stitch_correct",
           description="a logistic regression trained on native B's training vectors classifies the translated "
                       "test vectors (labels: the texts' own)"),
    Metric("hubness_skew@{k}", "hubness (k-occurrence skew)@{k}", False, "statistic", None, True,
           "native_hubness_skew@{k}",
           description="skewness of how often each test text is among the others' k nearest: high means a few "
                       "hubs crowd every neighbourhood (Radovanović et al. 2010)"),
]
BY_COLUMN = {metric.column: metric for metric in METRICS}


@cache
def column_pattern(template: str) -> re.Pattern:
    return re.compile(re.escape(template).replace(re.escape("{k}"), r"(\d+)") + "$")


@cache
def metric_of(column: str) -> Metric | None:
    """The metric a results column belongs to (the most specific match), None for other columns."""
    found = [metric for metric in METRICS if metric.pattern.match(column)]
    return max(found, key=lambda metric: len(metric.column)) if found else None


def present(columns, only: list[Metric] | None = None) -> list[tuple[Metric, str]]:
    """The metric columns among ``columns``, in registry order, smaller k first within a metric."""
    columns = list(columns)
    found = []
    for metric in only if only is not None else METRICS:
        mine = [c for c in columns if metric_of(c) is metric]
        found += [(metric, c) for c in sorted(mine, key=lambda c: metric.k_of(c) or 0)]
    return found


def aggregated(columns) -> list[tuple[Metric, str]]:
    """What is summarised over pairs: the comparable metrics, every k present."""
    return present(columns, [metric for metric in METRICS if metric.aggregate])


def headline(columns) -> list[str]:
    """The columns analyze.py prints at its end."""
    return [c for metric, c in present(columns) if metric.headline]


def ranking_metric(columns) -> str | None:
    """The score translators are compared and ranked by: absolute retrieval nDCG@k when measured (each
    comparison is paired within a pair, so no ratio to the target's own search is needed, and none of
    its denominator's artefacts enter), else top-k matching (smallest k of each)."""
    for template in ("ndcg@{k}", "top{k}_accuracy"):
        found = [c for metric, c in present(columns) if metric.column == template]
        if found:
            return found[0]
    return None


def title_of(column: str) -> str:
    metric = metric_of(column)
    return metric.title.replace("{k}", str(metric.k_of(column))) if metric else column


def reference_of(column: str) -> str | None:
    metric = metric_of(column)
    return metric.at(metric.k_of(column), metric.reference) if metric and metric.reference else None
