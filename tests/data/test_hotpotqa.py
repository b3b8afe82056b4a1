"""HotPotQA loader on a small fixture in HotPotQA's own schema (offline)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import datasets
import huggingface_hub.constants
import pandas as pd
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from embtrans.data.sources.hotpotqa import load_hotpotqa
from embtrans.errors import UserError

REPO = Path(__file__).resolve().parents[2]

SCOTT = ("Scott Derrickson", ["Scott Derrickson is an American director.", "He directed Sinister."])
ED_WOOD = ("Ed Wood", ["Ed Wood was an American filmmaker."])
ED_WOOD_FILM = ("Ed Wood", ["Ed Wood is a 1994 biopic by Tim Burton."])  # same title, other text
COLLIS = ("Adam Collis", ["Adam Collis is an American filmmaker."])
STRANGE = ("Doctor Strange (2016 film)", ["Doctor Strange is a 2016 superhero film.", "Derrickson directed it."])
BATES = ("Tyler Bates", ["Tyler Bates is a composer."])
KORN = ("Korn", ["Korn is a nu metal band from Bakersfield."])
DEFTONES = ("Deftones", ["Deftones is a band from Sacramento."])
SACRAMENTO = ("Sacramento", ["Sacramento is the capital of California."])
BURTON = ("Tim Burton", ["Tim Burton is an American director."])
BATMAN = ("Batman (1989 film)", ["Batman is a 1989 film by Tim Burton."])
ELFMAN = ("Danny Elfman", ["Danny Elfman scored Batman."])
OAK = ("Oak", ["An oak is a tree."])


def _row(qid, question, kind, supporting, context):
    return {
        "id": qid,
        "question": question,
        "answer": "yes",
        "type": kind,
        "level": "medium",
        "supporting_facts": {"title": [t for t, _ in supporting], "sent_id": [s for _, s in supporting]},
        "context": {"title": [t for t, _ in context], "sentences": [s for _, s in context]},
    }


# q1 and q2 share the Scott Derrickson paragraph; q1 and q4 share only a distractor (Adam Collis).
ROWS = [
    _row("q1", "Were Scott Derrickson and Ed Wood of the same nationality?", "comparison",
         [("Scott Derrickson", 0), ("Ed Wood", 0)], [SCOTT, ED_WOOD, COLLIS]),
    _row("q2", "Who directed Doctor Strange (2016)?", "bridge",
         [("Doctor Strange (2016 film)", 1), ("Scott Derrickson", 0)], [STRANGE, SCOTT, BATES]),
    _row("q3", "Which band is from the capital of California?", "bridge",
         [("Deftones", 0), ("Sacramento", 0)], [DEFTONES, SACRAMENTO, KORN]),
    _row("q4", "Are Korn and Adam Collis both American?", "comparison",
         [("Korn", 0), ("Adam Collis", 0)], [KORN, COLLIS, OAK]),
    _row("q5", "Who directed the biopic Ed Wood?", "bridge",
         [("Ed Wood", 0), ("Tim Burton", 0)], [ED_WOOD_FILM, BURTON, OAK]),
    # A title cited twice (two supporting sentences) is still one relevant passage.
    _row("q6", "Who scored the 1989 Batman?", "bridge",
         [("Batman (1989 film)", 0), ("Danny Elfman", 0), ("Danny Elfman", 0)], [ELFMAN, BATMAN, BATES]),
]


def _passage_text(paragraph) -> str:
    title, sentences = paragraph
    return f"{title}: {' '.join(sentences)}"


@pytest.fixture(autouse=True)
def _offline_private_cache(tmp_path, monkeypatch):
    """No network, and no datasets cache in the user's home. datasets reads these switches at
    import, so the module attributes are set as well as the environment."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")


@pytest.fixture
def hotpot_file(tmp_path) -> Path:
    file = tmp_path / "hotpot.jsonl"
    file.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    return file


def _load(file, **kwargs):
    return load_hotpotqa(path="json", data_files=str(file), split="train", **kwargs)


def _texts_by_id(ds):
    return dict(zip(ds.texts["id"], ds.texts["text"]))


def test_queries_come_first_in_file_order(hotpot_file):
    ds = _load(hotpot_file).validate()
    queries = ds.texts[ds.texts["kind"] == "query"]
    assert list(queries["id"]) == [f"hq-q-{row['id']}" for row in ROWS]
    assert list(queries["text"]) == [row["question"] for row in ROWS]
    assert list(ds.texts["kind"]) == ["query"] * len(ROWS) + ["passage"] * (len(ds) - len(ROWS))


def test_passages_are_deduplicated_by_title_and_text(hotpot_file):
    ds = _load(hotpot_file)
    passages = ds.texts[ds.texts["kind"] == "passage"]
    paragraphs = [p for row in ROWS for p in zip(row["context"]["title"], row["context"]["sentences"])]
    expected = list(dict.fromkeys(_passage_text(p) for p in paragraphs))
    assert list(passages["text"]) == expected  # first-seen order
    assert len(passages) == 13
    assert passages["text"].is_unique and passages["id"].is_unique
    assert all(re.fullmatch(r"hq-p-[0-9a-f]{12}", i) for i in passages["id"])
    # Same title, different paragraph: two passages.
    assert (passages["text"].str.startswith("Ed Wood: ")).sum() == 2


