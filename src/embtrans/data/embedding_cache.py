"""Embed each text once per model and keep it on disk.

Layout: ``<root>/<dataset>/<model>/`` holds ``vectors.npy`` (n x dim float32, memory-mappable),
``keys.npy`` (one hash of kind + text per row) and ``manifest.json`` (the encoder's identity,
normalisation, long-text policy, row count, dim and the files' checksums).

The cache is keyed by text, not by run: a larger ``dataset.limit`` embeds only the texts it adds.
A file lock makes parallel jobs wait for one writer instead of embedding twice. A stale entry
(another model version or prefix) or a corrupt one is reported in one line and rebuilt; files are
replaced atomically, and nothing outside the entry is touched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from filelock import FileLock
from tqdm.auto import tqdm

from embtrans.data.encoders.base import Encoder
from embtrans.data.text_dataset import TextDataset
from embtrans.errors import UserError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
FLUSH_EVERY_S = 120  # a long embedding job saves its progress this often


def text_keys(kinds, texts) -> np.ndarray:
    """One 32-hex-digit key per (kind, text): the prefix a model applies depends on the kind."""
    return np.array(
        [hashlib.blake2b(f"{k}\x1f{t}".encode(), digest_size=16).hexdigest() for k, t in zip(kinds, texts)],
        dtype="S32",
    )


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


class CacheProblem(Exception):
    """Why an entry cannot be used (stale or corrupt); it gets rebuilt."""


class EmbeddingCache:
    def __init__(self, root: str | Path, show_progress: bool = True) -> None:
        self.root = Path(root)
        self.show_progress = show_progress

    def entry_dir(self, dataset_name: str, model_name: str) -> Path:
        return self.root / dataset_name / model_name

    def embeddings(self, dataset: TextDataset, encoder: Encoder) -> tuple[np.ndarray, dict]:
        """Vectors aligned with ``dataset.texts`` rows, and the entry's manifest."""
        keys = text_keys(dataset.texts["kind"], dataset.texts["text"])
        folder = self.entry_dir(dataset.name, encoder.name)
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / ".lock"))
        try:
            lock.acquire(timeout=1)
        except TimeoutError:
            log.info("waiting for another process that is embedding into %s", folder)
            lock.acquire()
        try:
            cached_keys, cached_vectors, manifest = self._read_or_discard(folder, encoder)
            missing = np.setdiff1d(np.unique(keys), cached_keys, assume_unique=True)
            if len(missing):
                cached_keys, cached_vectors, manifest = self._embed_missing(
                    folder, dataset, encoder, keys, missing, cached_keys, cached_vectors
                )
            else:
                log.info("reusing cached %s embeddings of %d %s texts from %s",
                         encoder.name, len(keys), dataset.name, folder)
        finally:
            lock.release()
        row = {key: i for i, key in enumerate(cached_keys)}
        vectors = np.asarray(cached_vectors[np.fromiter((row[k] for k in keys), np.int64, len(keys))])
        return vectors, manifest

    def _read_or_discard(self, folder: Path, encoder: Encoder):
        empty = np.empty(0, dtype="S32"), np.empty((0, encoder.dim), dtype=np.float32), None
        if not (folder / "manifest.json").exists():
            return empty
        try:
            return self._read(folder, encoder)
        except CacheProblem as problem:
            log.warning("embedding cache %s is %s; rebuilding it", folder, problem)
            return empty

    def _read(self, folder: Path, encoder: Encoder):
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError) as error:
            raise CacheProblem(f"corrupt (manifest.json unreadable: {error})") from None
        if manifest.get("format") != FORMAT_VERSION:
            raise CacheProblem(f"stale (cache format {manifest.get('format')}, expected {FORMAT_VERSION})")
        identity = encoder.identity()
        if manifest.get("identity") != identity:
            changed = sorted(k for k in identity if manifest.get("identity", {}).get(k) != identity[k])
            raise CacheProblem(f"stale (the encoder's {', '.join(changed) or 'identity'} changed)")
        for name in ("vectors.npy", "keys.npy"):
            path = folder / name
            if not path.exists() or file_digest(path) != manifest["sha256"].get(name):
                raise CacheProblem(f"corrupt ({name} is missing or does not match its checksum)")
        try:
            vectors = np.load(folder / "vectors.npy", mmap_mode="r")
            keys = np.load(folder / "keys.npy")
        except (OSError, ValueError) as error:
            raise CacheProblem(f"corrupt ({error})") from None
        if vectors.shape != (manifest["n"], encoder.dim) or keys.shape != (manifest["n"],):
            raise CacheProblem(
                f"corrupt (shapes {vectors.shape} / {keys.shape}, manifest says {manifest['n']} x {encoder.dim})"
            )
        return keys, vectors, manifest

    def _embed_missing(self, folder, dataset, encoder, keys, missing, cached_keys, cached_vectors):
        texts = dataset.texts
        first_row = {}
        for i, key in enumerate(keys):
            first_row.setdefault(key, i)
        rows = np.array([first_row[k] for k in missing])
        kinds, lengths = texts["kind"].to_numpy()[rows], texts["text"].str.len().to_numpy()[rows]
        new_keys, new_vectors, description = [], [], None
        last_flush = time.monotonic()
        chunk = max(encoder.batch_size * 4, 64)
        with tqdm(total=len(rows), desc=f"embedding {dataset.name} with {encoder.name}",
                  unit="text", disable=not self.show_progress) as bar:
            for kind in ("query", "passage"):
                # Longest first: batches of similar length pad less, and an out-of-memory error
                # shows up in the first batch rather than the last.
                of_kind = rows[kinds == kind][np.argsort(-lengths[kinds == kind], kind="stable")]
                for start in range(0, len(of_kind), chunk):
                    batch = of_kind[start:start + chunk]
                    new_vectors.append(encoder.encode(texts["text"].iloc[batch].tolist(), kind))
                    new_keys.append(keys[batch])
                    bar.update(len(batch))
                    if description is None:
                        description = encoder.describe()
                    if time.monotonic() - last_flush > FLUSH_EVERY_S:
                        cached_keys, cached_vectors, _ = self._write(
                            folder, dataset, encoder, description, cached_keys, cached_vectors,
                            new_keys, new_vectors)
                        new_keys, new_vectors, last_flush = [], [], time.monotonic()
        return self._write(folder, dataset, encoder, description, cached_keys, cached_vectors, new_keys, new_vectors)

    def _write(self, folder, dataset, encoder, description, cached_keys, cached_vectors, new_keys, new_vectors):
        all_keys = np.concatenate([cached_keys, *new_keys])
        all_vectors = np.concatenate([np.asarray(cached_vectors), *new_vectors]).astype(np.float32)
        if not np.isfinite(all_vectors).all():
            raise UserError(f"model {encoder.name!r} produced NaN or infinite vectors for {dataset.name!r}")
        identity = encoder.identity()
        tmp = {name: folder / f"{name}.tmp" for name in ("vectors.npy", "keys.npy", "manifest.json")}
        with open(tmp["vectors.npy"], "wb") as handle:
            np.save(handle, all_vectors)
        with open(tmp["keys.npy"], "wb") as handle:
            np.save(handle, all_keys)
        manifest = {
            "format": FORMAT_VERSION,
            "identity": identity,
            **{k: v for k, v in (description or identity).items() if k not in identity},
            "dataset": dataset.name,
            "n": int(len(all_keys)),
            "dim": encoder.dim,
            "dtype": "float32",
            "sha256": {name: file_digest(tmp[name]) for name in ("vectors.npy", "keys.npy")},
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        tmp["manifest.json"].write_text(json.dumps(manifest, indent=2))
        # Data files first, manifest last: a crash in between leaves checksums that do not match,
        # which the next reader reports and rebuilds.
        for name in ("vectors.npy", "keys.npy", "manifest.json"):
            os.replace(tmp[name], folder / name)
        log.info("cached %d %s embeddings of %s in %s", len(all_keys), encoder.name, dataset.name, folder)
        return all_keys, np.load(folder / "vectors.npy", mmap_mode="r"), manifest
