"""The online encoders (hub transformers, sentence-T5, OpenAI) run offline on tiny models built here and on a
local stub of OpenAI's embeddings endpoint; nothing is downloaded."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch

from embtrans.data.encoders.hf_pooled import PooledTransformerEncoder
from embtrans.data.encoders.openai_api import OpenAIEncoder
from embtrans.data.encoders.sentence_transformer import SentenceTransformerEncoder
from embtrans.errors import UserError

CONF = Path(__file__).resolve().parents[2] / "conf" / "encoder"
SENTENCES = [
    "the cat sat on the mat",
    "a dog ran in the park with the cat",
    "hello world",
    "query passage embed text",
    "the quick brown fox jumps over the lazy dog",
]
# Different lengths, so every batch pads.
TEXTS = ["hello world", "the cat sat on the mat", "dog", "a dog ran in the park with the quick brown fox"]
HIDDEN = 32


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Offline whatever the caller's environment says (huggingface_hub reads the variable once, at import)."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


# --- tiny models ---------------------------------------------------------------------------------------------


def tiny_tokenizer(padding_side: str = "right"):
    """A WordLevel tokenizer trained on SENTENCES, with unk and eos but no pad token (like GPT-2's)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(SENTENCES, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[EOS]", "[PAD]"]))
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", eos_token="[EOS]", padding_side=padding_side
    )


