"""OpenAI's embedding API (or any server speaking it, through ``base_url``). Needs network and an API key."""

from __future__ import annotations

import os

import numpy as np

from embtrans.data.encoders.base import Encoder
from embtrans.errors import UserError


class OpenAIEncoder(Encoder):
    """Sends at most ``batch_size`` texts per request (the API takes up to 2048); ``dimensions`` shortens
    text-embedding-3 vectors server-side."""

    def __init__(
        self,
        name: str,
        dim: int,
        model: str = "text-embedding-3-small",
        dimensions: int | None = None,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        max_retries: int = 5,
        timeout: float = 60.0,
        **kwargs,
    ) -> None:
        kwargs.setdefault("batch_size", 256)
        super().__init__(name, dim, **kwargs)
        if not 1 <= self.batch_size <= 2048:
            raise UserError(f"batch_size for {name!r} must be from 1 to 2048 (the API's limit), not {self.batch_size}")
        self.model = model
        self.dimensions = dimensions
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.max_retries = int(max_retries)
        self.timeout = float(timeout)
        self._client = None

    #: the API returns unit-length vectors
    normalized = True

    def version(self) -> str:
        return f"openai:{self.model}:{self.dimensions}"

    def long_text_policy(self) -> str:
        return "texts over the model's input limit (8192 tokens) are rejected by the API"

    def _load(self):
        if self._client is None:
            api_key = os.environ.get(self.api_key_env)
            if not api_key:
                raise UserError(
                    f"encoder {self.name!r} needs an OpenAI API key: set the environment variable {self.api_key_env}"
                )
            from openai import OpenAI

            self._client = OpenAI(
                api_key=api_key, base_url=self.base_url, max_retries=self.max_retries, timeout=self.timeout
            )
        return self._client

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        import openai

        client = self._load()
        extra = {} if self.dimensions is None else {"dimensions": int(self.dimensions)}
        out = []
        for start in range(0, len(texts), self.batch_size):
            # the API rejects empty strings
            batch = [text or " " for text in texts[start : start + self.batch_size]]
            try:
                response = client.embeddings.create(input=batch, model=self.model, **extra)
            except openai.AuthenticationError:
                raise UserError(
                    f"the API key in {self.api_key_env} was rejected by {client.base_url}: set a valid key"
                ) from None
            except openai.APIConnectionError as error:
                raise UserError(
                    f"could not reach {client.base_url} for {self.name!r} ({error}): check the network or base_url"
                ) from None
            data = sorted(response.data, key=lambda item: item.index)
            if [item.index for item in data] != list(range(len(batch))):
                raise RuntimeError(f"{client.base_url} answered {len(data)} embeddings for {len(batch)} texts")
            out.append(np.asarray([item.embedding for item in data], dtype=np.float32))
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(out)
