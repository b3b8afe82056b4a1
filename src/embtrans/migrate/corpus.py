"""Copy a collection into another model's space: every vector translated, ids, documents and metadata
copied, the source never modified.

Streamed page by page (memory stays one page whatever the collection's size). A re-run adds only the
ids the target still lacks, so an interrupted migration is finished by running it again and a finished
one adds nothing. The target records what it was made from; it is marked complete only at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from embtrans.errors import UserError


@dataclass
class Progress:
    total: int
    added: int = 0
    present: int = 0  # already in the target (an earlier, interrupted run)
    seconds: float = 0.0


def target_collection(client, name: str, record: dict, space: str):
    """The migrated collection, created on first use; one made from another source or translator is
    never written into."""
    existing = {c.name for c in client.list_collections()}
    if name in existing:
        target = client.get_collection(name)
        made_from = {k: (target.metadata or {}).get(k) for k in ("migrated_from", "translator_fingerprint")}
        wanted = {k: record.get(k) for k in made_from}
        if made_from != wanted:
            raise UserError(f"the collection {name!r} exists and was not made by this migration (it records "
                            f"{made_from}, this one is {wanted}): choose another target_collection, or delete it")
        return target
    return client.create_collection(name, embedding_function=None, metadata={**record, "complete": False},
                                    configuration={"hnsw": {"space": space}})


def migrate_pages(source, target, translate: Callable[[np.ndarray], np.ndarray], page: int,
                  on_page: Callable[[Progress], None] | None = None) -> Progress:
    """Translate every page of ``source`` whose ids ``target`` lacks and add it there."""
    progress = Progress(total=source.count())
    # Only an earlier, interrupted run leaves ids in the target: a fresh one skips the per-page look-up.
    resuming = target.count() > 0
    started, offset = time.perf_counter(), 0
    while offset < progress.total:
        rows = source.get(limit=page, offset=offset, include=["embeddings", "documents", "metadatas"])
        ids = rows["ids"]
        if not ids:
            break
        offset += len(ids)
        present = set(target.get(ids=ids, include=[])["ids"]) if resuming else set()
        keep = [i for i, text_id in enumerate(ids) if text_id not in present]
        progress.present += len(ids) - len(keep)
        if keep:
            vectors = np.asarray(rows["embeddings"], dtype=np.float32)[keep]
            documents, metadatas = rows.get("documents"), rows.get("metadatas")
            target.add(ids=[ids[i] for i in keep], embeddings=translate(vectors),
                       documents=[documents[i] for i in keep] if documents is not None else None,
                       metadatas=[metadatas[i] for i in keep] if metadatas is not None and
                       any(metadatas[i] for i in keep) else None)
            progress.added += len(keep)
        progress.seconds = time.perf_counter() - started
        if on_page is not None:
            on_page(progress)
    return progress


def mark_complete(target, record: dict) -> None:
    target.modify(metadata={**(target.metadata or {}), **record, "complete": True})
