"""What a row of the analysis is about, as small frozen values: a model pair, and a translator.

Labels such as "mlp1-x8" or "lstsq (closed form)" are made from these, never parsed back: code
that needs the arch, the kind or the pair's models reads the fields (or the results' columns
written from them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TRAINED = "trained"
CLOSED_FORM = "closed form"


@dataclass(frozen=True, order=True)
class PairId:
    dataset: str  # the data tag: dataset, size and split (see analysis.pairs.data_tag)
    model_a: str
    model_b: str

    @property
    def name(self) -> str:
        return f"{self.model_a}-to-{self.model_b}"

    @property
    def folder(self) -> str:
        """Where its files go under an analysis folder (cache/, examples/, figures/)."""
        return f"{self.dataset}/{self.name}"

    @property
    def title(self) -> str:
        return f"{self.model_a} → {self.model_b}"

    def reversed(self) -> PairId:
        return PairId(self.dataset, self.model_b, self.model_a)


@dataclass(frozen=True)
class TranslatorId:
    """One translator of a pair. Runs that differ only by seed share everything but ``seed``: they
    are one translator (its ``label``), measured several times. ``variant`` tells apart runs of one
    arch and width that differ in something else: the settings that differ (init=lstsq,loss=mse)."""

    arch: str
    width: int | None = None
    kind: str = TRAINED
    variant: str = ""
    seed: int | None = None

    @property
    def label(self) -> str:
        """The translator, whatever its seed: what tables and the report name."""
        name = self.arch if self.width is None else f"{self.arch}-x{self.width}"
        if self.kind == CLOSED_FORM:
            name += " (closed form)"
        return f"{name}@{self.variant}" if self.variant else name

    @property
    def run_label(self) -> str:
        """One run of it: the label with its seed when it has one."""
        return self.label if self.seed is None else f"{self.label}@seed{self.seed}"

    @property
    def file_name(self) -> str:
        """The run label as a file or collection name part: "lstsq (closed form)" -> lstsq-closed-form."""
        return file_name(self.run_label)


def file_name(label: str) -> str:
    """Any label as a file-name part: " (closed form)" becomes -closed-form, and anything but letters,
    digits, ".", "-", "_", "@" and "+" an underscore (a variant such as init=lstsq,loss=mse+infonce)."""
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", label.replace(" (closed form)", "-closed-form"))
