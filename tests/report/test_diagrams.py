"""The report's diagrams: drawn from the real translator modules, deterministic, written only on change."""

import os

import pytest
import torch

from embtrans.report.diagrams import (
    draw_measurement_protocol,
    draw_translator,
    has_skip,
    layer_labels,
    leaf_layers,
)
from embtrans.translators.linear import LinearTranslator
from embtrans.translators.mlp import MLPTranslator

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TRANSLATORS = {
    "linear": lambda: LinearTranslator(384, 768),
    "mlp1_x1": lambda: MLPTranslator(384, 768, hidden_layers=1, width=1),
    "mlp2_x32_residual": lambda: MLPTranslator(384, 768, hidden_layers=2, width=32, layer_norm=True, dropout=0.1,
                                               residual=True),
}


@pytest.mark.parametrize("name", TRANSLATORS)
def test_translator_diagram_is_written_once_and_deterministic(tmp_path, name):
    module = TRANSLATORS[name]()
    path = draw_translator(module, 384, 768, name, tmp_path / f"{name}.png", note="a caption")
    png = path.read_bytes()
    assert png.startswith(PNG_MAGIC)
    assert 10_000 < len(png) < 2_000_000

    # Backdate the file: an unchanged redraw must leave it alone, mtime included.
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert draw_translator(module, 384, 768, name, path, note="a caption") == path
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert path.read_bytes() == png

    # A fresh module of the same shape (other random weights) draws the same picture.
    draw_translator(TRANSLATORS[name](), 384, 768, name, tmp_path / "again.png", note="a caption")
    assert (tmp_path / "again.png").read_bytes() == png


def test_labels_follow_the_module_in_forward_order():
    module = TRANSLATORS["mlp2_x32_residual"]()
    assert layer_labels(module) == [
        "Linear 384→12,288", "LayerNorm 12,288", "GELU", "Dropout p=0.1",
        "Linear 12,288→12,288", "LayerNorm 12,288", "GELU", "Dropout p=0.1",
        "Linear 12,288→768",
    ]
    assert has_skip(module)
    assert module.skip not in leaf_layers(module)  # drawn as the bypass, not in the main stack
    assert layer_labels(TRANSLATORS["linear"]()) == ["Linear 384→768"]
    assert not has_skip(TRANSLATORS["linear"]())
    assert not has_skip(TRANSLATORS["mlp1_x1"]())


def test_unknown_layers_are_labelled_by_class_name():
    class Scale(torch.nn.Module):
        def forward(self, x):
            return 2 * x

    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.SiLU(), Scale(), torch.nn.Linear(8, 2))
    assert layer_labels(module) == ["Linear 4→8", "SiLU", "Scale", "Linear 8→2"]


def test_placeholder_stamp_changes_the_picture(tmp_path):
    module = TRANSLATORS["mlp1_x1"]()
    plain = draw_translator(module, 384, 768, "mlp1", tmp_path / "plain.png").read_bytes()
    stamped = draw_translator(module, 384, 768, "mlp1", tmp_path / "stamped.png", placeholder=True).read_bytes()
    assert stamped.startswith(PNG_MAGIC)
    assert stamped != plain

    protocol = draw_measurement_protocol(tmp_path / "protocol.png").read_bytes()
    stamped = draw_measurement_protocol(tmp_path / "protocol_stamped.png", placeholder=True).read_bytes()
    assert stamped != protocol


def test_measurement_protocol_names_the_models(tmp_path):
    default = draw_measurement_protocol(tmp_path / "default.png").read_bytes()
    assert default.startswith(PNG_MAGIC)
    assert len(default) > 10_000
    named = draw_measurement_protocol(
        tmp_path / "named.png", models=("all-MiniLM-L6-v2", "all-mpnet-base-v2")).read_bytes()
    assert named != default
    assert draw_measurement_protocol(tmp_path / "again.png").read_bytes() == default


@pytest.mark.parametrize("module", [torch.nn.Module(), torch.nn.Sequential()])
def test_a_module_without_layers_is_refused(tmp_path, module):
    with pytest.raises(ValueError, match="no leaf layers"):
        draw_translator(module, 384, 768, "empty", tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()
