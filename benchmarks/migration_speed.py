"""How fast migrate.py's corpus mode copies a collection, against Chroma's own bare `add` of the same
vectors on the same machine, and how its memory grows while it does.

    python benchmarks/migration_speed.py                   # every WordNet gloss (~134k)
    python benchmarks/migration_speed.py --limit 20000
    python benchmarks/migration_speed.py --server          # through a Chroma server (chroma run)

The source collection holds the glosses' GloVe vectors (50 dims, the fastest offline encoder) with
their texts and ids; the translator is Procrustes GloVe -> MiniLM (384 dims) fitted on 2,000 glosses
embedded by both. Two child processes then write the same 384-dimensional vectors into a fresh
collection of the same store, page by page: "bare" adds vectors translated beforehand (Chroma's add
alone), "migrate" runs migrate_pages (read a page of the source, check which ids the target has,
translate, add). Each reports its rate and its resident memory after each quarter of the pages.
With a persistent folder, the writer's process also holds Chroma's growing index of the target; with
--server the index grows in the server, and the writer's own memory is what the migration costs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402


def client_of(store: str):
    """A persistent folder, or host:port of a server."""
    import chromadb
    from chromadb.config import Settings

    if store.startswith("http://"):
        host, port = store.removeprefix("http://").split(":")
        return chromadb.HttpClient(host=host, port=int(port), settings=Settings(anonymized_telemetry=False))
    return chromadb.PersistentClient(store, settings=Settings(anonymized_telemetry=False))


def start_server(folder: str):
    """`chroma run` on a free local port; returns (process, its address)."""
    import shutil
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    executable = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    server = subprocess.Popen([executable, "run", "--path", folder, "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            client_of(address).heartbeat()
            return server, address
        except Exception:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the Chroma server did not start")


def rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def prepare(store: str, limit: int | None, batch: int, translator_dir: str) -> int:
    """The source collection (GloVe vectors of the glosses) and the fitted translator; returns its size."""
    import torch

    from embtrans.data.encoders.glove import GloveAverageEncoder
    from embtrans.data.encoders.sentence_transformer import SentenceTransformerEncoder
    from embtrans.data.sources.wordnet import load_wordnet
    from embtrans.translators.artefact import Translator
    from embtrans.translators.closed_form import ProcrustesTranslator

    glosses = load_wordnet().texts.query("kind == 'passage'")
    if limit:
        glosses = glosses.head(limit)
    ids, texts = glosses["id"].astype(str).tolist(), glosses["text"].tolist()
    glove = GloveAverageEncoder("glove", 50)
    started = time.perf_counter()
    vectors = np.concatenate([glove.encode(texts[i:i + 8192], "passage") for i in range(0, len(texts), 8192)])
    print(f"embedded {len(texts):,} glosses with GloVe in {time.perf_counter() - started:.1f} s", flush=True)
    source = client_of(store).create_collection("glosses", embedding_function=None,
                                                configuration={"hnsw": {"space": "cosine"}})
    started = time.perf_counter()
    for i in range(0, len(ids), batch):
        source.add(ids=ids[i:i + batch], embeddings=vectors[i:i + batch], documents=texts[i:i + batch])
    print(f"source collection: {len(ids):,} vectors added in {time.perf_counter() - started:.1f} s", flush=True)
    sample = np.random.default_rng(0).choice(len(texts), 2000, replace=False)
    minilm = SentenceTransformerEncoder("minilm", 384, bundled="minilm").encode([texts[i] for i in sample], "passage")
    net = ProcrustesTranslator(50, 384)
    fit, val = sample[:1800], sample[1800:]
    net.fit(torch.from_numpy(vectors[fit]), torch.from_numpy(minilm[:1800]), torch.from_numpy(vectors[val]),
            torch.from_numpy(minilm[1800:]))
    Translator(net, {"net": {"_target_": "embtrans.translators.closed_form.ProcrustesTranslator"},
                     "model_a": {"name": "glove", "dim": 50}, "model_b": {"name": "minilm", "dim": 384}}
               ).save(translator_dir)
    return len(ids)


def child(mode: str, store: str, batch: int, translator_dir: str) -> None:
    """One writer: bare adds of pre-translated vectors, or migrate_pages; prints JSON."""
    from embtrans.migrate.corpus import migrate_pages
    from embtrans.translators.artefact import Translator

    translator = Translator.load(translator_dir)
    client = client_of(store)
    source = client.get_collection("glosses")
    total = source.count()
    quarters, memory = {max(1, round(total * q / 4)) for q in (1, 2, 3, 4)}, {}
    target = client.create_collection(mode, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    start_rss = rss_mib()
    if mode == "bare":
        rows = source.get(include=["embeddings", "documents"])  # read and translated before the clock starts
        ids, documents = rows["ids"], rows["documents"]
        vectors = translator.translate(np.asarray(rows["embeddings"], dtype=np.float32))
        start_rss = rss_mib()
        started = time.perf_counter()
        for i in range(0, total, batch):
            target.add(ids=ids[i:i + batch], embeddings=vectors[i:i + batch], documents=documents[i:i + batch])
            done = min(i + batch, total)
            if any(done >= q > i for q in quarters):
                memory[f"{done / total:.0%}"] = round(rss_mib() - start_rss)
        seconds = time.perf_counter() - started
    else:
        def record(progress):
            done = progress.added + progress.present
            if any(done >= q > done - batch for q in quarters):
                memory[f"{done / total:.0%}"] = round(rss_mib() - start_rss)

        seconds = migrate_pages(source, target, translator.translate, batch, on_page=record).seconds
    print(json.dumps({"mode": mode, "vectors": target.count(), "seconds": seconds, "rate": total / seconds,
                      "memory_growth_mib": memory, "start_rss_mib": round(start_rss)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N glosses (default: all)")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--server", action="store_true", help="through a Chroma server instead of a folder")
    parser.add_argument("--child", choices=["bare", "migrate"], help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--translator", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.store, args.batch, args.translator)
        return
    with tempfile.TemporaryDirectory() as scratch:
        store, translator_dir, server = f"{scratch}/store", f"{scratch}/translator", None
        if args.server:
            server, store = start_server(store)
        total = prepare(store, args.limit, args.batch, translator_dir)
        results = {}
        for mode in ("bare", "migrate"):
            command = [sys.executable, __file__, "--child", mode, "--store", store, "--translator", translator_dir,
                       "--batch", str(args.batch)]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            results[mode] = json.loads(out.strip().splitlines()[-1])
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        bare, migrated = results["bare"], results["migrate"]
        where = "a Chroma server on this machine" if args.server else "a persistent Chroma folder"
        print(f"\n{total:,} WordNet glosses, GloVe (50) -> MiniLM (384) by Procrustes, pages of {args.batch:,}, "
              f"{where}, {os.cpu_count()} cores:")
        for result in (bare, migrated):
            print(f"  {result['mode']:8s} {result['vectors']:,} vectors in {result['seconds']:.1f} s = "
                  f"{result['rate']:,.0f} per second; resident memory above its start after each quarter "
                  f"(MiB): {result['memory_growth_mib']}")
        print(f"  migration rate / bare add rate = {migrated['rate'] / bare['rate']:.2f}")


if __name__ == "__main__":
    main()
