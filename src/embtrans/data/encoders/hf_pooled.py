"""Any ``transformers`` model (GPT-2, Llama or another causal LM) pooled into one vector per text. Needs network
for hub ids unless the model is already in the Hugging Face cache or ``model`` names a local folder."""

from __future__ import annotations

import inspect
import os

import numpy as np

from embtrans.data.encoders.base import Encoder
from embtrans.errors import UserError

POOLINGS = ("mean", "last")
DTYPES = ("float32", "float16", "bfloat16", "auto")


def resolve_commit(model: str):
    """The hub revision of ``model`` resolved to a commit, or None for a local folder or when it cannot be resolved.

    transformers 5 no longer records ``config._commit_hash``; it resolves the revision once per load with
    ``resolve_revision`` (a str that carries ``.resolved``), which reads the cache offline and never raises.
    """
    if os.path.isdir(model):
        return None
    try:
        from transformers.utils.hub import resolve_revision
    except ImportError:  # transformers 4: no revision pinning
        return None
    return resolve_revision(model)


class PooledTransformerEncoder(Encoder):
    """``pooling`` is ``mean`` (mask-weighted mean of the last hidden states) or ``last`` (the last real token's
    state, the usual choice for causal LMs). ``padding_side`` overrides the tokenizer's own when set."""

    def __init__(
        self,
        name: str,
        dim: int,
        model: str,
        pooling: str = "mean",
        max_length: int = 512,
        normalize: bool = True,
        device: str | None = None,
        torch_dtype: str = "float32",
        padding_side: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(name, dim, **kwargs)
        if pooling not in POOLINGS:
            raise UserError(f"unknown pooling {pooling!r} for {name!r}: use one of {list(POOLINGS)}")
        if torch_dtype not in DTYPES:
            raise UserError(f"unknown torch_dtype {torch_dtype!r} for {name!r}: use one of {list(DTYPES)}")
        if padding_side not in (None, "left", "right"):
            raise UserError(f"padding_side for {name!r} must be 'left', 'right' or null, not {padding_side!r}")
        self.model_ref = str(model)
        self.pooling = pooling
        self.max_length = int(max_length)
        self.normalize = bool(normalize)
        self.device = device
        self.torch_dtype = torch_dtype
        self.padding_side = padding_side
        self._revision = None
        self._revision_resolved = False
        self._tokenizer = None
        self._model = None

    @property
    def normalized(self) -> bool:
        return self.normalize

    def version(self) -> str:
        if os.path.isdir(self.model_ref):
            return os.path.abspath(self.model_ref)
        if not self._revision_resolved:
            self._revision, self._revision_resolved = resolve_commit(self.model_ref), True
        commit = getattr(self._revision, "resolved", None)
        return f"{self.model_ref}@{commit}" if commit else self.model_ref

    def identity(self) -> dict:
        return {**super().identity(), "pooling": self.pooling, "max_length": self.max_length,
                "normalize": self.normalize, "torch_dtype": self.torch_dtype}

    def long_text_policy(self) -> str:
        return f"truncated to {self.max_length} tokens"

    def _load(self):
        if self._model is None:
            import torch
            from transformers import AutoModel, AutoTokenizer

            self.version()  # pins self._revision so tokenizer and weights come from the same commit
            dtype = self.torch_dtype if self.torch_dtype == "auto" else getattr(torch, self.torch_dtype)
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            try:
                tokenizer = AutoTokenizer.from_pretrained(self.model_ref, revision=self._revision)
                model = AutoModel.from_pretrained(self.model_ref, revision=self._revision, dtype=dtype)
            except OSError as error:
                raise UserError(
                    f"could not load model {self.model_ref!r} for {self.name!r} ({error}): hub models need "
                    "network access (unset HF_HUB_OFFLINE) or a local folder with the model."
                ) from None
            if tokenizer.pad_token is None:  # GPT-2 and many causal LMs ship without one
                tokenizer.pad_token = tokenizer.eos_token
            if self.padding_side:
                tokenizer.padding_side = self.padding_side
            self._tokenizer = tokenizer
            self._model = model.to(device).eval()
            # With left padding, models with absolute positions (GPT-2) need positions counted from the first real
            # token, or a text's vector would depend on its batch mates. Right padding needs nothing (and models
            # with their own position scheme, such as RoBERTa's, are best left alone).
            self._pass_positions = (
                tokenizer.padding_side == "left" and "position_ids" in inspect.signature(model.forward).parameters
            )
        return self._tokenizer, self._model

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        tokenizer, model = self._load()
        # An empty text has no tokens for most causal-LM tokenizers; embed it as the end-of-text token instead.
        texts = [text or tokenizer.eos_token or tokenizer.pad_token for text in texts]
        device = next(model.parameters()).device
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = tokenizer(
                    texts[start : start + self.batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(device)
                mask = batch["attention_mask"]
                inputs = {"input_ids": batch["input_ids"], "attention_mask": mask}
                if self._pass_positions:
                    inputs["position_ids"] = (mask.cumsum(-1) - 1).clamp(min=0)
                hidden = model(**inputs).last_hidden_state.float()
                if self.pooling == "mean":
                    weights = mask.unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
                else:
                    # index of the last 1 in each mask row: right for left and right padding alike
                    positions = torch.arange(mask.shape[1], device=device)
                    last = (positions * mask).argmax(dim=1)
                    pooled = hidden[torch.arange(hidden.shape[0], device=device), last]
                if self.normalize:
                    pooled = F.normalize(pooled, dim=-1)
                out.append(pooled.cpu().numpy())
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(out).astype(np.float32, copy=False)
