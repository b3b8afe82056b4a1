"""What a translator is, written down: every net maps model A's vectors to model B's, and a closed form is also
fitted from training pairs before it is used (``arch.closed_form: true`` in its config says which it is).

Nets are built as ``net_class(in_dim=d_A, out_dim=d_B, **arch.net)`` (training/run.py, artefact.build_net).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor


@runtime_checkable
class TranslatorNet(Protocol):
    """An nn.Module: ``net(source)`` turns an (n, d_A) batch into (n, d_B)."""

    def forward(self, source: Tensor) -> Tensor: ...


@runtime_checkable
class ClosedFormTranslator(TranslatorNet, Protocol):
    """A net solved from training pairs, not trained: ``fit`` sets its weights and returns what it chose
    (e.g. the ridge alpha picked on the validation pairs)."""

    def fit(self, x_train: Tensor, y_train: Tensor, x_val: Tensor, y_val: Tensor) -> dict: ...
