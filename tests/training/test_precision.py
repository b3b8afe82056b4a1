"""precision=auto|32|tf32|bf16 made concrete for a CPU job (the GPU branches need a GPU: benchmarks/gpu_check.sh)."""

import pytest

from embtrans.errors import UserError
from embtrans.training import precision
from embtrans.training.precision import resolve_precision


@pytest.mark.parametrize("setting", ["32", "bf16"])
def test_an_explicit_precision_is_kept(setting):
    assert resolve_precision(setting, "cpu") == setting


def test_tf32_is_float32_on_a_cpu():
    # TF32 is a GPU matmul format: a CPU job runs float32 and records so
    assert resolve_precision("tf32", "cpu") == "32"


@pytest.mark.parametrize("flags, expected",
                         [({"avx512_bf16"}, "bf16"), ({"amx_bf16", "avx2"}, "bf16"), ({"avx2"}, "32"), (set(), "32")])
def test_auto_picks_bf16_only_where_the_cpu_multiplies_it_natively(monkeypatch, flags, expected):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    assert resolve_precision("auto", "cpu") == expected


def test_an_unknown_precision_is_one_clear_error():
    with pytest.raises(UserError, match="precision=16 is not one of auto, 32, tf32, bf16"):
        resolve_precision("16", "cpu")


def test_the_module_accepts_every_resolved_precision():
    from embtrans.training.lit_module import PRECISIONS
    for setting in ("auto", "32", "tf32", "bf16"):
        assert resolve_precision(setting, "cpu") in PRECISIONS
