"""Writing analysis outputs so that re-running leaves unchanged files untouched, and results reusable."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def write_if_changed(path: Path, content: str | bytes) -> bool:
    """Write atomically, and only if the content differs: a re-run keeps files (and mtimes) it would not change."""
    data = content.encode() if isinstance(content, str) else content
    path = Path(path)
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda handle: handle.write(data))
    return True


def write_atomically(path: Path, write: Callable) -> None:
    """``write(handle)`` fills a temporary file beside ``path``, which then replaces ``path`` at once."""
    # A name of our own rather than mkstemp, whose files are private (0600) whatever the umask.
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def content_hash(*arrays: np.ndarray, extra: object = None, size: int = 8) -> str:
    """A hash of the arrays' values, shapes and dtypes and of ``extra`` (JSON-able settings): the key of
    every cached result, so a result is reused only for identical inputs."""
    digest = hashlib.blake2b(digest_size=size)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}\x1f{array.dtype.str}".encode())
        digest.update(array.data)
    digest.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def cached_json(path: Path, key: str, compute: Callable[[], dict]) -> dict:
    """The result stored at ``path`` if it was computed for ``key``, else compute and store it.

    The key hashes every input (vectors and settings), so a stale result is never reused; an
    unreadable file is reported in one line and recomputed.
    """
    path = Path(path)
    if path.exists():
        try:
            stored = json.loads(path.read_text())
            if stored.get("key") == key:
                return stored["result"]
        except (OSError, ValueError, AttributeError, KeyError) as error:
            log.warning("recomputing %s: it cannot be read (%s)", path, error)
    result = compute()
    write_if_changed(path, json.dumps({"key": key, "result": result}, indent=1, default=float))
    return result


def has_cached_scores(path: Path, key: str) -> bool:
    """Whether cached_scores would read ``path`` back for ``key`` (without loading its arrays)."""
    path = Path(path)
    try:
        return path.with_suffix(".npz").exists() and json.loads(path.read_text()).get("key") == key
    except (OSError, ValueError, AttributeError):
        return False


def cached_scores(path: Path, key: str, compute: Callable[[], tuple[dict, dict]]) -> tuple[dict, dict[str, np.ndarray]]:
    """Like cached_json, for a score set and its per-item values (one array per metric: what the
    intervals resample), kept in an .npz beside the JSON under the same key."""
    path, arrays = Path(path), Path(path).with_suffix(".npz")
    if path.exists() and arrays.exists():
        try:
            stored = json.loads(path.read_text())
            with np.load(arrays, allow_pickle=False) as npz:
                if stored.get("key") == key and str(npz["__key__"]) == key:
                    return stored["result"], {name: npz[name] for name in npz.files if name != "__key__"}
        except (OSError, ValueError, AttributeError, KeyError) as error:
            log.warning("recomputing %s: it cannot be read (%s)", path, error)
    result, items = compute()
    buffer = io.BytesIO()
    np.savez(buffer, __key__=np.array(key), **{name: np.asarray(values, dtype=np.float64)
                                                for name, values in items.items()})
    write_if_changed(arrays, buffer.getvalue())
    write_if_changed(path, json.dumps({"key": key, "result": result}, indent=1, default=float))
    return result, {name: np.asarray(values, dtype=np.float64) for name, values in items.items()}
