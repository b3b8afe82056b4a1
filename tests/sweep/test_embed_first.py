"""Which embeddings a sweep fills before its jobs (sweep/embed_first.py): each (texts, model) once."""

from embtrans.sweep.embed_first import texts_key


def test_settings_that_only_split_or_sample_the_texts_share_one_embedding(compose_train):
    base = texts_key(compose_train("dataset.limit=500").dataset)
    for same in ("dataset.train_pairs=100", "dataset.test_fraction=0.3", "dataset.val_fraction=0.05"):
        assert texts_key(compose_train("dataset.limit=500", same).dataset) == base, same
    for other in ("dataset.limit=600", "dataset.split_seed=1", "dataset=wordnet"):
        assert texts_key(compose_train("dataset.limit=500", other).dataset) != base, other
