"""Translators fitted on one corpus, scored on another's test split: what calibrating a migration on generic text
costs against calibrating it on the collection itself.

For every pair of models a sweep holds on two or more corpora, every translator fitted on one corpus (each trained
run's kept weights, and the closed forms fitted on that corpus' training split) translates the test split of each
corpus, its own included, and B's native test queries search those translated test passages by exact cosine. The
rows fitted and scored on one corpus are the in-domain reference, scored the same way, so the two are comparable
(the rest of the analysis searches through Chroma). Nothing is fitted on any test split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from embtrans.analysis.pairs import PairData
from embtrans.metrics.retrieval import retention
from embtrans.training.validation_search import ValidationSearch


def columns(k: int) -> list[str]:
    return ["pair", "model_a", "model_b", "translator", "seed", "kind", "fitted_on", "scored_on", "in_domain",
            f"ndcg@{k}", f"ndcg@{k}_native", f"ndcg@{k}_retention", "test_mse", "mean_cosine", "queries", "pool"]


@dataclass
class Fitted:
    """One translator fitted on one corpus: its label, seed and kind as the rest of the analysis names them."""

    translator: str
    seed: float | None
    kind: str
    # Loads the translator and returns its map: a trained run's weights are read when it is scored, not held.
    load: Callable[[], Callable[[torch.Tensor], torch.Tensor]]


@dataclass
class ScoredOn:
    """One corpus' test split for one pair of models: its searches and its native vectors."""

    corpus: str
    search: ValidationSearch  # B's test queries against A's test passages, translated at each scoring
    native: float  # native B's nDCG@k on it
    source: torch.Tensor  # A's vectors of every test text
    target: torch.Tensor  # B's

    @classmethod
    def of(cls, corpus: str, pair: PairData, k: int) -> ScoredOn:
        native = ValidationSearch.from_paired(pair.paired, k, split="test", passages_of="target")
        return cls(corpus, ValidationSearch.from_paired(pair.paired, k, split="test"),
                   native.ndcg(lambda passages: passages), torch.from_numpy(np.ascontiguousarray(pair.native_a)),
                   torch.from_numpy(np.ascontiguousarray(pair.native_b)))


def transfer_rows(pair_name: str, model_a: str, model_b: str, fitted: dict[str, list[Fitted]],
                  scored_on: dict[str, ScoredOn], k: int) -> list[dict]:
    """``fitted``: corpus -> its translators; ``scored_on``: corpus -> its test split. One row per translator and
    corpus scored on (its own included)."""
    rows = []
    for fitted_on, translators in fitted.items():
        for one in translators:
            translate = one.load()
            for corpus, test in scored_on.items():
                translated = translate(test.source).float()
                ndcg = test.search.ndcg(translate)
                cosine = torch.nn.functional.cosine_similarity(translated, test.target, dim=1)
                rows.append({"pair": pair_name, "model_a": model_a, "model_b": model_b, "translator": one.translator,
                             "seed": one.seed, "kind": one.kind, "fitted_on": fitted_on, "scored_on": corpus,
                             "in_domain": fitted_on == corpus, f"ndcg@{k}": ndcg, f"ndcg@{k}_native": test.native,
                             f"ndcg@{k}_retention": retention(ndcg, test.native),
                             "test_mse": float(((translated - test.target) ** 2).mean()),
                             "mean_cosine": float(cosine.mean()), "queries": len(test.search.queries),
                             "pool": len(test.search.passages)})
    return rows


def transfer_table(rows: list[dict], k: int = 10) -> pd.DataFrame:
    """Every transfer row, with the same translator's in-domain score on the corpus scored on (mean over its seeds)
    and the transferred score as a share of it."""
    table = pd.DataFrame(rows, columns=columns(k))
    if table.empty:
        return pd.DataFrame(columns=[*columns(k), "in_domain_ndcg", "share_of_in_domain"])
    metric = f"ndcg@{k}"
    home = (table[table["in_domain"]].groupby(["pair", "translator", "scored_on"])[metric].mean()
            .rename("in_domain_ndcg").reset_index())
    table = table.merge(home, on=["pair", "translator", "scored_on"], how="left")
    table["share_of_in_domain"] = table[metric] / table["in_domain_ndcg"]
    return table
