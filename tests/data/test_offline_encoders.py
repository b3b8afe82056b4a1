"""Every offline encoder loads with HF_HUB_OFFLINE=1 and gives its documented output."""

import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from embtrans.errors import UserError
from embtrans.paths import ROOT

TEXTS = ["A thrilling ride from start to finish.", "Dull, overlong and badly acted.", "", "x " * 800]

# name -> (documented dim, comes out L2-normalised)
DOCUMENTED = {"minilm": (384, True), "mpnet": (768, True), "e5_small": (384, True), "use": (512, True),
              "glove": (50, False)}


def encoder(name):
    return instantiate(OmegaConf.load(ROOT / "conf" / "encoder" / f"{name}.yaml").encoder)


@pytest.fixture(scope="module", params=sorted(DOCUMENTED))
def loaded(request):
    return request.param, encoder(request.param)


def test_documented_dim_dtype_and_normalisation(loaded):
    name, model = loaded
    dim, normalised = DOCUMENTED[name]
    vectors = model.encode(TEXTS, "passage")
    assert vectors.shape == (len(TEXTS), dim) and vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    norms = np.linalg.norm(vectors[[0, 1, 3]], axis=1)
    assert np.allclose(norms, 1, atol=1e-3) == normalised
    assert model.describe()["normalized"] == normalised


def test_deterministic_and_independent_of_batch(loaded):
    name, model = loaded
    together = model.encode(TEXTS, "query")
    assert np.array_equal(together, model.encode(TEXTS, "query"))
    alone = model.encode(TEXTS[:1], "query")
    assert np.allclose(alone[0], together[0], atol=1e-5)


def test_texts_of_different_meaning_differ(loaded):
    _, model = loaded
    praise, pan = model.encode(TEXTS[:2], "passage")
    assert not np.allclose(praise, pan)


def test_e5_applies_its_query_and_passage_prefixes():
    model = encoder("e5_small")
    query, passage = model.encode(["protein per day"], "query"), model.encode(["protein per day"], "passage")
    assert not np.allclose(query, passage)
    assert model.identity()["builtin_prefixes"] == {"query": "query: ", "passage": "passage: "}


def test_configured_prefix_is_prepended():
    plain = encoder("minilm")
    prefixed = instantiate(OmegaConf.load(ROOT / "conf/encoder/minilm.yaml").encoder, query_prefix="query: ")
    assert np.allclose(prefixed.encode(["cats"], "query"), plain.encode(["query: cats"], "query"), atol=1e-6)
    assert np.allclose(prefixed.encode(["cats"], "passage"), plain.encode(["cats"], "passage"), atol=1e-6)


def test_wrong_dim_in_config_is_one_clear_error():
    model = instantiate(OmegaConf.load(ROOT / "conf/encoder/glove.yaml").encoder, dim=64)
    with pytest.raises(UserError, match="dim=64"):
        model.encode(["a film"], "query")


def test_glove_text_without_known_words_is_zero():
    assert not encoder("glove").encode(["zzqxj vvkrw"], "query").any()
