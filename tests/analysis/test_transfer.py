"""Translators fitted on one corpus and scored on another's test split, beside the same translators fitted there."""

import subprocess
import sys

import pandas as pd
import pytest

from embtrans.paths import ROOT
from tests.tiny_sweep import run_analyze

SWEEP = ["model_a=glove", "model_b=use", "arch=linear", "dataset=rotten_tomatoes,wordnet", "dataset.limit=500",
         "dataset.train_pairs=null,100",
         "trainer.max_epochs=3", "logger=csv", "trainer.accelerator=cpu", "trainer.enable_progress_bar=false",
         "data.show_progress=false", "hydra.launcher.n_jobs=2"]


@pytest.mark.slow
def test_each_translator_is_scored_on_both_corpora_and_set_beside_the_one_fitted_there(cli_env, tmp_path):
    sweep_dir = tmp_path / "train" / "multiruns" / "transfer"
    trained = subprocess.run([sys.executable, str(ROOT / "train.py"), "-m", *SWEEP, f"paths.log_dir={tmp_path}",
                              f"hydra.sweep.dir={sweep_dir}"], capture_output=True, text=True, env=cli_env, cwd=ROOT,
                             timeout=600)
    assert trained.returncode == 0, trained.stderr[-2000:]
    analysed = run_analyze([f"sweep_dir={sweep_dir}"], cli_env, tmp_path)
    assert analysed.returncode == 0, analysed.stderr[-2000:]
    tables = tmp_path / "analysis" / "transfer" / "tables"
    transfer = pd.read_csv(tables / "transfer.csv")

    # linear and the two closed forms, each fitted on both corpora and scored on both; linear fitted on 100 of
    # the training texts is a point of the data curve, scored in-domain for it alone, by exact search
    translators = {"linear", "lstsq (closed form)", "procrustes (closed form)"}
    results = pd.read_csv(tables / "retrieval.csv").merge(pd.read_csv(tables / "knn.csv"), how="left")
    point = results[results["translator"] == "linear@train_pairs=100"]
    assert len(point) == 2 and point["ndcg@3"].between(0, 1).all() and point["jaccard@3"].isna().all()
    curve = pd.read_csv(tables / "data_curve.csv")
    assert set(curve["translator"]) == {"linear", "lstsq", "procrustes"}  # the closed forms as references
    assert (curve[curve["translator"] == "linear"].groupby("dataset")["paired_texts"].nunique() == 2).all()
    assert set(transfer["translator"]) == translators and len(transfer) == 3 * 2 * 2
    assert set(zip(transfer["fitted_on"], transfer["scored_on"])) == {
        (a, b) for a in ("rotten_tomatoes", "wordnet") for b in ("rotten_tomatoes", "wordnet")}
    assert (transfer["in_domain"] == (transfer["fitted_on"] == transfer["scored_on"])).all()
    assert transfer["ndcg@3"].between(0, 1).all() and transfer["mean_cosine"].between(-1, 1).all()

    # scored by exact cosine here, through Chroma in the rest of the analysis: the same searches agree
    retrieval = pd.read_csv(tables / "retrieval.csv")
    retrieval["corpus"] = retrieval["dataset"].str.split("-").str[0]
    home = transfer[transfer["in_domain"]].merge(retrieval, left_on=["translator", "scored_on"],
                                                 right_on=["translator", "corpus"], suffixes=("", "_chroma"))
    assert len(home) == 6
    assert (home["ndcg@3"] - home["ndcg@3_chroma"]).abs().max() < 1e-6
    assert (home["ndcg@3_native"] - home["ndcg@3_native_chroma"]).abs().max() < 1e-6

    # a transferred score is set beside the one fitted on the corpus it is scored on
    away = transfer[~transfer["in_domain"]].set_index(["translator", "scored_on"])
    at_home = transfer[transfer["in_domain"]].set_index(["translator", "scored_on"])["ndcg@3"]
    assert (away["in_domain_ndcg"] - at_home.reindex(away.index)).abs().max() < 1e-12
    assert ((away["share_of_in_domain"] - away["ndcg@3"] / away["in_domain_ndcg"]).abs() < 1e-12).all()
    # another corpus' map is another map: its test MSE on a corpus is not the in-domain one
    mse = transfer.set_index(["translator", "fitted_on", "scored_on"])["test_mse"]
    assert mse[("lstsq (closed form)", "rotten_tomatoes", "wordnet")] != mse[("lstsq (closed form)", "wordnet", "wordnet")]
    # the report sets them side by side, every number linked to the table
    markdown = (tmp_path / "analysis" / "transfer" / "report" / "report.md").read_text()
    section = markdown.split("### Fitted on one corpus, searched on another")[1].split("\n### ")[0]
    assert section.count("| glove → use | ") == 3 * 2 and "tables/transfer.csv" in section
