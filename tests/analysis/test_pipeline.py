"""analyze.py over a real tiny sweep: every output written, Chroma filled once, identity perfect, noise at chance."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embtrans.analysis.chroma_store import EmbeddingStore
from embtrans.analysis.pairs import load_pair
from embtrans.analysis.runs import load_sweep
from tests.tiny_sweep import compose_analyze, run_analyze

TABLES = ["aggregate", "cka", "knn", "matching", "mse", "mse_by_pair", "retrieval", "mixed_index", "stitching",
          "hubness", "ndcg_matrix"]


def snapshot(folder):
    return {p.relative_to(folder): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_analyze_writes_every_output_and_rerunning_changes_nothing(tiny_sweep):
    log_dir, sweep_dir, env = tiny_sweep
    first = run_analyze([], env, log_dir)  # no sweep_dir: the latest sweep
    assert first.returncode == 0, first.stderr
    out = log_dir / "analysis" / "tiny"
    assert str(out / "tables") in first.stdout and "left out 12 job(s)" in first.stdout
    assert re.search(r"minilm-to-minilm/linear-x1_seed=0_[0-9a-f]{8}: failed", first.stdout)

    for name in TABLES:
        for suffix in (".csv", ".md"):
            assert (out / "tables" / f"{name}{suffix}").stat().st_size > 0
    mse = pd.read_csv(out / "tables" / "mse.csv")
    # linear was trained once for both widths; mlp1 at two widths; each at three seeds, one row per seed;
    # two closed-form maps fitted here, once
    assert mse.groupby("translator")["seed"].apply(lambda s: sorted(s.dropna().astype(int))).to_dict() == {
        "linear": [0, 1, 2], "lstsq (closed form)": [], "mlp1-x1": [0, 1, 2], "mlp1-x2": [0, 1, 2],
        "procrustes (closed form)": []}
    assert set(mse["pair"]) == {"minilm-to-e5_small"}
    # the seeds of a translator become one row with its spread and intervals, for every metric
    translators = pd.read_csv(out / "tables" / "translators.csv").set_index("translator")
    assert translators.loc["mlp1-x1", "seeds"] == 3 and translators.loc["lstsq (closed form)", "seeds"] == 1
    for metric in ("test_mse", "jaccard@3", "top1_accuracy", "ndcg@3_retention", "ndcg@3_gap_closed", "cka_linear"):
        assert translators.loc["mlp1-x1", f"{metric}_std"] >= 0, metric
        low, high = translators.loc["mlp1-x1", f"{metric}_seed_low"], translators.loc["mlp1-x1", f"{metric}_seed_high"]
        assert low <= translators.loc["mlp1-x1", metric] <= high, metric
    for metric in ("test_mse", "jaccard@3", "top1_accuracy", "vec2vec_top1_accuracy", "ndcg@3_retention"):
        assert translators.loc["mlp1-x1", f"{metric}_boot_low"] <= translators.loc["mlp1-x1", f"{metric}_boot_high"]
    comparisons = pd.read_csv(out / "tables" / "comparisons.csv")
    overall = comparisons[comparisons["scope"] == "all pairs"]
    assert {"depth", "width", "closed form", "learned vs closed form"} <= set(overall["family"])
    assert overall["low"].le(overall["effect"]).all() and overall["effect"].le(overall["high"]).all()
    assert (overall["seeds"] == 3).any()
    # The aggregate follows the ks the analysis ran with (retrieval.k=3, metrics.knn_ks=[3,5]), not @10.
    aggregate = pd.read_csv(out / "tables" / "aggregate.csv")
    for metric in ("jaccard@3", "jaccard@5", "rbo@3", "rbo@5", "ndcg@3_retention", "ndcg@3_gap_closed", "top3_jaccard"):
        assert aggregate[f"{metric}_mean"].notna().any(), metric
    header = (out / "tables" / "aggregate.md").read_text().splitlines()[0]
    assert "jaccard@3" in header and "jaccard@5" in header and "ndcg@3_retention" in header
    report = (out / "report" / "report.md").read_text()
    # the report's tables show the smallest k (tables/aggregate.md above has every one)
    assert "Jaccard@3" in report and "RBO_ext@3" in report and "nDCG@3" in report
    conclusion = report.split("## 3. Conclusion")[1].split("\n## ")[0]
    comparative = [line for line in conclusion.splitlines() if " beats " in line or "No clear difference" in line
                   or "does worse than" in line]
    assert comparative and all("95 % interval" in line for line in comparative)
    assert "seeds 0, 1, 2" in report
    summary = json.loads((out / "analysis.json").read_text())
    trained = [r for r in summary["results"] if r["kind"] == "trained"]
    for result in trained:  # the analysis' own MSE agrees with what training wrote
        run_metrics = json.loads((Path(result["run_dir"]) / "metrics.json").read_text())
        assert result["test_mse"] == pytest.approx(run_metrics["test/mse"], rel=1e-4)
    retrieval = pd.read_csv(out / "tables" / "retrieval.csv")
    assert (retrieval["floor_kind"] == "random ranking (expected)").all()  # one floor on every pair
    assert (retrieval["retrieval_pool"] == 9).all()
    # the migration as users run it, the classifier of B on translated vectors, and hubness: per run
    mixed, stitching, hubness = (pd.read_csv(out / "tables" / f"{name}.csv") for name in ("mixed_index", "stitching", "hubness"))
    assert len(mixed) == len(retrieval) and {"mixed0_ndcg@3", "mixed50_ndcg@3", "mixed100_translated_share@3"} <= set(mixed)
    assert (mixed["mixed0_translated_share@3"] == 0).all() and (mixed["mixed100_translated_share@3"] == 1).all()
    assert stitching["stitch_accuracy"].between(0, 1).all() and stitching["stitch_accuracy_native"].notna().all()
    assert hubness["hubness_skew@10"].notna().all() and hubness["native_hubness_skew@10"].notna().all()
    # the best trained translator is chosen on validation: this sweep's validation split (2 texts) has no
    # query to search, so by validation MSE, never by test
    assert all(r["val_ndcg"] is None for r in trained)
    assert set(comparisons.loc[comparisons["family"] == "learned vs closed form", "first_chosen_by"]) == {
        "lowest validation MSE"}
    # and the closed forms, which have no validation search here either, by test, as the table says
    chosen_by = set(comparisons.loc[comparisons["family"] == "learned vs closed form", "second_chosen_by"])
    assert len(chosen_by) == 1 and chosen_by.pop().startswith("highest test ndcg@")

    figures = [out / f for f in summary["figures"]]
    assert any("umap" in str(f) for f in figures) and any("kernels" in str(f) for f in figures)
    assert any(f.name.startswith("mse_vs_width") for f in figures)
    for figure in figures:
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 5000
    example = json.loads(next((out / "examples").rglob("*.json")).read_text())
    assert example and {"query", "both", "only_native", "only_translated", "relevant"} <= set(example[0])

    assert str(out / "report" / "index.html") in first.stdout  # the report is the analysis' last step
    assert (out / "report" / "report.md").read_text().count("\n## ") == 9

    with EmbeddingStore(log_dir / "chroma") as store:
        counts = {name: store.count(name) for name in store.names()}
        native = [n for n in counts if n.endswith(".minilm") or n.endswith(".e5_small")]
        translated = [n for n in counts if n not in native]
        assert len(native) == 2 and len(translated) == 11  # 3 x 3 seeds + 2 closed form
        # every collection holds the corpus the searches run over: the 9 test passages
        assert set(counts.values()) == {9}
        sample = store.client.get_collection(next(n for n in translated if "mlp1-x2" in n)).get(limit=1)
        expected = {"from_model": "minilm", "to_model": "e5_small", "arch": "mlp1", "width": 2, "split": "test",
                    "kind": "passage"}
        assert expected.items() <= sample["metadatas"][0].items()
        assert sample["documents"][0]

    before = snapshot(out)
    second = run_analyze([f"sweep_dir={sweep_dir}"], env, log_dir)
    assert second.returncode == 0, second.stderr
    assert snapshot(out) == before  # same bytes, same mtimes: nothing rewritten, the report included
    with EmbeddingStore(log_dir / "chroma") as store:
        assert {name: store.count(name) for name in store.names()} == counts


def job_folder(sweep_dir, prefix, pair="minilm-to-e5_small"):
    """The folder of the sweep's seed-0 job whose name starts with ``prefix`` (arch-x<width>; a fingerprint follows)."""
    found = sorted((sweep_dir / "rotten_tomatoes" / pair).glob(f"{prefix}_seed=0_*"))
    assert len(found) == 1, found
    return found[0]


