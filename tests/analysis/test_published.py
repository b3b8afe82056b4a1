"""This study's figures beside published ones: which results are the comparable ones, and what is said when none is."""

import pandas as pd

from embtrans.analysis.published import COLUMNS, published_entries, published_table

ENTRY = {"source": "Someone (2025)", "translator": "ridge", "metric": "nDCG@10 retention", "published": "0.87",
         "theirs": {"corpus": "SciFact", "pairs": "MiniLM → bge", "paired_texts": "4,000", "pool": "5k"},
         "here": {"pairs": ["a-to-b"], "arch": ["lstsq"], "paired_texts": "all", "column": "ndcg@10_retention",
                  "pool": "retrieval_pool"}}


def row(pair, translator, arch, seed, texts, value, kind="trained"):
    return {"dataset": "corpus-all-1a2b3c", "pair": pair, "translator": translator, "arch": arch, "seed": seed,
            "kind": kind, "paired_texts": texts, "ndcg@10_retention": value, "retrieval_pool": 200}


def test_the_comparable_results_are_the_pairs_arch_and_paired_texts_the_entry_names():
    results = pd.DataFrame([
        row("a-to-b", "lstsq@n=100", "lstsq", 0, 100, 0.1), row("a-to-b", "lstsq@n=100", "lstsq", 1, 100, 0.2),
        row("a-to-b", "lstsq@all", "lstsq", 0, 900, 0.5), row("a-to-b", "lstsq@all", "lstsq", 1, 900, 0.7),
        row("a-to-b", "lstsq (closed form)", "lstsq", None, 900, 0.6, kind="closed form"),  # the same fit as a run's
        row("a-to-b", "linear", "linear", 0, 900, 0.9),  # another arch
        row("b-to-a", "lstsq@all", "lstsq", 0, 900, 0.3),  # another pair
    ])
    table = published_table(results, entries=[ENTRY])
    assert list(table.columns) == COLUMNS and len(table) == 1
    found = table.iloc[0]
    assert found["translator"] == "lstsq@all" and found["seeds"] == 2
    assert found["here"] == "0.600 (0.500–0.700 over 2 seeds)"
    assert (found["here_corpus"], found["here_paired_texts"], found["here_pool"]) == ("corpus", 900, 200)
    assert (found["published"], found["their_corpus"], found["their_paired_texts"]) == ("0.87", "SciFact", "4,000")
    # a named size picks that size only; the closed form the analysis fitted stands when no run fitted the same
    sized = published_table(results, entries=[ENTRY | {"here": ENTRY["here"] | {"paired_texts": 100}}]).iloc[0]
    assert sized["here"] == "0.150 (0.100–0.200 over 2 seeds)" and sized["here_paired_texts"] == 100
    alone = published_table(results[results["kind"] == "closed form"], entries=[ENTRY]).iloc[0]
    assert alone["here"] == "0.600 (one fit)"


def test_failed_unsupervised_fits_are_listed_as_failures_and_an_absent_one_as_not_measured():
    unsupervised = ENTRY | {"here": ENTRY["here"] | {"arch": ["mini_vec2vec"], "paired_texts": 0, "pairs": "all"}}
    failures = pd.DataFrame([{"dataset": "corpus-all-1a2b3c", "pair": "a-to-b", "translator": "mini_vec2vec",
                              "seed": seed, "reason": "no alignment", "job": str(seed)} for seed in range(3)])
    results = pd.DataFrame([row("a-to-b", "lstsq@all", "lstsq", 0, 900, 0.5)])
    failed = published_table(results, failures, entries=[unsupervised]).iloc[0]
    assert failed["here"] == "no alignment found: 3 fit(s) failed, none succeeded (no score)"
    assert pd.isna(failed["here_mean"]) and failed["pair"] == "a-to-b"
    # one seed succeeded: its score, and the failures beside it
    worked = pd.concat([results, pd.DataFrame([row("a-to-b", "mini_vec2vec", "mini_vec2vec", 3, 0, 0.4)])])
    assert published_table(worked, failures, entries=[unsupervised]).iloc[0]["here"] == \
        "0.400 (one fit); 3 more fit(s) failed"
    absent = published_table(pd.DataFrame(), entries=[ENTRY]).iloc[0]
    assert absent["here"] == "not measured in this study" and absent["pair"] == ""


def test_every_published_entry_names_its_setting_and_a_results_column():
    entries = published_entries()
    assert len({entry["id"] for entry in entries}) == len(entries) >= 6
    for entry in entries:
        assert {"source", "translator", "metric", "published", "theirs", "here"} <= set(entry)
        assert set(entry["theirs"]) == {"corpus", "pairs", "paired_texts", "pool"}
        assert {"pairs", "arch", "paired_texts", "column", "pool"} == set(entry["here"])
        assert entry["here"]["column"].split("@")[0] in ("recall", "ndcg", "vec2vec_top1_accuracy", "top1_accuracy")
