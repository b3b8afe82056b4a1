"""The validation split's search, scored inside training: B's native validation queries search the
validation passages translated A -> B, by cosine, as the analysis searches the test split through
Chroma. Its nDCG@k (`monitor=ndcg`) lets early stopping and the kept checkpoint follow what the
analysis reports instead of the validation MSE, which stops contrastive objectives too early.

Exact (every passage scored), and cheap: 418 queries against 87 passages on Rotten Tomatoes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from embtrans.data.paired import PairedEmbeddings
from embtrans.errors import UserError
from embtrans.metrics.retrieval import ndcg_at_k


@dataclass
class ValidationSearch:
    queries: Tensor  # (q, d_B): native B vectors of the validation queries with a relevant validation passage
    passages: Tensor  # (p, d_A): A vectors of the validation passages, translated at each scoring
    relevant: Tensor  # (q, p) bool: passage j is relevant to query i
    k: int = 10

    @classmethod
    def from_paired(cls, paired: PairedEmbeddings, k: int = 10, split: str = "val",
                    passages_of: str = "source") -> ValidationSearch:
        """``split``: whose queries and passages (the analysis' transfer scores the test split this way);
        ``passages_of``: A's vectors ("source", translated at each scoring) or B's ("target": native B's search)."""
        texts = paired.dataset.texts
        in_val = paired.split == split
        passage_rows = np.flatnonzero(in_val & (texts["kind"] == "passage").to_numpy())
        column = {text_id: j for j, text_id in enumerate(texts["id"].to_numpy()[passage_rows])}
        query_rows, relevant = [], []
        for row in np.flatnonzero(in_val & (texts["kind"] == "query").to_numpy()):
            hits = [column[p] for p in paired.dataset.relevance.get(texts["id"].iat[row], ()) if p in column]
            if hits:  # as the analysis: only queries with a relevant document in the pool are scored
                query_rows.append(row)
                relevant.append(np.isin(np.arange(len(passage_rows)), hits))
        if not query_rows and split != "val":
            raise UserError(f"the {split} split of {paired.dataset.name!r} has no query with a relevant {split} passage "
                            "to search: raise dataset.limit or dataset.test_fraction")
        if not query_rows:
            raise UserError(f"monitor=ndcg needs validation queries with a relevant validation passage, and the "
                            f"validation split of {paired.dataset.name!r} has none: raise dataset.val_fraction "
                            "(or dataset.limit), or use monitor=mse")
        passages = paired.source if passages_of == "source" else paired.target
        return cls(torch.from_numpy(np.ascontiguousarray(paired.target[query_rows])),
                   torch.from_numpy(np.ascontiguousarray(passages[passage_rows])),
                   torch.from_numpy(np.stack(relevant)), k)

    @torch.no_grad()
    def ndcg(self, translate: Callable[[Tensor], Tensor], device: torch.device | str = "cpu") -> float:
        """Mean nDCG@k over the queries, with the passages translated by ``translate`` on ``device``."""
        return float(self.ndcg_per_query(translate, device).mean())

    @torch.no_grad()
    def ndcg_per_query(self, translate: Callable[[Tensor], Tensor], device: torch.device | str = "cpu",
                       chunk: int = 4096) -> Tensor:
        """Each query's nDCG@k; the queries in chunks, so a large test split never holds every score at once."""
        translated = F.normalize(translate(self.passages.to(device)).float(), dim=-1)
        queries, relevant = F.normalize(self.queries.to(device), dim=-1), self.relevant.to(device)
        return torch.cat([ndcg_at_k(queries[i:i + chunk] @ translated.T, relevant[i:i + chunk], self.k)
                          for i in range(0, len(queries), chunk)])


def validation_search(paired: PairedEmbeddings, monitor_k: int | None) -> ValidationSearch | None:
    """The validation split's search at the monitor's k (10 when the monitor has none); None when the
    split has no query with a relevant passage, unless monitor=ndcg needs it (then its one-line error)."""
    try:
        return ValidationSearch.from_paired(paired, 10 if monitor_k is None else monitor_k)
    except UserError:
        if monitor_k is not None:
            raise
        return None
