"""The closed forms are chosen on validation as trained runs are: the analysis scores each fitted map on
the validation split's search (analysis/pairs.py)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from embtrans.analysis.pairs import PairData
from embtrans.data.paired import load_paired_embeddings
from embtrans.paths import CONFIG_DIR
from embtrans.training.validation_search import ValidationSearch

PROCRUSTES = OmegaConf.load(Path(CONFIG_DIR) / "arch" / "procrustes.yaml")
LSTSQ = OmegaConf.load(Path(CONFIG_DIR) / "arch" / "lstsq.yaml")


def test_procrustes_from_a_model_to_itself_searches_validation_as_the_native_space_does(compose_train):
    # A model onto itself: the best rotation is the identity, so its validation search is native B's own.
    other = load_paired_embeddings(compose_train("model_a=use", "model_b=minilm", "dataset.limit=2000"),
                                   show_progress=False)
    paired = replace(other, source=other.target.copy())  # minilm -> minilm
    pair = PairData("test", paired)
    native = ValidationSearch.from_paired(paired).ndcg(lambda passages: passages)
    assert 0.05 < native < 1
    assert abs(pair.closed_form_validation("procrustes", PROCRUSTES) - native) < 1e-6
    # another model's space scores differently, and the score is recorded once per map
    scores = {name: PairData("test", other).closed_form_validation(name, config) for name, config in
              (("procrustes", PROCRUSTES), ("lstsq", LSTSQ))}
    assert all(0 < s < native for s in scores.values()) and scores["procrustes"] != scores["lstsq"]


def test_a_split_without_validation_queries_gives_no_score(compose_train):
    paired = load_paired_embeddings(compose_train("model_a=glove", "model_b=use", "dataset.limit=600"),
                                    show_progress=False)
    queries = (paired.dataset.texts["kind"] == "query").to_numpy()
    split = np.where((paired.split == "val") & queries, "train", paired.split)  # validation keeps passages only
    assert (split == "val").any()
    assert PairData("test", replace(paired, split=split)).closed_form_validation("lstsq", LSTSQ) is None
