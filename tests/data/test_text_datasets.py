"""The shipped datasets load with the documented shape; unusable data fails with one clear message."""

import pandas as pd
import pytest

from embtrans.data.sources.wordnet import load_wordnet
from embtrans.data.text_dataset import TextDataset
from embtrans.errors import UserError


def test_rotten_tomatoes_reviews_are_queries_and_plots_are_passages(rotten_tomatoes):
    texts = rotten_tomatoes.validate().texts
    assert len(texts) == 13891  # 13,905 rows less 14 empty texts
    assert texts["kind"].value_counts().to_dict() == {"query": 12808, "passage": 1083}
    assert set(texts.loc[texts["kind"] == "query", "label"]) == {"fresh", "rotten"}
    assert set(texts.loc[texts["kind"] == "passage", "label"]) == {"plot"}
    assert len(rotten_tomatoes.relevance) == 4866
    by_id = texts.set_index("id")
    for query, (plot,) in list(rotten_tomatoes.relevance.items())[:200]:
        assert by_id.at[query, "group"] == by_id.at[plot, "group"]
        assert by_id.at[plot, "kind"] == "passage"


def test_wordnet_headwords_are_queries_and_glosses_their_passages():
    wordnet = load_wordnet(max_headwords=50).validate()
    texts = wordnet.texts.set_index("id")
    assert (texts["kind"] == "query").sum() == 50
    first_query = next(iter(wordnet.relevance))
    assert texts.at[first_query, "text"] == "a"
    glosses = texts.loc[wordnet.relevance[first_query], "text"].tolist()
    assert "the 1st letter of the Roman alphabet" in glosses
    assert len(glosses) == len(set(glosses))  # the shipped file repeats some glosses
    # the file is alphabetical: a sample spread over it reaches the end of the alphabet
    headwords = texts.loc[texts["kind"] == "query", "text"]
    assert headwords.str[0].str.lower().nunique() > 15
    for bad in (0, -5, 2.5):
        with pytest.raises(UserError, match="max_headwords"):
            load_wordnet(max_headwords=bad)


def table(rows):
    return pd.DataFrame(rows, columns=["id", "text", "kind", "label", "group"])


def test_empty_dataset_is_one_clear_error():
    with pytest.raises(UserError, match="has no texts"):
        TextDataset("empty", table([])).validate()


def test_dataset_without_queries_is_one_clear_error():
    data = TextDataset("plots", table([("p1", "a plot", "passage", "plot", "m1")]))
    with pytest.raises(UserError, match="has no queries"):
        data.validate()


def test_repeated_ids_are_one_clear_error():
    data = TextDataset("dup", table([("q", "a", "query", "x", "g"), ("q", "b", "passage", "x", "g")]))
    with pytest.raises(UserError, match="repeats the text id 'q'"):
        data.validate()


def test_relevance_merges_groups():
    data = TextDataset(
        "linked",
        table([("q1", "a", "query", "x", "g1"), ("q2", "b", "query", "x", "g2"), ("p", "c", "passage", "x", "g3")]),
        {"q1": ["p"], "q2": ["p"]},
    )
    assert data.texts["group"].nunique() == 1
