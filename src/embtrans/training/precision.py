"""Which number format a training job's steps run in: `precision=auto|32|tf32|bf16` made concrete."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import torch

from embtrans.errors import UserError

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


SETTINGS = ("auto", "32", "tf32", "bf16")


def allow_tf32(allowed: bool) -> None:
    """Whether float32 matmuls on a GPU may round their inputs to TF32 (10-bit mantissa; ~8x the
    float32 rate on tensor cores). Set for each job, since it is process-wide."""
    torch.backends.cuda.matmul.allow_tf32 = allowed
    torch.backends.cudnn.allow_tf32 = allowed


def resolve_precision(setting: str, device_type: str) -> str:
    """"32", "tf32" or "bf16" for a job on ``device_type`` ("cpu" or "cuda").

    32 is float32 throughout; tf32 is float32 weights with TF32 matmuls (a GPU's; on a CPU it is 32);
    bf16 runs the training forward pass under bfloat16 autocast. auto is tf32 on a GPU (on an H100
    it beat bf16 autocast at every width, whose casts cost more than they save at batch 256:
    benchmarks/gpu_check.sh), and bf16 on a CPU that multiplies it natively (faster than float32 there: measured by
    benchmarks/training_speed.py; figures in docs/performance.md)."""
    setting = str(setting)
    if setting not in SETTINGS:
        raise UserError(f"precision={setting} is not one of {', '.join(SETTINGS)}")
    if setting == "auto":
        setting = "tf32" if device_type == "cuda" else ("bf16" if native_bf16(device_type) else "32")
    if setting == "tf32" and device_type != "cuda":
        setting = "32"  # TF32 is a GPU number format: a CPU multiplies float32
    if device_type == "cuda":
        allow_tf32(setting == "tf32")
    return setting
