"""One table of texts plus query -> passage relevance: the unit every dataset loader yields."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

from embtrans.errors import UserError

KINDS = ("query", "passage")
COLUMNS = ["id", "text", "kind", "label", "group"]


@dataclass
class TextDataset:
    """Texts with columns id, text, kind (query | passage), label and group.

    ``group`` ties texts that must stay on the same side of the train/test split
    (a movie's reviews and its plot, a headword and its glosses). ``relevance``
    maps a query id to the ids of its relevant passages.
    """

    name: str
    texts: pd.DataFrame
    relevance: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c for c in COLUMNS if c not in self.texts.columns]
        if missing:
            raise ValueError(f"dataset {self.name!r} lacks columns {missing}")
        self.texts = self.texts[COLUMNS].reset_index(drop=True)
        self.texts["group"] = _merge_groups_linked_by_relevance(self.texts, self.relevance)

    def __len__(self) -> int:
        return len(self.texts)

    def validate(self) -> TextDataset:
        """Fail with one clear message on data that no run can use."""
        if len(self.texts) == 0:
            raise UserError(
                f"dataset {self.name!r} has no texts: check its source files, or raise dataset.limit"
            )
        bad_kinds = set(self.texts["kind"]) - set(KINDS)
        if bad_kinds:
            raise UserError(f"dataset {self.name!r} has unknown kinds {sorted(bad_kinds)}; use {KINDS}")
        if not (self.texts["kind"] == "query").any():
            raise UserError(
                f"dataset {self.name!r} has no queries: retrieval needs texts of kind 'query'"
            )
        if self.texts["id"].duplicated().any():
            dup = self.texts.loc[self.texts["id"].duplicated(), "id"].iloc[0]
            raise UserError(f"dataset {self.name!r} repeats the text id {dup!r}: ids must be unique")
        return self

    def fingerprint(self) -> str:
        """A hash of every (id, kind, text): equal fingerprints mean identical texts in identical order."""
        digest = hashlib.sha256()
        for row in self.texts[["id", "kind", "text"]].itertuples(index=False):
            digest.update("\x1f".join(row).encode())
            digest.update(b"\x1e")
        return digest.hexdigest()[:16]

    def subset(self, keep: pd.Series) -> TextDataset:
        """The texts where ``keep`` is true, with relevance restricted to them."""
        texts = self.texts[keep.to_numpy()].reset_index(drop=True)
        kept = set(texts["id"])
        relevance = {
            q: [p for p in passages if p in kept]
            for q, passages in self.relevance.items()
            if q in kept
        }
        return TextDataset(self.name, texts, {q: ps for q, ps in relevance.items() if ps})


def _merge_groups_linked_by_relevance(texts: pd.DataFrame, relevance: dict[str, list[str]]) -> pd.Series:
    """Union-find over groups, so a query and every passage relevant to it share one group."""
    parent: dict[str, str] = {}

    def find(g: str) -> str:
        parent.setdefault(g, g)
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    group_of = dict(zip(texts["id"], texts["group"].astype(str)))
    for query, passages in relevance.items():
        for passage in passages:
            if query in group_of and passage in group_of:
                a, b = find(group_of[query]), find(group_of[passage])
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return texts["group"].astype(str).map(find)
