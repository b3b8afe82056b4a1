"""The calibration sample: texts with vectors in both spaces, split once into the part a translator is
fitted on and a held-out part that only the quality gate sees.

Its texts are a seeded sample of the collection's own documents (their stored vectors are model A's,
and re-embedding a few with A checks that), or a text file the user gives, one text per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embtrans.errors import UserError
from embtrans.metrics.neighbours import unit_rows

# The stored vectors must be A's: re-embedded documents agree with them to this cosine (median).
STORED_AGREEMENT = 0.99
STORED_CHECKED = 64


@dataclass
class Calibration:
    texts: list[str]
    source: np.ndarray  # (n, d) vectors of the space translated from
    target: np.ndarray  # (n, d') vectors of the space translated into
    held_out: np.ndarray  # (n,) bool: never used for fitting
    origin: str  # where the texts came from, for the plan and the collection's record
    # Optional search check (calibration.queries): queries embedded by the target model, and which
    # held-out texts are relevant to each, (q, n) bool.
    queries: np.ndarray | None = None
    relevant: np.ndarray | None = None

    @property
    def fit_rows(self) -> np.ndarray:
        return np.flatnonzero(~self.held_out)

    @property
    def held_out_rows(self) -> np.ndarray:
        return np.flatnonzero(self.held_out)


def held_out_mask(count: int, fraction: float, seed: int, minimum: int) -> np.ndarray:
    """A seeded held-out share of ``count`` texts; refuses a sample too small to leave ``minimum`` on each side."""
    held = int(round(count * fraction))
    if held < minimum or count - held < minimum:
        raise UserError(f"the calibration sample has {count} texts: holding out {fraction:.0%} leaves {held} for "
                        f"the quality gate and {count - held} to fit on, and each needs at least {minimum}: raise "
                        "calibration.size (or give a longer calibration.texts file)")
    mask = np.zeros(count, dtype=bool)
    mask[np.random.default_rng(seed).choice(count, held, replace=False)] = True
    return mask


def sample_documents(collection, size: int, seed: int, page: int = 10_000) -> tuple[list[str], list[str], np.ndarray]:
    """A seeded sample of at most ``size`` of the collection's documents: ids, texts, stored vectors.

    Reads the ids page by page (no vectors), draws, then fetches only the drawn rows."""
    ids, offset = [], 0
    while True:
        got = collection.get(limit=page, offset=offset, include=[])["ids"]
        ids += got
        offset += len(got)
        if len(got) < page:
            break
    if not ids:
        raise UserError(f"the collection {collection.name!r} is empty: there is nothing to migrate or calibrate on")
    chosen = sorted(np.random.default_rng(seed).choice(len(ids), min(size, len(ids)), replace=False))
    wanted = [ids[i] for i in chosen]
    got = collection.get(ids=wanted, include=["embeddings", "documents"])
    by_id = {i: (doc, vec) for i, doc, vec in zip(got["ids"], got["documents"], got["embeddings"])}
    kept = [i for i in wanted if by_id[i][0]]  # a row without its text cannot be re-embedded
    if len(kept) < len(wanted) // 2:
        raise UserError(f"most sampled rows of {collection.name!r} have no document text to re-embed with the new "
                        "model: give calibration.texts=<a file of texts like the collection's, one per line>")
    return kept, [by_id[i][0] for i in kept], np.asarray([by_id[i][1] for i in kept], dtype=np.float32)


def check_stored_vectors(stored: np.ndarray, texts: list[str], encoder, collection_name: str) -> float:
    """Re-embed a few documents with model A: the stored vectors must be what A gives (else the
    collection was embedded with another model, and a translator from A would be the wrong one)."""
    count = min(STORED_CHECKED, len(texts))
    again = encoder.encode(texts[:count], "passage")
    cosine = (unit_rows(again) * unit_rows(stored[:count])).sum(dim=1)
    median = float(cosine.median())
    if median < STORED_AGREEMENT:
        raise UserError(f"the vectors stored in {collection_name!r} are not {encoder.name}'s: re-embedding {count} "
                        f"of its documents with {encoder.name} gives a median cosine of {median:.3f} to the stored "
                        f"ones: set model_a to the model that embedded the collection")
    return median


def read_queries(path: Path | str) -> list[tuple[str, list[str]]]:
    """calibration.queries: JSON Lines of {"text": <query>, "relevant": [<ids of relevant documents>]}."""
    import json

    path = Path(path)
    if not path.is_file():
        raise UserError(f"calibration.queries={path} is not a file: give JSON Lines of "
                        '{"text": <query>, "relevant": [<document ids>]}')
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, relevant = str(row["text"]), [str(i) for i in row["relevant"]]
        except (ValueError, KeyError, TypeError):
            raise UserError(f'{path}, line {number}: expected {{"text": <query>, "relevant": [<document ids>]}}') from None
        if relevant:
            queries.append((text, relevant))
    if not queries:
        raise UserError(f"{path} has no query with a relevant document id")
    return queries


def read_text_file(path: Path | str) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"calibration.texts={path} is not a file: give a text file with one text per line")
    texts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(texts))  # a repeated line would sit on both sides of the split