def planted_run(sweep_dir, source_job, name, vectors, arch=None):
    """A copy of a real run whose translated test vectors are replaced: a translator we know the answer for."""
    job = sweep_dir / "rotten_tomatoes" / "minilm-to-e5_small" / name
    shutil.copytree(job_folder(sweep_dir, source_job), job)
    metrics = json.loads((job / "metrics.json").read_text())
    metrics["run"].update(arch=arch or name, fingerprint=f"planted-{name}")
    (job / "metrics.json").write_text(json.dumps(metrics))
    np.save(job / "translated" / "test.npy", vectors.astype(np.float32))


@pytest.mark.slow
def test_identity_scores_perfectly_and_noise_scores_at_chance(tiny_sweep, tmp_path):
    from embtrans.analysis.pipeline import analyze

    log_dir, sweep_dir, _ = tiny_sweep
    planted = tmp_path / "planted"
    # seed 0's runs only: the planted copies below are of seed 0's mlp1-x1
    shutil.copytree(sweep_dir, planted, ignore=shutil.ignore_patterns("minilm-to-minilm", "*seed=1_*", "*seed=2_*"))
    run = next(r for r in load_sweep(planted).runs if r.label == "mlp1-x1")
    pair = load_pair(run, compose_analyze().paths.embedding_cache_dir)
    planted_run(planted, "mlp1-x1", "identity", pair.native_b)
    noise = np.random.default_rng(0).standard_normal(pair.native_b.shape)
    planted_run(planted, "mlp1-x1", "noise", noise)
    # the same arch and width again (as a seed or lr sweep makes): told apart by fingerprint
    planted_run(planted, "mlp1-x1", "mlp1-x1-again", noise, arch="mlp1")
    # vectors overwritten with NaN after the run finished: left out and listed, never scored
    planted_run(planted, "mlp1-x1", "broken", np.full(pair.native_b.shape, np.nan))

    cfg = compose_analyze(f"sweep_dir={planted}", f"paths.log_dir={tmp_path}", "figures.translators=[identity]")
    analysis = analyze(cfg)
    results = analysis.results.set_index("translator")
    assert not any(label.startswith("broken") for label in results.index)
    assert any("broken" in line and "NaN or infinite" in line for line in analysis.sweep.left_out)
    identity, noise = results.loc["identity-x1"], results.loc["noise-x1"]
    assert identity["test_mse"] == 0 and identity["test_cosine"] == pytest.approx(1)
    for metric in ("jaccard@3", "jaccard@5", "mutual_knn@5", "rbo@5", "top1_accuracy", "cka_linear", "cka_rbf",
                   "recall@3_retention", "ndcg@3_retention", "top3_jaccard"):
        assert identity[metric] == pytest.approx(1), metric
    assert identity["knn_edit_similarity@5"] == 1 and identity["mean_rank"] == 1
    assert identity["ndcg@3_gap_closed"] == pytest.approx(1)
    # an identity translator: a mixed index is native B's at every share, and B's classifier is as good as on B
    for share in (0, 25, 50, 75, 100):
        assert identity[f"mixed{share}_ndcg@3"] == identity["mixed0_ndcg@3"]
    assert identity["stitch_accuracy"] == identity["stitch_accuracy_native"] and identity["stitch_retention"] == 1
    assert identity["hubness_skew@10"] == identity["native_hubness_skew@10"]
    # Noise: neighbourhoods near chance, CKA indistinguishable from its null, matching near 1 / pool.
    assert abs(noise["jaccard@5"] - noise["chance_jaccard@5"]) < 0.05
    assert noise["cka_linear_p_value"] > 0.05 and noise["cka_rbf_p_value"] > 0.05
    assert noise["top1_accuracy"] < 5 / noise["matching_pool"]
    assert identity["cka_linear_p_value"] == pytest.approx(1 / 21)
    twins = sorted(label for label in results.index if label.startswith("mlp1-x1"))
    assert twins == sorted([f"mlp1-x1@{run.key[:6]}", "mlp1-x1@plante"])
    # The learned maps sit between: better than noise, short of identity.
    learned = results.loc[f"mlp1-x1@{run.key[:6]}"]
    assert noise["jaccard@5"] < learned["jaccard@5"] < 1


