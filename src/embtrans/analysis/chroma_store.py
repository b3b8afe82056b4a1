"""One persistent ChromaDB store holding a collection per embedding dataset (native or translated).

Chroma's embedded mode is not safe across processes (chroma #421, #1209), so one process holds a
file lock on the store while it writes; sweep jobs never touch it. Vectors are always passed in:
no collection has an embedding function, so Chroma never downloads its default model.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from embtrans.errors import UserError
from embtrans.files import content_hash

log = logging.getLogger(__name__)

NAME_PART = re.compile(r"[^a-zA-Z0-9_-]+")


def collection_name(*parts: str) -> str:
    """Chroma allows 3-512 characters of [a-zA-Z0-9._-], starting and ending alphanumeric: parts are
    cleaned and joined with dots."""
    name = ".".join(NAME_PART.sub("_", part).strip("_-") for part in parts if part)
    if len(name) < 3 or len(name) > 512:
        raise ValueError(f"collection name {name!r} must have 3 to 512 characters")
    return name


class EmbeddingStore:
    """Use as a context manager: it holds the store's lock for as long as it is open."""

    def __init__(self, path: Path, lock_timeout: float = 60):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.client = None

    def __enter__(self) -> EmbeddingStore:
        import chromadb
        from chromadb.config import Settings

        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.path / ".writer.lock")
        try:
            self._lock.acquire(timeout=self.lock_timeout)
        except Timeout:
            raise UserError(f"another process is writing the Chroma store {self.path} (its lock "
                            f"{self._lock.lock_file} is held): wait for it to finish") from None
        # Telemetry off: it would try to reach the network on every client.
        self.client = chromadb.PersistentClient(str(self.path), settings=Settings(anonymized_telemetry=False))
        return self

    def __exit__(self, *exc) -> None:
        self.client = None
        self._lock.release()

    def sync(self, name: str, ids: Sequence[str], vectors: np.ndarray, metadatas: list[dict],
             documents: list[str] | None = None, description: dict | None = None) -> int:
        """Add the vectors whose ids the collection lacks; return how many were added.

        Ids are stable text ids, so re-running adds no duplicates. The collection records a hash of
        the vectors it was filled from: when the source's vectors have changed since (a run trained
        again, a file replaced), the collection is rebuilt rather than trusted.
        """
        if len(ids) != len(vectors) or len(ids) != len(metadatas):
            raise ValueError(f"{len(ids)} ids, {len(vectors)} vectors and {len(metadatas)} metadatas for {name}")
        digest = content_hash(vectors, extra=list(ids))
        if name in self.names() and (self.client.get_collection(name).metadata or {}).get("vectors_hash") != digest:
            log.warning("Chroma: rebuilding %s, whose stored vectors are not the source's current ones", name)
            self.client.delete_collection(name)
        collection = self.client.get_or_create_collection(
            name, embedding_function=None,
            metadata={**(description or {}), "dim": int(vectors.shape[1]), "vectors_hash": digest},
            # One insertion thread: the graph, and so the order of equally near vectors (duplicate
            # texts), is then the same at every build; a collection holds a few hundred passages.
            configuration={"hnsw": {"space": "cosine", "ef_search": 200, "ef_construction": 200, "num_threads": 1}},
        )
        present = set(collection.get(ids=list(ids), include=[])["ids"]) if collection.count() else set()
        missing = [i for i, text_id in enumerate(ids) if text_id not in present]
        batch = self.client.get_max_batch_size()
        for start in range(0, len(missing), batch):
            rows = missing[start:start + batch]
            collection.add(
                ids=[ids[i] for i in rows],
                embeddings=np.ascontiguousarray(vectors[rows], dtype=np.float32),
                metadatas=[metadatas[i] for i in rows],
                documents=[documents[i] for i in rows] if documents is not None else None,
            )
        return len(missing)

    def search(self, name: str, queries: np.ndarray, k: int, among: Sequence[str] | None = None) -> list[list[str]]:
        """Ids of the k nearest stored vectors (cosine) to each query, best first, optionally only among
        the given ids."""
        collection = self.client.get_collection(name)
        result = collection.query(query_embeddings=np.ascontiguousarray(queries, dtype=np.float32),
                                  n_results=k, ids=list(among) if among is not None else None, include=[])
        return result["ids"]

    def count(self, name: str) -> int:
        return self.client.get_collection(name).count()

    def names(self) -> list[str]:
        return sorted(c.name for c in self.client.list_collections())
