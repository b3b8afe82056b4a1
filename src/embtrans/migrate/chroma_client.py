"""The Chroma a migration reads and writes: a persistent store on disk (``chroma.path``) or a server over
HTTP (``chroma.host``, ``chroma.port``, as started by ``chroma run --path <dir> --port <port>``)."""

from __future__ import annotations

from pathlib import Path

from embtrans.errors import UserError


def connect(chroma) -> object:
    """A Chroma client for the configured store; one line naming what is wrong when it cannot be reached."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)  # telemetry would try to reach the network
    if chroma.get("host"):
        url = f"http://{chroma.host}:{chroma.port}"
        try:
            client = chromadb.HttpClient(host=str(chroma.host), port=int(chroma.port), settings=settings)
            client.heartbeat()
        except Exception as error:  # connection refused, DNS, timeout: chromadb wraps them in several types
            raise UserError(f"no Chroma server answers at {url} ({type(error).__name__}): start one with "
                            f"`chroma run --path <dir> --port {chroma.port}`, or set chroma.host=null and "
                            "chroma.path=<a persistent store>") from None
        return client
    if not chroma.get("path"):
        raise UserError("say where the collections are: chroma.path=<a persistent Chroma folder>, or "
                        "chroma.host=<server> chroma.port=<port>")
    path = Path(chroma.path)
    if not path.is_dir():
        raise UserError(f"chroma.path={path} is not a folder: point it at the persistent Chroma store that "
                        "holds the collection")
    return chromadb.PersistentClient(str(path), settings=settings)


def open_collection(client, name: str, where: str):
    """An existing collection, or one line listing those there are."""
    names = sorted(c.name for c in client.list_collections())
    if name not in names:
        shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "") if names else "none"
        raise UserError(f"there is no collection {name!r} in {where} (collections: {shown}): set "
                        "source_collection=<one of them>")
    return client.get_collection(name)


def collection_dim(collection) -> int | None:
    """The dimension of the collection's vectors (None when it is empty)."""
    first = collection.get(limit=1, include=["embeddings"])
    embeddings = first.get("embeddings")
    return None if embeddings is None or len(embeddings) == 0 else len(embeddings[0])


def space_of(collection) -> str:
    """The collection's distance (cosine, l2, ip), for the migrated collection to search the same way."""
    configuration = getattr(collection, "configuration", None) or {}
    hnsw = configuration.get("hnsw") or {}
    return hnsw.get("space") or (collection.metadata or {}).get("hnsw:space") or "l2"
