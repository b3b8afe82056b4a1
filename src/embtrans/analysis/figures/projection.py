"""One 2-D UMAP projection per native space, fitted once and reused by every figure.

Translated vectors are placed into the projection fitted on the native vectors (UMAP's
``transform``), never into one of their own: two separately fitted UMAPs have unrelated axes, so
only a shared projection lets "translated point lies near its native point" be read off a plot.

Layout: ``<cache_dir>/<key>/`` holds ``reducer.pkl`` (the fitted UMAP), ``native_xy.npy`` and
``transformed/<hash>.npy`` (one per set of vectors projected), where ``key`` hashes the native
vectors and every parameter that changes the fit. Files are written to a temporary name and
renamed, under a file lock, so parallel jobs wait for one fit instead of fitting twice. A corrupt
file is reported in one line and rebuilt; other keys are never touched.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np
from filelock import FileLock

from embtrans.files import content_hash, write_atomically

log = logging.getLogger(__name__)

FORMAT_VERSION = 1  # bump when the layout or what goes into the key changes


def check_vectors(vectors, name: str) -> np.ndarray:
    array = np.asarray(vectors)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows x dimensions), got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def read_or_warn(path: Path, read):
    """``read(path)``, or None after one warning line when the file is missing or cannot be used."""
    if not path.exists():
        log.warning("UMAP cache file %s is missing; rebuilding it", path)
        return None
    try:
        return read(path)
    except Exception as error:  # unpickling damaged bytes can raise almost any type; none may escape
        reason = (str(error).splitlines() or [""])[0]
        log.warning("UMAP cache file %s is unreadable (%s: %s); rebuilding it",
                    path, type(error).__name__, reason)
        return None


class SharedProjection:
    """A UMAP fitted on one native space; ``native_xy`` is where the native rows landed."""

    def __init__(self, reducer, native_xy: np.ndarray, folder: Path, dim: int) -> None:
        self.reducer = reducer
        self.native_xy = native_xy
        self.folder = folder
        self.dim = dim  # of the native vectors: what transform() accepts

    @classmethod
    def fit_or_load(
        cls,
        native: np.ndarray,
        cache_dir: Path,
        seed: int = 0,
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        metric: str = "cosine",
    ) -> SharedProjection:
        native = check_vectors(native, "native vectors")
        n = len(native)
        if n < 3:
            raise ValueError(f"a UMAP projection needs at least 3 native vectors, got {n}")
        if n_neighbors >= n:
            log.warning("only %d native vectors: using n_neighbors=%d instead of %d", n, n - 1, n_neighbors)
            n_neighbors = n - 1

        import umap  # slow to import (numba): only where a projection is actually built

        params = {"seed": seed, "n_neighbors": n_neighbors, "min_dist": min_dist, "metric": metric,
                  "approximate_neighbours": True}
        key = content_hash(native, extra=[sorted(params.items()), umap.__version__, FORMAT_VERSION], size=16)
        folder = Path(cache_dir) / key
        folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder / ".lock")):
            loaded = cls._load(folder, native.shape)
            if loaded is not None:
                log.info("reusing the UMAP projection of %d native vectors from %s", n, folder)
                return loaded
            log.info("fitting a UMAP projection of %d x %d native vectors (cached in %s)", n, native.shape[1], folder)
            # random_state makes the fit reproducible and single-threaded; n_jobs=1 says so, which
            # also silences UMAP's warning that it overrode n_jobs. Neighbours come from NN-descent
            # even below 4,096 vectors: UMAP's exact path makes transform() call the metric from
            # Python for every pair, many times slower (benchmarks/analysis_cost.py; docs/performance.md).
            reducer = umap.UMAP(
                n_components=2, n_neighbors=n_neighbors, min_dist=min_dist, metric=metric,
                random_state=seed, transform_seed=seed, n_jobs=1, force_approximation_algorithm=True,
            )
            native_xy = reducer.fit_transform(native).astype(np.float32)
            write_atomically(folder / "reducer.pkl", lambda h: pickle.dump(reducer, h, pickle.HIGHEST_PROTOCOL))
            # native_xy.npy last: its presence means the entry is complete.
            write_atomically(folder / "native_xy.npy", lambda h: np.save(h, native_xy))
        return cls(reducer, native_xy, folder, native.shape[1])

    @classmethod
    def _load(cls, folder: Path, native_shape: tuple[int, int]) -> SharedProjection | None:
        n = native_shape[0]

        def read_xy(path):
            xy = np.load(path, allow_pickle=False)
            if xy.shape != (n, 2) or xy.dtype != np.float32:
                raise ValueError(f"holds {xy.shape} {xy.dtype}, expected ({n}, 2) float32")
            return xy

        def read_reducer(path):
            with open(path, "rb") as handle:
                reducer = pickle.load(handle)
            if getattr(reducer, "embedding_", np.empty(0)).shape != (n, 2):
                raise ValueError("it is not a UMAP fitted on these vectors")
            return reducer

        if not (folder / "native_xy.npy").exists():
            return None  # never finished (or never started): fit without a warning
        native_xy = read_or_warn(folder / "native_xy.npy", read_xy)
        reducer = read_or_warn(folder / "reducer.pkl", read_reducer) if native_xy is not None else None
        if reducer is None:
            return None
        return cls(reducer, native_xy, folder, native_shape[1])

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Place other vectors (e.g. translated A->B) into this projection; (m, 2) float32, cached."""
        vectors = check_vectors(vectors, "vectors to project")
        if vectors.shape[1] != self.dim:
            raise ValueError(
                f"vectors to project have dimension {vectors.shape[1]}, but the projection was fitted "
                f"on native vectors of dimension {self.dim}"
            )
        if len(vectors) == 0:
            return np.empty((0, 2), dtype=np.float32)
        folder = self.folder / "transformed"
        folder.mkdir(exist_ok=True)
        path = folder / f"{content_hash(vectors, size=16)}.npy"

        def read_xy(p):
            xy = np.load(p, allow_pickle=False)
            if xy.shape != (len(vectors), 2) or xy.dtype != np.float32:
                raise ValueError(f"holds {xy.shape} {xy.dtype}, expected ({len(vectors)}, 2) float32")
            return xy

        with FileLock(str(path) + ".lock"):
            xy = read_or_warn(path, read_xy) if path.exists() else None
            if xy is None:
                xy = self.reducer.transform(vectors).astype(np.float32)
                write_atomically(path, lambda h: np.save(h, xy))
        return xy