@pytest.mark.slow
def test_chroma_search_matches_exact_cosine_search_and_wandb_gets_the_tables(tiny_sweep, tmp_path, monkeypatch):
    from embtrans.analysis.pipeline import analyze, search_sets, vectors_of
    from embtrans.analysis.wandb_log import log_to_wandb

    log_dir, sweep_dir, _ = tiny_sweep
    cfg = compose_analyze(f"sweep_dir={sweep_dir}", f"paths.log_dir={tmp_path}", "figures.translators=[]",
                          "wandb.enabled=true", f"wandb.dir={tmp_path / 'wandb-log'}")
    analysis = analyze(cfg)
    monkeypatch.setenv("WANDB_MODE", "offline")
    run_dir = Path(log_to_wandb(analysis, cfg))
    assert run_dir.is_relative_to(tmp_path / "wandb-log") and list(run_dir.rglob("*.wandb"))
    assert list((run_dir / "files" / "media" / "table" / "tables").glob("retrieval*.table.json"))
    run = load_sweep(sweep_dir).runs[0]
    pair = load_pair(run, cfg.paths.embedding_cache_dir)
    queries, pool = search_sets(pair)
    query_vectors = vectors_of(pair, "b", queries)
    pool_vectors = vectors_of(pair, "b", pool)
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    exact = np.argsort(-(unit(query_vectors) @ unit(pool_vectors).T), axis=1, kind="stable")[:, :3]
    with EmbeddingStore(tmp_path / "chroma") as store:
        name = next(n for n in store.names() if n.endswith(".e5_small"))
        assert store.count(name) == len(pool)  # each collection holds the test passages searched
        found = store.search(name, query_vectors, 3)
    assert [set(row) for row in found] == [{pool[j] for j in row} for row in exact]


