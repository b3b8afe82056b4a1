"""The metric registry: every score the analysis computes is declared once, and k is never hard-coded."""

import re

import numpy as np
import pytest

from embtrans.analysis.scoring import translation_scores, untranslated_scores
from embtrans.metrics.registry import METRICS, aggregated, headline, metric_of, present, reference_of, title_of
from embtrans.report.values import FORMATS
from tests.tiny_sweep import compose_analyze

# Columns that go with a metric without being one: chance levels, permutation nulls, ranks' medians, sizes.
COMPANIONS = (r"chance_jaccard@\d+", r"cka_.*_null_(mean|p95)", r"cka_.*_p_value", r"(vec2vec_)?median_rank",
              "mean_cosine", "matching_pool", "cka_samples", "cka_permutations", r"(anti)?hub_share@\d+")


def test_every_score_the_analysis_computes_is_declared_or_a_known_companion():
    cfg = compose_analyze("metrics.knn_ks=[3,7]", "metrics.matching_top_ks=[1,4]")
    rng = np.random.default_rng(0)
    native = rng.normal(size=(40, 6))
    scores, per_text = translation_scores(native, native + rng.normal(0, 0.5, native.shape), cfg.metrics)
    undeclared = [c for c in scores if metric_of(c) is None and not any(re.fullmatch(p, c) for p in COMPANIONS)]
    assert not undeclared
    # every per-text array is a declared metric that says it has per-item values
    assert per_text and all(metric_of(name) is not None and metric_of(name).items == "texts" for name in per_text)
    # and each metric's reference column is one untranslated_scores writes
    references, _ = untranslated_scores(native, native, native, cfg.metrics)
    for column in scores:
        reference = reference_of(column)
        if reference and reference.startswith("untranslated_"):
            assert reference in references, column


def test_columns_are_found_for_every_k_in_order():
    columns = ["pair", "jaccard@50", "jaccard@5", "ndcg@20_retention", "top3_jaccard", "vec2vec_top1_accuracy",
               "top1_accuracy", "untranslated_jaccard@5", "cka_linear_debiased", "cka_linear"]
    found = [c for _, c in present(columns)]
    assert found == ["jaccard@5", "jaccard@50", "cka_linear", "cka_linear_debiased", "top1_accuracy",
                     "vec2vec_top1_accuracy", "ndcg@20_retention", "top3_jaccard"]
    assert [c for _, c in aggregated(columns)] == ["jaccard@5", "jaccard@50", "cka_linear", "top1_accuracy",
                                                     "vec2vec_top1_accuracy", "ndcg@20_retention", "top3_jaccard"]
    assert headline(columns) == ["jaccard@5", "jaccard@50", "cka_linear", "top1_accuracy", "ndcg@20_retention"]
    assert title_of("ndcg@20_retention") == "nDCG@20 retention" and title_of("pair") == "pair"
    assert reference_of("jaccard@5") == "untranslated_jaccard@5" and reference_of("top1_accuracy") is None


def test_each_metric_is_declared_once_with_a_known_statistic_and_style():
    assert len({m.column for m in METRICS}) == len(METRICS)
    for metric in METRICS:
        assert metric.statistic in ("mean", "retention", "gap_closed", "vs_lstsq"), metric.column
        assert metric.style in FORMATS, metric.column  # a style the report knows how to print
        assert metric.items in (None, "texts", "queries"), metric.column
        assert metric.description, metric.column
    with pytest.raises(ValueError, match="not a column"):
        METRICS[0].k_of("nonsense")
