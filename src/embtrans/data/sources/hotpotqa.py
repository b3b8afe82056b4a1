"""HotPotQA: multi-hop questions over Wikipedia paragraphs, from the Hugging Face Hub or local files."""

from __future__ import annotations

import hashlib

import datasets
import pandas as pd

from embtrans.data.text_dataset import COLUMNS, TextDataset
from embtrans.errors import UserError

# The columns this loader reads; HotPotQA's `answer` and `level` are not needed.
REQUIRED = ["id", "question", "type", "supporting_facts", "context"]


def load_hotpotqa(
    path: str = "hotpotqa/hotpot_qa",
    config_name: str = "distractor",
    split: str = "validation",
    data_files: str | list[str] | None = None,
    max_questions: int | None = None,
) -> TextDataset:
    """Questions are queries (label: "comparison" | "bridge"); context paragraphs are passages
    ("title: sentences"), de-duplicated across questions by (title, text). A question's relevant
    passages are its context paragraphs whose title is among its supporting facts; the others are
    distractors. ``max_questions`` keeps the first N questions.

    With ``data_files`` (e.g. ``path="json"``) the rows come from local files in HotPotQA's schema
    and ``config_name`` is ignored.
    """
    rows = _load_rows(path, config_name, split, data_files)
    if max_questions is not None:
        rows = rows.select(range(min(max_questions, len(rows))))

    queries: list[dict] = []
    passages: dict[tuple[str, str], dict] = {}  # (title, text) -> row; dicts keep first-seen order
    relevance: dict[str, list[str]] = {}
    for row in rows.select_columns(REQUIRED):
        query_id = f"hq-q-{row['id']}"
        queries.append(
            {"id": query_id, "text": row["question"], "kind": "query", "label": row["type"], "group": query_id}
        )
        supporting = set(row["supporting_facts"]["title"])
        relevant: list[str] = []
        for title, sentences in zip(row["context"]["title"], row["context"]["sentences"]):
            text = f"{title}: {' '.join(sentences)}"
            passage = passages.get((title, text))
            if passage is None:
                passage_id = "hq-p-" + hashlib.sha256(f"{title}\x1f{text}".encode()).hexdigest()[:12]
                passage = passages[(title, text)] = {
                    "id": passage_id, "text": text, "kind": "passage", "label": "passage", "group": passage_id
                }
            if title in supporting and passage["id"] not in relevant:
                relevant.append(passage["id"])
        if relevant:
            relevance[query_id] = relevant

    texts = pd.DataFrame(queries + list(passages.values()), columns=COLUMNS)
    return TextDataset("hotpotqa", texts, relevance)


def _load_rows(path: str, config_name: str, split: str, data_files) -> datasets.Dataset:
    try:
        if data_files is None:
            rows = datasets.load_dataset(path, config_name, split=split)
        else:
            rows = datasets.load_dataset(path, data_files=data_files, split=split)
    except StopIteration:
        # datasets 5.2's json builder raises a bare StopIteration on an empty file: zero rows.
        return datasets.Dataset.from_dict({c: [] for c in REQUIRED})
    except OSError as e:
        # Offline, datasets raises ConnectionError (an OSError); a missing file is FileNotFoundError.
        if data_files is not None:
            raise UserError(
                f"cannot read HotPotQA data_files {data_files!r} ({e}): point data_files at existing "
                "JSON Lines or Parquet files in HotPotQA's schema"
            ) from e
        raise UserError(
            f"cannot load HotPotQA from {path!r} ({e}): it needs network access for its first download, "
            "or set data_files (with path: json) to local files in HotPotQA's schema"
        ) from e
    except datasets.exceptions.DatasetGenerationError as e:
        # Its own message is generic; the parse error is its cause.
        raise UserError(
            f"cannot parse HotPotQA data from {path!r} ({e.__cause__ or e}): give well-formed files in HotPotQA's schema"
        ) from e
    except ValueError as e:
        # e.g. a split the files lack: local data_files land in the single split "train".
        raise UserError(
            f"cannot read split {split!r} of HotPotQA from {path!r} ({e}): set split to one the data has"
        ) from e
    missing = [c for c in REQUIRED if c not in rows.column_names]
    if missing:
        raise UserError(
            f"HotPotQA data from {path!r} lacks the columns {missing}: give files in HotPotQA's schema "
            f"(columns {REQUIRED})"
        )
    return rows