@pytest.fixture(scope="session")
def gpt2_dir(tmp_path_factory) -> str:
    from transformers import GPT2Config, GPT2Model

    folder = tmp_path_factory.mktemp("gpt2")
    tokenizer = tiny_tokenizer()
    tokenizer.save_pretrained(folder)
    eos = tokenizer.eos_token_id
    torch.manual_seed(0)
    config = GPT2Config(
        n_layer=2, n_embd=HIDDEN, n_head=2, n_positions=64, vocab_size=len(tokenizer), bos_token_id=eos, eos_token_id=eos
    )
    GPT2Model(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def llama_dir(tmp_path_factory) -> str:
    from transformers import LlamaConfig, LlamaModel

    folder = tmp_path_factory.mktemp("llama")
    tokenizer = tiny_tokenizer(padding_side="left")  # the encoder must honour a left-padding tokenizer
    tokenizer.save_pretrained(folder)
    eos = tokenizer.eos_token_id
    torch.manual_seed(1)
    config = LlamaConfig(
        hidden_size=HIDDEN,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
        vocab_size=len(tokenizer),
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=None,
    )
    LlamaModel(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def t5_dirs(tmp_path_factory) -> tuple[str, str]:
    """(plain transformers T5 encoder folder, sentence-transformers folder built on it)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import T5Config, T5EncoderModel

    hf_folder = tmp_path_factory.mktemp("t5_hf")
    tokenizer = tiny_tokenizer()
    tokenizer.pad_token = "[PAD]"
    tokenizer.save_pretrained(hf_folder)
    torch.manual_seed(2)
    config = T5Config(
        vocab_size=len(tokenizer), d_model=HIDDEN, d_kv=16, d_ff=64, num_layers=2, num_heads=2,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=0,
    )
    T5EncoderModel(config).save_pretrained(hf_folder)
    st_folder = tmp_path_factory.mktemp("t5_st")
    modules = [Transformer(str(hf_folder)), Pooling(HIDDEN, "mean"), Normalize()]
    SentenceTransformer(modules=modules, device="cpu").save(str(st_folder))
    return str(hf_folder), str(st_folder)


def reference_states(folder: str, text: str, model_class=None) -> torch.Tensor:
    """Last hidden states of one text run alone (no padding), straight from transformers."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = (model_class or AutoModel).from_pretrained(folder).eval()
    with torch.inference_mode():
        return model(**tokenizer([text], return_tensors="pt")).last_hidden_state[0]


def unit(x: torch.Tensor) -> np.ndarray:
    return torch.nn.functional.normalize(x, dim=-1).numpy()


# --- PooledTransformerEncoder ------------------------------------------------------------------------------


def test_gpt2_mean_pooling_is_the_masked_mean(gpt2_dir):
    encoder = PooledTransformerEncoder(name="gpt2", dim=HIDDEN, model=gpt2_dir, pooling="mean", device="cpu")
    vectors = encoder.encode(TEXTS, "passage")
    assert vectors.shape == (len(TEXTS), HIDDEN) and vectors.dtype == np.float32
    assert encoder._tokenizer.pad_token == "[EOS]"  # GPT-2 style: no pad token, eos stands in
    expected = np.stack([unit(reference_states(gpt2_dir, text).mean(0)) for text in TEXTS])
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(encoder.encode(TEXTS, "passage"), vectors)  # deterministic
    assert encoder.normalized is True


def test_unnormalized_mean_and_batching(gpt2_dir):
    encoder = PooledTransformerEncoder(
        name="gpt2", dim=HIDDEN, model=gpt2_dir, normalize=False, batch_size=3, device="cpu"
    )
    vectors = encoder.encode(TEXTS, "passage")  # two batches: 3 + 1
    expected = np.stack([reference_states(gpt2_dir, text).mean(0).numpy() for text in TEXTS])
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert not np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert encoder.normalized is False
    assert encoder.encode([], "passage").shape == (0, HIDDEN)


@pytest.mark.parametrize("model_dir", ["gpt2_dir", "llama_dir"])
@pytest.mark.parametrize("padding_side", ["left", "right", None])
def test_last_pooling_takes_the_last_real_token(request, model_dir, padding_side):
    folder = request.getfixturevalue(model_dir)
    encoder = PooledTransformerEncoder(
        name="lm", dim=HIDDEN, model=folder, pooling="last", padding_side=padding_side, device="cpu"
    )
    vectors = encoder.encode(TEXTS, "passage")
    if padding_side is None:  # the tokenizer's own side: left for the tiny Llama, right for the tiny GPT-2
        assert encoder._tokenizer.padding_side == ("left" if model_dir == "llama_dir" else "right")
    expected = np.stack([unit(reference_states(folder, text)[-1]) for text in TEXTS])
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    # a text's vector does not depend on its batch mates
    alone = np.concatenate([encoder.encode([text], "passage") for text in TEXTS])
    np.testing.assert_allclose(vectors, alone, atol=1e-5)


def test_truncation_and_empty_text(gpt2_dir):
    encoder = PooledTransformerEncoder(name="gpt2", dim=HIDDEN, model=gpt2_dir, max_length=3, device="cpu")
    long, head = encoder.encode(["the cat sat on the mat", "the cat sat"], "passage")
    np.testing.assert_allclose(long, head, atol=1e-6)
    assert "3 tokens" in encoder.long_text_policy()
    empty, eos = encoder.encode(["", "[EOS]"], "passage")  # an empty text is embedded as the eos token
    np.testing.assert_allclose(empty, eos, atol=1e-6)


def test_prefixes_are_applied(gpt2_dir):
    prefixed = PooledTransformerEncoder(name="gpt2", dim=HIDDEN, model=gpt2_dir, query_prefix="query: ", device="cpu")
    plain = PooledTransformerEncoder(name="gpt2", dim=HIDDEN, model=gpt2_dir, device="cpu")
    query, passage = prefixed.encode(["hello world"], "query"), prefixed.encode(["hello world"], "passage")
    assert not np.allclose(query, passage)
    np.testing.assert_allclose(query, plain.encode(["query: hello world"], "passage"), atol=1e-6)
    np.testing.assert_allclose(passage, plain.encode(["hello world"], "passage"), atol=1e-6)


def test_wrong_dim_is_a_user_error(llama_dir):
    encoder = PooledTransformerEncoder(name="llama", dim=HIDDEN + 1, model=llama_dir, pooling="last", device="cpu")
    with pytest.raises(UserError, match="dim=33"):
        encoder.encode(["hello"], "passage")


def test_bad_settings_are_user_errors():
    with pytest.raises(UserError, match="pooling"):
        PooledTransformerEncoder(name="x", dim=4, model="x", pooling="max")
    with pytest.raises(UserError, match="torch_dtype"):
        PooledTransformerEncoder(name="x", dim=4, model="x", torch_dtype="float8")


def test_missing_hub_model_offline_is_a_user_error():
    encoder = PooledTransformerEncoder(name="ghost", dim=8, model="nobody-here/no-such-model-xyz", device="cpu")
    assert encoder.version() == "nobody-here/no-such-model-xyz"  # nothing cached: no commit to pin
    with pytest.raises(UserError, match="network access") as caught:
        encoder.encode(["hello"], "passage")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_bfloat16_weights_give_float32_vectors(llama_dir):
    encoder = PooledTransformerEncoder(
        name="llama", dim=HIDDEN, model=llama_dir, pooling="last", torch_dtype="bfloat16", device="cpu"
    )
    vectors = encoder.encode(TEXTS, "passage")
    assert vectors.dtype == np.float32 and encoder._model.dtype == torch.bfloat16
    reference = PooledTransformerEncoder(name="llama", dim=HIDDEN, model=llama_dir, pooling="last", device="cpu")
    np.testing.assert_allclose(vectors, reference.encode(TEXTS, "passage"), atol=0.1)


def test_local_folder_version_and_identity(gpt2_dir):
    encoder = PooledTransformerEncoder(name="gpt2", dim=HIDDEN, model=gpt2_dir, pooling="last")
    assert encoder.version() == gpt2_dir
    identity = encoder.identity()
    assert identity["pooling"] == "last" and identity["class"] == "PooledTransformerEncoder"
    assert encoder._model is None  # identity does not load the model


# --- sentence-T5 through SentenceTransformerEncoder ---------------------------------------------------------


def test_sentence_t5_folder(t5_dirs):
    hf_folder, st_folder = t5_dirs
    encoder = SentenceTransformerEncoder(name="t5", dim=HIDDEN, model=st_folder, query_prefix="query: ", device="cpu")
    vectors = encoder.encode(TEXTS, "passage")
    assert vectors.shape == (len(TEXTS), HIDDEN) and vectors.dtype == np.float32
    assert encoder.normalized is True
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(encoder.encode(TEXTS, "passage"), vectors)
    from transformers import T5EncoderModel

    expected = np.stack([unit(reference_states(hf_folder, text, T5EncoderModel).mean(0)) for text in TEXTS])
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert not np.allclose(encoder.encode(["hello world"], "query"), encoder.encode(["hello world"], "passage"))
    wrong = SentenceTransformerEncoder(name="t5", dim=HIDDEN * 2, model=st_folder, device="cpu")
    with pytest.raises(UserError, match="dim="):
        wrong.encode(["hello"], "passage")


def test_sentence_transformer_missing_offline_is_a_user_error():
    encoder = SentenceTransformerEncoder(name="t5", dim=768, model="nobody-here/no-such-st-model-xyz", device="cpu")
    with pytest.raises(UserError, match="network access"):
        encoder.encode(["hello"], "passage")


# --- OpenAI, against a local stub of POST /v1/embeddings ----------------------------------------------------


def stub_vector(text: str, dims: int) -> np.ndarray:
    """The stub's deterministic unit vector for a text."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
    return vector / np.linalg.norm(vector)


class StubHandler(BaseHTTPRequestHandler):
    requests: list[dict] = []  # bodies received, in order
    key = "test-key"
    default_dims = 8

    def log_message(self, *args):  # keep pytest output clean
        pass

    def reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/embeddings":
            return self.reply(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
        if self.headers.get("Authorization") != f"Bearer {self.key}":
            return self.reply(401, {"error": {"message": "Incorrect API key", "type": "invalid_request_error"}})
        type(self).requests.append(request)
        inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
        if any(text == "" for text in inputs):  # as the real API does
            return self.reply(400, {"error": {"message": "'$.input' is invalid", "type": "invalid_request_error"}})
        dims = request.get("dimensions", self.default_dims)
        data = []
        for index, text in enumerate(inputs):
            vector = stub_vector(text, dims)
            encoded = (
                base64.b64encode(vector.tobytes()).decode()
                if request.get("encoding_format") == "base64"
                else vector.tolist()
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        data.reverse()  # deliberately out of order: clients must sort by index
        tokens = sum(len(text.split()) for text in inputs)
        self.reply(200, {
            "object": "list", "data": data, "model": request["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })


@pytest.fixture(scope="module")
def stub_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture
def stub(stub_url, monkeypatch):
    monkeypatch.setenv("TEST_OPENAI_KEY", StubHandler.key)
    StubHandler.requests.clear()
    return stub_url


def openai_encoder(base_url: str, **kwargs) -> OpenAIEncoder:
    kwargs.setdefault("dim", StubHandler.default_dims)
    return OpenAIEncoder(name="openai", base_url=base_url, api_key_env="TEST_OPENAI_KEY", max_retries=0, **kwargs)


def test_openai_batches_and_restores_order(stub):
    texts = [f"text number {i}" for i in range(7)]
    encoder = openai_encoder(stub, batch_size=3)
    vectors = encoder.encode(texts, "passage")
    assert [len(request["input"]) for request in StubHandler.requests] == [3, 3, 1]
    assert all(request["model"] == "text-embedding-3-small" for request in StubHandler.requests)
    assert "dimensions" not in StubHandler.requests[0]
    assert vectors.shape == (7, 8) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, np.stack([stub_vector(text, 8) for text in texts]), atol=1e-6)
    assert encoder.normalized is True and encoder.version() == "openai:text-embedding-3-small:None"


def test_openai_replaces_empty_strings(stub):
    vectors = openai_encoder(stub).encode(["", "hello"], "passage")
    assert StubHandler.requests[0]["input"] == [" ", "hello"]
    np.testing.assert_allclose(vectors[0], stub_vector(" ", 8), atol=1e-6)


def test_openai_forwards_dimensions_and_prefixes(stub):
    encoder = openai_encoder(stub, dim=4, dimensions=4, query_prefix="query: ")
    vectors = encoder.encode(["hello"], "query")
    assert StubHandler.requests[0]["dimensions"] == 4
    assert StubHandler.requests[0]["input"] == ["query: hello"]
    np.testing.assert_allclose(vectors[0], stub_vector("query: hello", 4), atol=1e-6)
    assert encoder.version() == "openai:text-embedding-3-small:4"
    with pytest.raises(UserError, match="dim=8"):  # server returned 4-d vectors, config says 8
        openai_encoder(stub, dimensions=4).encode(["hello"], "passage")


def test_openai_missing_or_rejected_key_is_a_user_error(stub, monkeypatch):
    monkeypatch.delenv("TEST_OPENAI_KEY")
    with pytest.raises(UserError, match="TEST_OPENAI_KEY"):
        openai_encoder(stub).encode(["hello"], "passage")
    monkeypatch.setenv("TEST_OPENAI_KEY", "wrong-key")
    with pytest.raises(UserError, match="rejected"):
        openai_encoder(stub).encode(["hello"], "passage")


def test_openai_unreachable_server_is_a_user_error(monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("TEST_OPENAI_KEY", "k")
    with pytest.raises(UserError, match="could not reach"):
        openai_encoder(f"http://127.0.0.1:{port}/v1", timeout=5).encode(["hello"], "passage")


def test_openai_batch_size_limit():
    with pytest.raises(UserError, match="2048"):
        OpenAIEncoder(name="openai", dim=8, batch_size=4096)


# --- the YAML configs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config, cls",
    [
        ("t5", SentenceTransformerEncoder),
        ("gpt2", PooledTransformerEncoder),
        ("llama", PooledTransformerEncoder),
        ("openai", OpenAIEncoder),
    ],
)
def test_online_configs_instantiate_without_loading(config, cls, monkeypatch):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # instantiation must not need the key either
    path = CONF / f"{config}.yaml"
    assert "NEEDS NETWORK" in path.read_text().split("\nname:")[0]
    cfg = OmegaConf.load(path)
    assert cfg.name == config and cfg.needs_network is True
    encoder = instantiate(cfg.encoder)
    assert type(encoder) is cls
    assert encoder.name == config and encoder.dim == cfg.dim
    assert getattr(encoder, "_model", None) is None and getattr(encoder, "_client", None) is None
    expected = {
        "t5": {"model_ref": "sentence-transformers/sentence-t5-base", "dim": 768},
        "gpt2": {"model_ref": "openai-community/gpt2", "dim": 768, "pooling": "mean"},
        "llama": {"model_ref": "meta-llama/Llama-3.2-1B", "dim": 2048, "pooling": "last", "torch_dtype": "float32"},
        "openai": {"model": "text-embedding-3-small", "dim": 1536, "batch_size": 256, "dimensions": None},
    }[config]
    assert {key: getattr(encoder, key) for key in expected} == expected