def test_relevance_is_exactly_the_supporting_paragraphs(hotpot_file):
    ds = _load(hotpot_file)
    text_of = _texts_by_id(ds)
    assert set(ds.relevance) == {f"hq-q-{row['id']}" for row in ROWS}
    for row in ROWS:
        relevant = ds.relevance[f"hq-q-{row['id']}"]
        assert len(relevant) == len(set(relevant))
        titles = {text_of[p].split(": ", 1)[0] for p in relevant}
        assert titles == set(row["supporting_facts"]["title"])
    # The Ed Wood paragraph relevant to q5 is its own (the biopic), not q1's.
    assert [text_of[p] for p in ds.relevance["hq-q-q5"]][0] == _passage_text(ED_WOOD_FILM)


def test_distractors_are_passages_but_not_relevant(hotpot_file):
    ds = _load(hotpot_file)
    id_of = {text: i for i, text in _texts_by_id(ds).items()}
    collis, oak = id_of[_passage_text(COLLIS)], id_of[_passage_text(OAK)]
    assert collis not in ds.relevance["hq-q-q1"]  # a distractor for q1 ...
    assert collis in ds.relevance["hq-q-q4"]  # ... and supporting for q4
    assert not any(oak in relevant for relevant in ds.relevance.values())
    assert not any(id_of[_passage_text(BATES)] in relevant for relevant in ds.relevance.values())


def test_shared_supporting_passage_puts_questions_in_one_group(hotpot_file):
    ds = _load(hotpot_file)
    group = dict(zip(ds.texts["id"], ds.texts["group"]))
    id_of = {text: i for i, text in _texts_by_id(ds).items()}
    assert group["hq-q-q1"] == group["hq-q-q2"] == group[id_of[_passage_text(SCOTT)]]
    assert group["hq-q-q1"] != group["hq-q-q3"]
    # A shared distractor links nothing: Oak is in the context of q4 and q5, Adam Collis of q1 and q4.
    assert len({group["hq-q-q4"], group["hq-q-q5"], group[id_of[_passage_text(OAK)]]}) == 3
    assert group["hq-q-q1"] != group["hq-q-q4"]


def test_labels(hotpot_file):
    ds = _load(hotpot_file)
    queries = ds.texts[ds.texts["kind"] == "query"]
    assert list(queries["label"]) == [row["type"] for row in ROWS]
    assert set(ds.texts.loc[ds.texts["kind"] == "passage", "label"]) == {"passage"}


def test_max_questions_takes_the_first_questions(hotpot_file):
    ds = _load(hotpot_file, max_questions=2).validate()
    assert list(ds.texts.loc[ds.texts["kind"] == "query", "id"]) == ["hq-q-q1", "hq-q-q2"]
    assert set(ds.texts.loc[ds.texts["kind"] == "passage", "text"]) == {
        _passage_text(p) for p in (SCOTT, ED_WOOD, COLLIS, STRANGE, BATES)
    }
    assert set(ds.relevance) == {"hq-q-q1", "hq-q-q2"}


def test_zero_questions_give_an_empty_dataset_that_validate_rejects(hotpot_file, tmp_path):
    ds = _load(hotpot_file, max_questions=0)
    assert len(ds) == 0 and ds.relevance == {}
    with pytest.raises(UserError, match="no texts"):
        ds.validate()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert len(_load(empty)) == 0


def test_loading_is_deterministic(hotpot_file):
    first, second = _load(hotpot_file), _load(hotpot_file)
    pd.testing.assert_frame_equal(first.texts, second.texts)
    assert first.relevance == second.relevance
    assert first.fingerprint() == second.fingerprint()


def test_missing_columns_are_a_user_error(tmp_path):
    file = tmp_path / "bad.jsonl"
    file.write_text("".join(json.dumps({k: v for k, v in row.items() if k != "context"}) + "\n" for row in ROWS))
    with pytest.raises(UserError, match=r"lacks the columns \['context'\]"):
        _load(file)


def test_bad_local_files_and_splits_are_user_errors(hotpot_file, tmp_path):
    with pytest.raises(UserError, match="data_files"):
        _load(tmp_path / "missing.jsonl")
    # Local data_files land in the split "train"; the default "validation" does not exist there.
    with pytest.raises(UserError, match="split 'validation'"):
        load_hotpotqa(path="json", data_files=str(hotpot_file))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "q1", "question": \n')
    with pytest.raises(UserError, match="cannot parse"):
        _load(broken)


def test_hub_offline_is_a_user_error_not_a_traceback(tmp_path):
    # A fresh process: the offline switches are read when datasets is imported.
    script = (
        "from embtrans.data.sources.hotpotqa import load_hotpotqa\n"
        "from embtrans.errors import UserError\n"
        "try:\n"
        "    load_hotpotqa()\n"
        "except UserError as e:\n"
        "    print('USERERROR', e)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_DATASETS_CACHE", None)
    env.pop("HF_HUB_CACHE", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "USERERROR" in done.stdout and "network access" in done.stdout, done.stdout + done.stderr


def test_config_instantiates_the_loader(hotpot_file):
    cfg = OmegaConf.load(REPO / "conf" / "dataset" / "hotpotqa.yaml")
    assert set(cfg) == {"name", "loader"}
    ds = instantiate(cfg.loader, path="json", data_files=str(hotpot_file), split="train")
    assert ds.name == cfg.name == "hotpotqa"
    assert (ds.texts["kind"] == "query").sum() == len(ROWS)
