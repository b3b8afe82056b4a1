"""migrate.py against real Chroma (a server started here, and a persistent folder) and real models:
minilm's vectors of Rotten Tomatoes texts moved into use's space."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import open_dict

from embtrans.data.encoders.sentence_transformer import SentenceTransformerEncoder
from embtrans.data.split import limit_groups
from embtrans.errors import GateRefused, UserError
from embtrans.migrate.run import migrate
from embtrans.paths import CONFIG_DIR, ROOT
from embtrans.translators.artefact import Translator
from embtrans.translators.linear import LinearTranslator

MODELS = ["model_a=minilm", "model_b=use"]
SMALL = ["calibration.size=240", "calibration.min_texts=40", "batch_size=100"]


def settings() -> Settings:
    """A fresh object each time: HttpClient rewrites the Settings it is given into a client of a server."""
    return Settings(anonymized_telemetry=False)


@pytest.fixture(scope="module")
def texts(rotten_tomatoes):
    """~600 real texts (reviews and plots), whole movies."""
    kept = limit_groups(rotten_tomatoes, 600, seed=0).texts
    return kept.reset_index(drop=True)


@pytest.fixture(scope="module")
def minilm_vectors(texts):
    return SentenceTransformerEncoder("minilm", 384, bundled="minilm").encode(list(texts["text"]), "passage")


def fill(client, texts, vectors, name="reviews"):
    collection = client.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    collection.add(ids=list(texts["id"]), embeddings=vectors, documents=list(texts["text"]),
                   metadatas=[{"kind": kind, "group": str(group)} for kind, group in zip(texts["kind"], texts["group"])])
    return collection


def configure(tmp_path, *overrides):
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR):
        cfg = compose("migrate", overrides=["source_collection=reviews", *MODELS, *SMALL, *overrides])
    with open_dict(cfg):
        cfg.paths.log_dir = str(tmp_path)
    GlobalHydra.instance().clear()
    return cfg


def open_store(path):
    """A client of the persistent store as it is now on disk: Chroma keeps one system per path in a
    process, which does not see what another process (migrate.py) wrote since (embedded Chroma is not
    multi-process safe: chroma #1209), so the cache is dropped first."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    return chromadb.PersistentClient(str(path), settings=settings())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A real Chroma server (the chroma CLI chromadb installs) on a free local port; stopped after the test."""
    port = free_port()
    executable = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    server = subprocess.Popen([executable, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client, deadline = None, time.time() + 60
    while time.time() < deadline:
        try:
            client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=settings())
            client.heartbeat()
            break
        except Exception:
            client = None
            time.sleep(0.3)
    assert client is not None, "the Chroma server did not start"
    yield client, port
    server.terminate()
    server.wait(timeout=30)


def stored(collection) -> dict:
    got = collection.get(include=["embeddings", "documents", "metadatas"])
    return {i: (np.asarray(v), d, m) for i, v, d, m in zip(got["ids"], got["embeddings"], got["documents"], got["metadatas"])}


def test_a_corpus_migration_through_a_server_translates_every_vector_and_searches_as_the_translator_does(
        chroma_server, texts, minilm_vectors, tmp_path):
    client, port = chroma_server
    source = fill(client, texts, minilm_vectors)
    before = stored(source)
    migrate(configure(tmp_path, "chroma.host=127.0.0.1", f"chroma.port={port}", f"export_dir={tmp_path / 'export'}"))
    target = client.get_collection("reviews.use")
    translator = Translator.load(tmp_path / "export")
    migrated = stored(target)
    assert set(migrated) == set(before) and stored(source).keys() == before.keys()
    for text_id, (vector, document, metadata) in before.items():
        assert np.allclose(migrated[text_id][0], translator.translate(vector), atol=1e-5)
        assert migrated[text_id][1:] == (document, metadata)
    assert all(np.array_equal(stored(source)[i][0], before[i][0]) for i in before)  # the source is untouched
    record = target.metadata
    assert record["migrated_from"] == "reviews" and record["model_b"] == "use" and record["complete"] is True
    assert record["translator"].startswith("procrustes fitted on 240 documents of reviews")
    # Searched with native use queries, the migrated collection ranks as exact cosine search over the
    # translated vectors does (the analysis' measure of the same translator).
    from hydra.utils import instantiate

    queries = texts[texts["kind"] == "query"].head(30)
    encoder = instantiate(configure(tmp_path).model_b.encoder)
    query_vectors = encoder.encode(list(queries["text"]), "query")
    ids = list(before)
    translated = translator.translate(np.stack([before[i][0] for i in ids]))
    unit = translated / np.linalg.norm(translated, axis=1, keepdims=True)
    exact = np.argsort(-(query_vectors / np.linalg.norm(query_vectors, axis=1, keepdims=True)) @ unit.T, axis=1)[:, :10]
    found = target.query(query_embeddings=query_vectors, n_results=10, include=[])["ids"]
    overlap = np.mean([len(set(f) & {ids[j] for j in e}) / 10 for f, e in zip(found, exact)])
    assert overlap > 0.95


def test_a_killed_migration_finishes_when_run_again_and_a_third_run_adds_nothing(texts, minilm_vectors, tmp_path):
    store = tmp_path / "store"
    fill(open_store(store), texts, minilm_vectors)
    command = [sys.executable, str(ROOT / "migrate.py"), "source_collection=reviews", f"chroma.path={store}",
               *MODELS, *SMALL, "batch_size=20", f"paths.log_dir={tmp_path}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    for line in process.stdout:  # killed outright once the first pages are in
        if line.strip().startswith("60 /"):
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    client = open_store(store)
    partial = client.get_collection("reviews.use")
    assert 60 <= partial.count() < len(texts) and partial.metadata["complete"] is False
    resumed = subprocess.run([*command, f"export_dir={tmp_path / 'export'}"], capture_output=True, text=True,
                             env=env, cwd=ROOT, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "were already there from an earlier run" in resumed.stdout
    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert again.returncode == 0 and "nothing added" in again.stdout
    client = open_store(store)
    target = client.get_collection("reviews.use")
    assert target.count() == len(texts) and target.metadata["complete"] is True
    # Every vector, those written before the kill and after, is what one uninterrupted pass writes:
    # the translator (fitted on the same seeded calibration sample each time) applied to the source vector.
    translator = Translator.load(tmp_path / "export")
    source, migrated = stored(client.get_collection("reviews")), stored(target)
    assert all(np.allclose(migrated[i][0], translator.translate(source[i][0]), atol=1e-5) for i in source)


def test_the_gate_refuses_a_random_map_and_writes_nothing(texts, minilm_vectors, tmp_path):
    store = tmp_path / "store"
    fill(open_store(store), texts, minilm_vectors)
    net = LinearTranslator(384, 512)  # random weights
    Translator(net, {"net": {"_target_": "embtrans.translators.linear.LinearTranslator"},
                     "model_a": {"name": "minilm", "dim": 384}, "model_b": {"name": "use", "dim": 512}}).save(tmp_path / "random")
    command = [sys.executable, str(ROOT / "migrate.py"), "source_collection=reviews", f"chroma.path={store}",
               *MODELS, *SMALL, f"translator_dir={tmp_path / 'random'}", f"paths.log_dir={tmp_path}"]
    refused = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                             cwd=ROOT, timeout=600)
    assert refused.returncode == 3, refused.stderr
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "matching top-1" in errors[0] and "gate.min_top1=0.5" in errors[0]
    assert "Traceback" not in refused.stderr
    names = [c.name for c in open_store(store).list_collections()]
    assert names == ["reviews"]
    # The same collection with a fitted Procrustes map passes (and a dry run writes nothing either).
    migrate(configure(tmp_path, f"chroma.path={store}", "dry_run=true"))
    assert [c.name for c in open_store(store).list_collections()] == ["reviews"]


def test_query_mode_searches_the_unchanged_collection_with_translated_queries(texts, minilm_vectors, tmp_path):
    store = tmp_path / "store"
    source = fill(open_store(store), texts, minilm_vectors)
    before = stored(source)
    migrate(configure(tmp_path, f"chroma.path={store}", "mode=query", f"export_dir={tmp_path / 'queries'}"))
    translator = Translator.load(tmp_path / "queries")
    assert (translator.info["model_a"]["name"], translator.info["model_b"]["name"]) == ("use", "minilm")
    client = open_store(store)
    collection = client.get_collection("reviews")
    assert [c.name for c in client.list_collections()] == ["reviews"]
    assert all(np.array_equal(stored(collection)[i][0], before[i][0]) for i in before)
    # use's query vectors, translated into minilm's space, find the text itself among the collection.
    from hydra.utils import instantiate

    sample = texts.sample(60, random_state=1)
    queries = instantiate(configure(tmp_path).model_b.encoder).encode(list(sample["text"]), "query")
    found = collection.query(query_embeddings=translator.translate(queries), n_results=5, include=[])["ids"]
    assert np.mean([text_id in hits for text_id, hits in zip(sample["id"], found)]) > 0.8


@pytest.mark.parametrize("overrides, phrase", [
    (["source_collection=nope"], "there is no collection 'nope'"),
    (["model_a=mpnet"], "holds 384-dimensional vectors, but model_a=mpnet gives 768"),
    (["calibration.size=60"], "the calibration sample has 60 texts"),
    (["arch=linear"], "arch=linear is trained, not fitted"),
    (["chroma.path=null", "chroma.host=127.0.0.1", "chroma.port=1"], "no Chroma server answers at http://127.0.0.1:1"),
])
def test_bad_input_is_one_line_and_leaves_the_source_as_it_was(texts, minilm_vectors, tmp_path, overrides, phrase):
    store = tmp_path / "store"
    fill(open_store(store), texts, minilm_vectors)
    with pytest.raises(UserError, match=phrase):
        migrate(configure(tmp_path, f"chroma.path={store}", *overrides))
    client = open_store(store)
    assert [c.name for c in client.list_collections()] == ["reviews"] and client.get_collection("reviews").count() == len(texts)


def test_a_missing_collection_name_is_one_line(tmp_path):
    cfg = configure(tmp_path, "chroma.path=.")
    cfg.source_collection = "???"  # as conf/migrate.yaml leaves it
    with pytest.raises(UserError, match="say which collection to migrate: source_collection=<name>"):
        migrate(cfg)


def test_gate_refusal_is_its_own_exception(texts, minilm_vectors, tmp_path):
    store = tmp_path / "store"
    fill(open_store(store), texts, minilm_vectors)
    with pytest.raises(GateRefused, match="gate.min_top1=0.9999"):
        migrate(configure(tmp_path, f"chroma.path={store}", "gate.min_top1=0.9999", "arch=lstsq"))


def test_calibration_queries_add_a_search_retention_estimate_to_the_gate(rotten_tomatoes, texts, minilm_vectors,
                                                                        tmp_path, capsys):
    store = tmp_path / "store"
    fill(open_store(store), texts, minilm_vectors)
    dataset = limit_groups(rotten_tomatoes, 600, seed=0)
    text_of = dict(zip(dataset.texts["id"], dataset.texts["text"]))
    lines = [json.dumps({"text": text_of[query], "relevant": relevant})
             for query, relevant in list(dataset.relevance.items())[:40]]
    (tmp_path / "queries.jsonl").write_text("\n".join(lines) + "\n")
    queries = [f"calibration.queries={tmp_path / 'queries.jsonl'}"]
    migrate(configure(tmp_path, f"chroma.path={store}", *queries, "gate.min_retention=0.2", "dry_run=true"))
    shown = capsys.readouterr().out
    assert "nDCG@10 retention (40 queries)" in shown and "FAIL" not in shown
    with pytest.raises(GateRefused, match=r"nDCG@10 retention \(40 queries\) is .* gate.min_retention=5 needs"):
        migrate(configure(tmp_path, f"chroma.path={store}", *queries, "gate.min_retention=5"))
    (tmp_path / "queries.jsonl").write_text('{"text": "no ids"}\n')
    with pytest.raises(UserError, match="queries.jsonl, line 1: expected"):
        migrate(configure(tmp_path, f"chroma.path={store}", *queries))


def test_auto_fits_each_closed_form_and_keeps_the_best_on_a_validation_part(texts, minilm_vectors, tmp_path, capsys):
    import re

    store = tmp_path / "store"
    fill(open_store(store), texts, minilm_vectors)
    migrate(configure(tmp_path, f"chroma.path={store}", "arch=auto", "dry_run=true"))
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("arch=auto chose"))
    scores = {name: float(score) for name, score in re.findall(r"(lstsq|procrustes) ([0-9.]+)", line)}
    assert set(scores) == {"lstsq", "procrustes"}
    assert line.startswith(f"arch=auto chose {max(scores, key=scores.get)}:")
    assert "trained candidates need a training run: orthogonal, linear_retrieval" in line
    # a menu of trained translators only has nothing to fit here: one line saying what to do instead
    with pytest.raises(UserError, match=r"no closed form to fit here.*python train.py arch=auto.*run_dir="):
        migrate(configure(tmp_path, f"chroma.path={store}", "arch=auto", "~arch.menu.lstsq", "~arch.menu.procrustes"))
