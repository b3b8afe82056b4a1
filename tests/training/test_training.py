"""A real (tiny) training run: metrics.json, baselines, checkpoint, determinism, data plumbing."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from embtrans.data.datamodule import PairedEmbeddingDataModule
from embtrans.data.paired import load_paired_embeddings
from embtrans.training.run import train

# ~1,400 training pairs: fewer leave a 384 x 512 linear map too unconstrained to beat the mean-vector floor.
TINY = ["model_a=minilm", "model_b=use", "dataset.limit=2000", "trainer.max_epochs=40"]


def test_linear_run_beats_the_mean_vector_floor_and_writes_its_files(compose_train, tmp_path):
    metrics = train(compose_train(*TINY))
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written == json.loads(json.dumps(metrics))
    floor = written["baselines"]["mean_vector"]
    assert written["test/mse"] < floor["test/mse"]
    assert written["test/cosine"] > floor["test/cosine"]
    assert written["run"]["dims"] == {"a": 384, "b": 512}
    assert written["run"]["parameters"] == 384 * 512 + 512
    assert written["run"]["normalized"] == {"a": True, "b": True}
    checkpoint = torch.load(tmp_path / written["run"]["best_checkpoint"], weights_only=True)
    assert checkpoint["state_dict"]["net.map.weight"].shape == (512, 384)
    assert (tmp_path / "config.yaml").exists()
    split = pd.read_csv(tmp_path / "split.csv")
    assert (split.groupby("group")["split"].nunique() == 1).all()


def test_same_seed_gives_the_same_numbers(compose_train, tmp_path):
    first = train(compose_train(*TINY, "trainer.max_epochs=5", output_dir=tmp_path / "a"))
    second = train(compose_train(*TINY, "trainer.max_epochs=5", output_dir=tmp_path / "b"))
    assert first["test/mse"] == second["test/mse"] and first["test/cosine"] == second["test/cosine"]


def test_datamodule_serves_whole_batches_from_the_right_split(compose_train):
    cfg = compose_train(*TINY)
    paired = load_paired_embeddings(cfg, show_progress=False)
    data = PairedEmbeddingDataModule(paired, batch_size=256, eval_batch_size=100, seed=0)
    batches = list(data.train_dataloader())
    assert [len(s) for s, _ in batches[:-1]] == [256] * (len(batches) - 1)
    assert sum(len(s) for s, _ in batches) == len(paired.rows("train"))
    source, target = next(iter(data.test_dataloader()))
    test_rows = paired.rows("test")[: len(source)]
    assert np.array_equal(source.numpy(), paired.source[test_rows])
    assert np.array_equal(target.numpy(), paired.target[test_rows])
    groups = paired.dataset.texts["group"]
    assert not set(groups[paired.split == "val"]) & set(groups[paired.split == "test"])
    assert (paired.split == "val").any()


def test_a_smoke_run_finishes(compose_train):
    metrics = train(compose_train(*TINY, "debug=fdr"))  # one batch, no checkpoint, nothing logged
    assert metrics["test/mse"] > 0


def test_diverged_training_is_a_failure_not_a_result(compose_train, tmp_path):
    from embtrans.errors import RunFailed

    with pytest.raises(RunFailed, match="diverged.*lower optimizer.lr"):
        train(compose_train(*TINY, "optimizer.lr=1e8", "trainer.max_epochs=3"))
    assert not (tmp_path / "metrics.json").exists()


def test_the_baselines_follow_the_arch_configs_and_are_fitted_once_per_pair(compose_train, tmp_path):
    edited = train(compose_train(*TINY, "trainer.max_epochs=1", "closed_form.lstsq.net.alphas=[7.5]",
                                 output_dir=tmp_path / "edited"))
    assert edited["baselines"]["lstsq"]["alpha"] == 7.5
    first = train(compose_train(*TINY, "trainer.max_epochs=1", output_dir=tmp_path / "a"))
    assert first["baselines"]["lstsq"]["alpha"] != 7.5
    assert first["baselines"]["lstsq"]["test/mse"] != edited["baselines"]["lstsq"]["test/mse"]
    stored = sorted((tmp_path / "train" / "baselines").glob("*.json"))
    assert len(stored) == 2  # one per (pair and split, closed-form settings)
    second = train(compose_train(*TINY, "arch=mlp1", "trainer.max_epochs=1", output_dir=tmp_path / "b"))
    assert second["baselines"] == first["baselines"]
    assert sorted((tmp_path / "train" / "baselines").glob("*.json")) == stored  # read back, not refitted
