"""monitor=ndcg: the validation search scored in training, and the checkpoint it keeps."""

import json

import numpy as np
import pytest
import torch
from torchmetrics.functional.retrieval import retrieval_normalized_dcg

from embtrans.data.paired import load_paired_embeddings
from embtrans.errors import RunFailed, UserError
from embtrans.metrics.retrieval import ndcg_at_k, retrieval_per_query
from embtrans.sweep.run_index import run_fingerprint
from embtrans.training.run import train
from embtrans.training.validation_search import ValidationSearch

TINY = ["model_a=minilm", "model_b=use", "dataset.limit=2000", "trainer.max_epochs=40"]


def test_ndcg_matches_torchmetrics_query_by_query():
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(40, 25, generator=generator)
    relevant = torch.rand(40, 25, generator=generator) < 0.15
    relevant[:, 3] = True  # every query has a relevant document
    expected = torch.stack([retrieval_normalized_dcg(scores[i], relevant[i], top_k=10) for i in range(40)])
    assert torch.allclose(ndcg_at_k(scores, relevant, 10), expected.double(), atol=1e-6)


def test_a_planted_translation_ranks_every_relevant_passage_first_and_a_shuffle_ranks_it_by_hand():
    # Query i's relevant passage is passage i; translated passages are the queries themselves.
    queries = torch.eye(4)
    search = ValidationSearch(queries, passages=torch.eye(4), relevant=torch.eye(4, dtype=torch.bool), k=10)
    assert search.ndcg(lambda passages: passages) == pytest.approx(1.0)
    # Passage i translated onto query (i + 1) % 4, second best onto query i: rank 2 for every query.
    shifted = lambda passages: torch.roll(passages, 1, dims=1) + 0.5 * passages  # noqa: E731
    assert search.ndcg(shifted) == pytest.approx(1 / np.log2(3))


def test_the_validation_search_scores_what_the_analysis_would_on_the_validation_split(compose_train):
    paired = load_paired_embeddings(compose_train(*TINY), show_progress=False)
    search = ValidationSearch.from_paired(paired, k=10)
    texts, in_val = paired.dataset.texts, paired.split == "val"
    val_passages = texts[in_val & (texts["kind"] == "passage")]
    assert search.passages.shape[0] == len(val_passages)
    # The analysis' scoring (ranked id lists, src/embtrans/metrics/retrieval.py) of the same cosine search.
    net = torch.nn.Linear(paired.source.shape[1], paired.target.shape[1])
    torch.manual_seed(0)
    val_queries = texts[in_val & (texts["kind"] == "query")]
    passage_ids = val_passages["id"].tolist()
    relevant = {q: set(paired.dataset.relevance.get(q, ())) & set(passage_ids) for q in val_queries["id"]}
    with torch.no_grad():
        translated = torch.nn.functional.normalize(net(torch.from_numpy(paired.source[val_passages.index])), dim=-1)
        queries = torch.nn.functional.normalize(torch.from_numpy(paired.target[val_queries.index]), dim=-1)
    order = (queries @ translated.T).argsort(dim=1, descending=True)[:, :10]
    ranked = {q: [passage_ids[j] for j in row] for q, row in zip(val_queries["id"], order.tolist())}
    expected = retrieval_per_query(ranked, relevant, 10)["ndcg@10"]
    assert len(search.queries) == len(expected) > 0
    assert search.ndcg(net) == pytest.approx(float(expected.mean()), abs=1e-6)


def test_a_validation_split_without_searchable_queries_is_refused_in_one_line(compose_train):
    paired = load_paired_embeddings(compose_train(*TINY), show_progress=False)
    paired.split = np.where(paired.split == "val", "train", paired.split)
    paired.split[0] = "val"  # one text alone: no query with a relevant passage beside it
    with pytest.raises(UserError, match="monitor=ndcg needs validation queries.*val_fraction.*monitor=mse"):
        ValidationSearch.from_paired(paired)


def test_monitor_ndcg_keeps_the_epoch_with_the_best_validation_search(compose_train, tmp_path):
    cfg = compose_train(*TINY, "monitor=ndcg", "trainer.max_epochs=12", "callbacks.early_stopping.patience=3")
    metrics = train(cfg)
    run = metrics["run"]
    assert run["monitor"]["metric"] == "val/ndcg@10"
    # The kept checkpoint, scored again from its weights, gives the best value the callback recorded.
    weights = torch.load(tmp_path / run["best_checkpoint"], weights_only=True)["state_dict"]
    net = torch.nn.Linear(384, 512)
    net.load_state_dict({"weight": weights["net.map.weight"], "bias": weights["net.map.bias"]})
    search = ValidationSearch.from_paired(load_paired_embeddings(cfg, show_progress=False))
    assert search.ndcg(net) == pytest.approx(run["monitor"]["best"], abs=1e-5)
    assert json.loads((tmp_path / "metrics.json").read_text())["run"]["monitor"] == run["monitor"]
    assert run["validation"]["ndcg@10"] == pytest.approx(run["monitor"]["best"], abs=1e-5)  # the same weights
    # A different experiment from the same run under the default monitor, which keeps old fingerprints.
    default = compose_train(*TINY, "trainer.max_epochs=12", "callbacks.early_stopping.patience=3")
    assert run_fingerprint(cfg) != run_fingerprint(default)
    assert default.callbacks.early_stopping.monitor == "val/mse"
    assert cfg.scheduler.mode == "max" and default.scheduler.mode == "min"


def test_a_run_that_never_searches_better_than_untrained_is_a_failure(compose_train, tmp_path):
    with pytest.raises(RunFailed, match="best validation ndcg@10.*no better than the untrained"):
        train(compose_train(*TINY, "monitor=ndcg", "optimizer.lr=0", "trainer.max_epochs=2"))
    assert not (tmp_path / "metrics.json").exists()


def test_a_run_monitored_by_mse_still_records_its_kept_weights_validation_search(compose_train, tmp_path):
    """The analysis chooses translators by validation nDCG, never by test: every run records it."""
    cfg = compose_train(*TINY, "trainer.max_epochs=6")
    run = train(cfg)["run"]
    assert run["monitor"]["metric"] == "val/mse"
    weights = torch.load(tmp_path / run["best_checkpoint"], weights_only=True)["state_dict"]
    net = torch.nn.Linear(384, 512)
    net.load_state_dict({"weight": weights["net.map.weight"], "bias": weights["net.map.bias"]})
    search = ValidationSearch.from_paired(load_paired_embeddings(cfg, show_progress=False))
    assert run["validation"] == {"ndcg@10": pytest.approx(search.ndcg(net), abs=1e-6)}
    closed = train(compose_train(*TINY, "arch=procrustes", output_dir=tmp_path / "procrustes"))["run"]
    assert 0 < closed["validation"]["ndcg@10"] <= 1
