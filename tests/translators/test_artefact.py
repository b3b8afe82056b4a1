"""The exported translator: it round-trips, loads without Hydra, and refuses what it cannot take."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from embtrans.data.paired import load_paired_embeddings
from embtrans.errors import UserError
from embtrans.paths import ROOT
from embtrans.training.run import train
from embtrans.translators.artefact import Translator, build_net

MODELS = {"model_a": {"name": "a", "dim": 6}, "model_b": {"name": "b", "dim": 4}}
NETS = [
    {"_target_": "embtrans.translators.linear.LinearTranslator"},
    {"_target_": "embtrans.translators.mlp.MLPTranslator", "hidden_layers": 2, "width": 2, "residual": True},
    {"_target_": "embtrans.translators.closed_form.ProcrustesTranslator"},
    {"_target_": "embtrans.translators.references.LocalProcrustesTranslator", "n_clusters": [1, 3],
     "temperatures": [0.5]},
]


def fitted(net_config):
    torch.manual_seed(0)
    net = build_net(net_config, 6, 4)
    if hasattr(net, "fit"):  # closed forms fit on a planted map
        generator = np.random.default_rng(0)
        source = torch.from_numpy(generator.normal(size=(200, 6)).astype(np.float32))
        target = source @ torch.from_numpy(generator.normal(size=(6, 4)).astype(np.float32))
        net.fit(source[:150], target[:150], source[150:], target[150:])
    return net


@pytest.mark.parametrize("net_config", NETS, ids=lambda c: c["_target_"].rsplit(".", 1)[1])
def test_a_saved_translator_loads_and_translates_exactly_as_before(net_config, tmp_path):
    translator = Translator(fitted(net_config), {"net": net_config, **MODELS})
    vectors = np.random.default_rng(1).normal(size=(7, 6)).astype(np.float32)
    expected = translator.translate(vectors)
    loaded = Translator.load(translator.save(tmp_path / "exported"))
    assert np.array_equal(loaded.translate(vectors), expected)
    assert torch.allclose(loaded.translate(torch.from_numpy(vectors[0])), torch.from_numpy(expected[0]), atol=1e-6)
    assert loaded.translate(vectors).dtype == np.float32 and loaded.info["model_b"]["name"] == "b"


def test_vectors_of_the_wrong_dimension_are_refused_in_one_line(tmp_path):
    translator = Translator(fitted(NETS[0]), {"net": NETS[0], **MODELS})
    with pytest.raises(UserError, match=r"takes a's 6-dimensional vectors, not vectors of shape \(3, 4\)"):
        translator.translate(np.zeros((3, 4), dtype=np.float32))


def test_a_damaged_or_foreign_export_is_refused_in_one_line(tmp_path):
    path = Translator(fitted(NETS[0]), {"net": NETS[0], **MODELS}).save(tmp_path / "t")
    (path / "weights.safetensors").write_bytes(b"not weights")
    with pytest.raises(UserError, match="damaged translator.*export it again"):
        Translator.load(path)
    info = json.loads((path / "translator.json").read_text())
    info["net"]["_target_"] = "os.system"
    (path / "translator.json").write_text(json.dumps(info))
    with pytest.raises(UserError, match="not one of this project's translators"):
        Translator.load(path)
    with pytest.raises(UserError, match="is not a translator"):
        Translator.load(tmp_path)


def test_a_finished_run_exports_the_translator_it_kept_and_loads_without_hydra(compose_train, tmp_path):
    cfg = compose_train("model_a=minilm", "model_b=use", "dataset.limit=2000", "trainer.max_epochs=3")
    train(cfg)
    exported = Translator.from_run(tmp_path).save(tmp_path / "exported")
    # It translates the run's test vectors to what the run itself wrote.
    paired = load_paired_embeddings(cfg, show_progress=False)
    translated = Translator.load(exported).translate(paired.source[paired.rows("test")])
    assert np.allclose(translated, np.load(tmp_path / "translated" / "test.npy"), atol=1e-6)
    # A fresh interpreter loads it without importing Hydra.
    script = (
        "import sys, numpy as np\n"
        "from embtrans.translators.artefact import Translator\n"
        f"t = Translator.load({str(exported)!r})\n"
        "print(t.info['model_a']['name'], t.info['model_b']['name'], t.info['source']['arch'])\n"
        "assert 'hydra' not in sys.modules, 'loading imported hydra'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["minilm", "use", "linear"]


def test_a_reused_run_exports_the_run_it_points_at_and_a_damaged_checkpoint_is_one_line(compose_train, tmp_path):
    """Issue 23: a job that reused an identical run records the pointer at metrics.json's top level, where
    from_run now follows it; a truncated best.ckpt is a UserError naming the file, not a torch traceback."""
    from embtrans.sweep.job import run_job

    overrides = ("model_a=glove", "model_b=use", "dataset.limit=600", "trainer.max_epochs=2")
    trained, reusing = tmp_path / "trained", tmp_path / "reusing"
    run_job(compose_train(*overrides, output_dir=trained))
    run_job(compose_train(*overrides, output_dir=reusing))  # the same run: a pointer, no checkpoint of its own
    assert "reused_from" in json.loads((reusing / "metrics.json").read_text())
    assert not (reusing / "checkpoints").exists()
    vectors = np.random.default_rng(0).normal(size=(5, 50)).astype(np.float32)
    original = Translator.from_run(trained)
    through_pointer = Translator.from_run(reusing)
    assert np.array_equal(through_pointer.translate(vectors), original.translate(vectors))
    assert through_pointer.info["source"]["run_dir"] == str(trained)
    checkpoint = trained / "checkpoints" / "best.ckpt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])  # truncated, as by a full disk
    for run in (trained, reusing):
        with pytest.raises(UserError, match=rf"{checkpoint} is damaged .*train the run again"):
            Translator.from_run(run)
    (trained / "metrics.json").write_text('{"run": ')
    with pytest.raises(UserError, match=r"metrics.json is damaged"):
        Translator.from_run(trained)
