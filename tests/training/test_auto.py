"""arch=auto on a real tiny pair: every candidate trained, the choice by validation alone, a re-run reuses them."""

import json
import os

import pytest
import torch
from omegaconf import open_dict

from embtrans.errors import UserError
from embtrans.training.auto import train_auto
from embtrans.translators.artefact import Translator
from embtrans.translators.orthogonal import OrthogonalTranslator

TINY = ["model_a=minilm", "model_b=use", "dataset.limit=2000", "trainer.max_epochs=3", "arch=auto"]


def candidate_metrics(run_dir, name):
    return json.loads((run_dir / "candidates" / name / "metrics.json").read_text())


def test_auto_keeps_the_best_on_validation_whatever_the_test_split_says(compose_train, tmp_path):
    cfg = compose_train(*TINY)
    metrics = train_auto(cfg, fingerprint="planted")
    names = list(cfg.arch.menu)
    scores = {name: candidate_metrics(tmp_path, name)["run"]["validation"]["ndcg@10"] for name in names}
    auto = metrics["run"]["auto"]
    assert auto["validation ndcg@10"] == scores
    assert auto["chosen"] == max(scores, key=scores.get)
    assert metrics["run"]["arch"] == "auto" and metrics["run"]["fingerprint"] == "planted"
    chosen = candidate_metrics(tmp_path, auto["chosen"])
    assert metrics["test/cosine"] == chosen["test/cosine"]
    # The job's folder is the chosen run: it loads as that translator and translates the same.
    vectors = torch.randn(5, 384, generator=torch.Generator().manual_seed(0))
    job, original = Translator.from_run(tmp_path), Translator.from_run(tmp_path / "candidates" / auto["chosen"])
    assert torch.allclose(job.translate(vectors), original.translate(vectors))

    # Plant a validation score that disagrees with the test split: the candidate whose test cosine is the
    # worst now scores best on validation. A re-run trains nothing again, and keeps that one.
    worst = min(names, key=lambda name: candidate_metrics(tmp_path, name)["test/cosine"])
    planted = candidate_metrics(tmp_path, worst)
    planted["run"]["validation"]["ndcg@10"] = 1.0
    (tmp_path / "candidates" / worst / "metrics.json").write_text(json.dumps(planted))
    written = {name: os.stat(tmp_path / "candidates" / name / "metrics.json").st_mtime_ns for name in names}
    again = train_auto(cfg, fingerprint="planted")
    assert again["run"]["auto"]["chosen"] == worst
    assert again["test/cosine"] == planted["test/cosine"]
    assert {name: os.stat(tmp_path / "candidates" / name / "metrics.json").st_mtime_ns for name in names} == written
    assert Translator.from_run(tmp_path).info["net"] == dict(cfg.arch.menu[worst].arch.net)

    # Only translations (arch=auto_translation's rule, here with no tolerance): the candidates whose validation
    # cosine to B falls below Procrustes' are left out first, and the choice is the best of the others.
    # (At another seed, so that the job's metrics.json must say its own seed, not its reused candidates'.)
    with open_dict(cfg):
        cfg.arch.max_cosine_drop, cfg.arch.cosine_reference, cfg.seed = 0.0, "procrustes", 5
    run = train_auto(cfg, fingerprint="translations")["run"]
    translations = run["auto"]
    assert run["seed"] == 5
    cosines = translations["translation"]["validation cosine"]
    kept = [name for name in names if cosines[name] >= cosines["procrustes"]]
    assert set(cosines) == set(names) and translations["translation"]["left out"] == [n for n in names if n not in kept]
    assert translations["chosen"] == max(kept, key=lambda name: translations["validation ndcg@10"][name])
    assert {name: os.stat(tmp_path / "candidates" / name / "metrics.json").st_mtime_ns for name in names} == written

    # The geometry-preserving candidate left training still orthogonal (384 -> 512: orthonormal columns).
    net = Translator.from_run(tmp_path / "candidates" / "orthogonal").net
    assert isinstance(net, OrthogonalTranslator)
    weight = net.weight.detach().double()
    assert torch.allclose(weight.T @ weight, torch.eye(384, dtype=torch.float64), atol=1e-5)


def test_a_menu_with_nothing_to_choose_is_named(compose_train):
    cfg = compose_train(*TINY)
    with open_dict(cfg):
        cfg.arch.menu = {}
    with pytest.raises(UserError, match="arch=auto needs at least one candidate in arch.menu"):
        train_auto(cfg)
