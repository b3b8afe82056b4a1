"""What every text encoder offers the embedding cache: a dim, an identity, and encode(texts, kind)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from embtrans.errors import UserError


class Encoder(ABC):
    """Turns texts into float32 vectors of one model's space.

    ``query_prefix`` / ``passage_prefix`` are the model's documented instructions
    (e5's ``query: ``, bge's query instruction); they are prepended here so every
    encoder applies them the same way and the manifest records them.
    """

    def __init__(
        self,
        name: str,
        dim: int,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
    ) -> None:
        self.name = name
        self.dim = int(dim)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = int(batch_size)

    #: whether the vectors come out L2-normalised (recorded in the cache manifest)
    normalized: bool = True

    @abstractmethod
    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        """Embed texts that already carry their prefix; ``kind`` is there for models that prefix themselves."""

    def version(self) -> str:
        """What changes when the weights or the preprocessing change; a new value invalidates cached vectors."""
        return "unknown"

    def identity(self) -> dict[str, Any]:
        """What decides this encoder's output, known without loading it: cached vectors made
        under another identity are stale."""
        return {
            "model": self.name,
            "class": type(self).__name__,
            "version": self.version(),
            "dim": self.dim,
            "query_prefix": self.query_prefix,
            "passage_prefix": self.passage_prefix,
        }

    def describe(self) -> dict[str, Any]:
        """The identity plus facts read off the loaded model, for the cache manifest."""
        return {**self.identity(), "normalized": self.normalized, "long_texts": self.long_text_policy()}

    def long_text_policy(self) -> str:
        return "truncated to the model's maximum sequence length"

    def encode(self, texts: list[str], kind: str) -> np.ndarray:
        """Embed one batch of texts of one kind ('query' or 'passage') into an (n, dim) float32 array."""
        if kind not in ("query", "passage"):
            raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        vectors = np.asarray(self._embed([prefix + t for t in texts], kind), dtype=np.float32)
        if vectors.shape != (len(texts), self.dim):
            raise UserError(
                f"model {self.name!r} produced vectors of shape {vectors.shape} for {len(texts)} texts, "
                f"but its config says dim={self.dim}: fix the model's 'dim' in conf/encoder/{self.name}.yaml"
            )
        return vectors
