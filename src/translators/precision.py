"""Which number format a training job's steps run in: `precision=auto|32|bf16` made concrete."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import torch

from src.errors import UserError

log = logging.getLogger(__name__)

# CPU flags of native bfloat16 arithmetic: AVX-512 BF16 (Zen 4, Cooper Lake and later) or AMX.
BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux); empty where /proc/cpuinfo does not exist."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    return frozenset(flag for line in text.splitlines() if line.startswith("flags") for flag in line.split(":", 1)[1].split())


def native_bf16(device_type: str) -> bool:
    """Whether the device multiplies bfloat16 natively (else bf16 would be emulated, and slower)."""
    if device_type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return bool(BF16_CPU_FLAGS & cpu_flags())


def resolve_precision(setting: str, device_type: str) -> str:
    """"32" or "bf16" for a job on ``device_type`` ("cpu" or "cuda"). auto is bf16 where it is native;
    on a GPU it also lets float32 matmuls use TF32."""
    setting = str(setting)
    if setting not in ("auto", "32", "bf16"):
        raise UserError(f"precision={setting} is not one of auto, 32, bf16")
    if setting != "auto":
        return setting
    if device_type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return "bf16" if native_bf16(device_type) else "32"