def test_missing_or_empty_sweep_is_one_clear_error(cli_env, tmp_path):
    missing = run_analyze([f"sweep_dir={tmp_path / 'nowhere'}"], cli_env, tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = run_analyze([f"sweep_dir={tmp_path / 'empty'}"], cli_env, tmp_path)
    assert empty.returncode == 2 and "holds no sweep jobs" in empty.stderr
    for result in (missing, empty):
        assert "Traceback" not in result.stderr + result.stdout


def test_a_damaged_cached_result_is_recomputed_with_one_warning(tmp_path, caplog):
    from embtrans.files import cached_json

    path = tmp_path / "scores.json"
    assert cached_json(path, "k1", lambda: {"mse": 1.0}) == {"mse": 1.0}
    assert cached_json(path, "k1", lambda: pytest.fail("a stored result must be reused")) == {"mse": 1.0}
    assert cached_json(path, "k2", lambda: {"mse": 2.0}) == {"mse": 2.0}  # other inputs: recomputed
    path.write_text("{not json")
    assert cached_json(path, "k2", lambda: {"mse": 3.0}) == {"mse": 3.0}
    assert "cannot be read" in caplog.text and str(path) in caplog.text


def test_a_second_writer_of_the_chroma_store_gets_a_clear_error(tmp_path):
    from embtrans.errors import UserError

    with EmbeddingStore(tmp_path / "chroma") as store:
        store.sync("data.model", ["a", "b", "c"], np.eye(3, dtype=np.float32), [{"kind": "passage"}] * 3)
        with pytest.raises(UserError, match="another process is writing"):
            EmbeddingStore(tmp_path / "chroma", lock_timeout=0.1).__enter__()
        # re-syncing the same vectors adds nothing
        assert store.sync("data.model", ["a", "b", "c"], np.eye(3, dtype=np.float32), [{"kind": "passage"}] * 3) == 0


def test_a_collection_whose_source_vectors_changed_is_rebuilt_not_trusted(tmp_path, caplog):
    first, changed = np.eye(3, dtype=np.float32), np.eye(3, dtype=np.float32)[::-1].copy()
    with EmbeddingStore(tmp_path / "chroma") as store:
        store.sync("data.model", ["a", "b", "c"], first, [{"kind": "passage"}] * 3)
        assert store.search("data.model", first[:1], 1) == [["a"]]
        # same ids, other vectors (a run trained again, a file replaced): every vector is replaced
        assert store.sync("data.model", ["a", "b", "c"], changed, [{"kind": "passage"}] * 3) == 3
        assert store.search("data.model", first[:1], 1) == [["c"]]
        assert "rebuilding data.model" in caplog.text
        # and vectors of another dimension are never mixed in: they replace the old ones too
        assert store.sync("data.model", ["d"], np.ones((1, 4), dtype=np.float32), [{"kind": "passage"}]) == 1
        assert store.count("data.model") == 1


@pytest.mark.slow
def test_the_analysis_closed_form_maps_follow_the_arch_configs(tiny_sweep):
    _, sweep_dir, _ = tiny_sweep
    run = load_sweep(sweep_dir).runs[0]
    default, edited = compose_analyze(), compose_analyze("closed_form.lstsq.net.alphas=[1000.0]")
    vectors = [load_pair(run, cfg.paths.embedding_cache_dir).closed_form("lstsq", cfg.closed_form.lstsq)
               for cfg in (default, edited)]
    assert not np.allclose(*vectors)
    # so strong a ridge leaves little but the intercept: every prediction near the mean target vector
    assert np.linalg.norm(vectors[1] - vectors[1].mean(axis=0), axis=1).mean() < 0.2 * np.linalg.norm(
        vectors[0] - vectors[0].mean(axis=0), axis=1).mean()


def test_translators_that_differ_in_settings_are_labelled_by_them():
    from types import SimpleNamespace

    from omegaconf import OmegaConf

    from embtrans.analysis.pipeline import variant_labels

    def run(key, seed, loss, init, lr=1e-3):
        config = OmegaConf.create({"seed": seed, "loss": loss, "paths": {"output_dir": f"/runs/{key}"},
                                   "arch": {"net": {"init": init}}, "optimizer": {"lr": lr}})
        return SimpleNamespace(key=key, config=config)

    seeds_only = [run("a", 0, "mse", "random"), run("b", 1, "mse", "random")]
    assert variant_labels(seeds_only) == {"a": "", "b": ""}
    ablation = [run("a", 0, "mse", "random"), run("b", 1, "mse", "random"), run("c", 0, "mse+infonce", "lstsq")]
    assert variant_labels(ablation) == {"a": "init=random,loss=mse", "b": "init=random,loss=mse",
                                        "c": "init=lstsq,loss=mse+infonce"}
    from embtrans.analysis.identifiers import TranslatorId
    label = TranslatorId("linear", variant="init=lstsq,loss=mse+infonce", seed=0)
    assert label.label == "linear@init=lstsq,loss=mse+infonce"
    assert label.file_name == "linear@init_lstsq_loss_mse+infonce@seed0"


def test_a_run_reused_from_an_older_sweep_is_the_same_translator_as_its_twins(compose_train):
    """Same fingerprint but for the seed: one translator, however its config spells what the fingerprint
    leaves out (the width of a width-free arch, a monitor group that did not exist when it ran)."""
    from types import SimpleNamespace

    from omegaconf import OmegaConf

    from embtrans.analysis.pipeline import variant_labels

    fresh = compose_train("arch=linear", "width=1", "seed=0")
    def before_monitor_existed(node):
        if isinstance(node, dict):
            return {key: before_monitor_existed(value) for key, value in node.items() if key != "monitor"
                    or not isinstance(value, dict)}
        if isinstance(node, str):
            return node.replace("${monitor.metric}", "val/mse").replace("${monitor.mode}", "min")
        return node

    older = OmegaConf.create(before_monitor_existed(OmegaConf.to_container(
        compose_train("arch=linear", "width=8", "seed=1"), resolve=False)))
    assert "monitor" not in older
    runs = [SimpleNamespace(key="fresh", config=fresh), SimpleNamespace(key="older", config=older)]
    assert variant_labels(runs) == {"fresh": "", "older": ""}
    other = SimpleNamespace(key="other", config=compose_train("arch=linear", "loss=mse+infonce", "seed=0"))
    labels = variant_labels([*runs, other])
    assert labels["fresh"] == labels["older"] != labels["other"] and "loss=mse+infonce" in labels["other"]
