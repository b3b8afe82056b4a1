"""Which GPU a sweep's job trains on when the machine has several: the one the fewest running jobs hold.

Joblib starts a job whenever a worker frees up, so a job's number says nothing about what else is running:
with two GPUs, round-robin by number puts job 2 on job 0's GPU whenever job 1 ends first, and the other GPU
idles. Instead each job claims a device for as long as it trains: a lock file in the sweep folder, held with
flock by the job's process and let go when the job ends, or by the OS when its process dies however it dies.
A job counts the claims still held on each device and takes the least loaded one (the lowest on a tie).
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CLAIMS = ".gpu_claims"  # in the sweep folder


def _try_lock(path: Path) -> int | None:
    """An open, exclusively flocked descriptor of ``path``; None when another holder has it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def held_claims(folder: Path, device_count: int) -> list[int]:
    """How many live claims each device has; claims whose holder is gone are removed."""
    load = [0] * device_count
    for path in folder.glob("gpu*-*.lock"):
        device = int(path.name[3:].split("-", 1)[0])
        fd = _try_lock(path)
        if fd is None:  # still held by a running job
            if device < device_count:
                load[device] += 1
            continue
        path.unlink(missing_ok=True)  # its job ended without letting go (killed): a stale claim
        os.close(fd)
    return load


@contextmanager
def claimed_device(folder: Path, device_count: int) -> Iterator[int]:
    """Hold a claim on the least-loaded of ``device_count`` devices while the block runs; yields its index.
    Claims are counted and made under one folder-wide lock, so two jobs starting together see each other."""
    folder = Path(folder) / CLAIMS
    folder.mkdir(parents=True, exist_ok=True)
    guard = os.open(folder / "claiming.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX)
        load = held_claims(folder, device_count)
        device = min(range(device_count), key=lambda d: (load[d], d))
        claim = folder / f"gpu{device}-{os.getpid()}-{uuid.uuid4().hex[:8]}.lock"
        fd = _try_lock(claim)
    finally:
        os.close(guard)  # closing the descriptor lets go of its flock
    try:
        yield device
    finally:
        claim.unlink(missing_ok=True)
        if fd is not None:
            os.close(fd)
