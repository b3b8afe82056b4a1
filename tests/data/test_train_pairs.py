"""dataset.train_pairs: a seeded, nested sample of the training texts (for curves against paired data), and
what it does to a run's fingerprint."""

import numpy as np
import pandas as pd
import pytest
from omegaconf import open_dict

from embtrans.data.paired import UNUSED, keep_train_pairs, train_pairs_setting
from embtrans.data.split import assign_splits
from embtrans.errors import UserError
from embtrans.sweep.run_index import run_fingerprint


@pytest.fixture(scope="module")
def split_and_ids(rotten_tomatoes):
    texts = rotten_tomatoes.texts
    return assign_splits(texts["group"], 0.2, 0.1, seed=0), texts["id"]


def train_ids(split, ids):
    return set(ids[split == "train"])


def test_samples_are_nested_seeded_and_touch_only_training_texts(split_and_ids):
    split, ids = split_and_ids
    small, large = keep_train_pairs(split, ids, 30, seed=1), keep_train_pairs(split, ids, 100, seed=1)
    assert (small == "train").sum() == 30 and (large == "train").sum() == 100
    assert train_ids(small, ids) < train_ids(large, ids)  # nested
    assert train_ids(small, ids) != train_ids(keep_train_pairs(split, ids, 30, seed=2), ids)
    for kept in (small, large):
        assert set(kept[split == "train"]) == {"train", UNUSED}
        assert np.array_equal(kept[split != "train"], split[split != "train"])  # val and test never move
    assert keep_train_pairs(split, ids, None, seed=1) is split


@pytest.mark.parametrize("n", [0, -5, 2.5, True, 10**7])
def test_a_bad_size_gets_one_line(split_and_ids, n):
    split, ids = split_and_ids
    with pytest.raises(UserError, match="dataset.train_pairs="):
        keep_train_pairs(split, ids, n, seed=0)


def test_configs_without_the_key_or_a_dataset_read_all_texts():
    from omegaconf import OmegaConf

    # the analysis labels runs whose stored configs predate the key, or carry no dataset node at all
    assert train_pairs_setting(OmegaConf.create({"seed": 0, "arch": {"net": {}}})) is None
    assert train_pairs_setting(OmegaConf.create({"dataset": {"name": "x"}})) is None
    assert train_pairs_setting(OmegaConf.create({"dataset": {"train_pairs": 30}})) == 30
    assert train_pairs_setting(OmegaConf.create({"dataset": {"train_pairs": 30}, "arch": {"paired": False}})) is None


def test_a_sampled_closed_form_is_one_run_per_seed(compose_train):
    def fingerprint(*overrides):
        return run_fingerprint(compose_train(*overrides))

    # on every training text a closed form is one run whatever the seed, and the same run as before the key existed
    assert fingerprint("arch=procrustes", "seed=0") == fingerprint("arch=procrustes", "seed=1")
    before_the_key = compose_train("arch=procrustes")
    with open_dict(before_the_key):
        del before_the_key.dataset["train_pairs"]
    assert fingerprint("arch=procrustes", "dataset.train_pairs=null") == run_fingerprint(before_the_key)
    # on a sample, the seed draws the sample
    assert fingerprint("arch=procrustes", "dataset.train_pairs=30", "seed=0") != \
        fingerprint("arch=procrustes", "dataset.train_pairs=30", "seed=1")
    assert fingerprint("arch=procrustes", "dataset.train_pairs=30") != fingerprint("arch=procrustes",
                                                                                    "dataset.train_pairs=100")
    # an unpaired fit is seeded, and reads no pairs to count
    assert fingerprint("arch=mini_vec2vec", "seed=0") != fingerprint("arch=mini_vec2vec", "seed=1")
    assert fingerprint("arch=mini_vec2vec", "dataset.train_pairs=30") == fingerprint("arch=mini_vec2vec")


def test_a_sampled_run_records_its_pairs(compose_train, tmp_path):
    from embtrans.training.run import train

    cfg = compose_train("arch=procrustes", "model_a=glove", "model_b=use", "dataset.limit=600", "dataset.train_pairs=40",
                        "seed=3")
    info = train(cfg)["run"]
    assert info["paired_texts"] == 40 and info["train_pairs"] == 40 and info["seed"] == 3
    assert info["split_sizes"]["train"] == 40 and info["split_sizes"][UNUSED] > 0
    split = pd.read_csv(tmp_path / "split.csv")
    assert (split["split"] == "train").sum() == 40 and (split["split"] == UNUSED).sum() == info["split_sizes"][UNUSED]
