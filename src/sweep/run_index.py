"""Which runs are already done: a record per run fingerprint, shared by every sweep.

A run's fingerprint hashes the parts of its resolved config that decide its result: data, models,
architecture, optimiser, trainer, seed. Paths, loggers, progress bars and thread counts do not
count, nor does the width of an architecture that does not use it. Two jobs with one fingerprint
are the same experiment: the second reuses the first's results instead of training again.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock
from omegaconf import DictConfig, OmegaConf

# Top-level keys, and dotted keys inside them, that do not change what a run computes.
NOT_IN_FINGERPRINT = [
    "paths", "logger", "hydra", "threads", "resume", "skip_same_model",
    "data.show_progress", "trainer.enable_progress_bar", "trainer.enable_model_summary",
    "trainer.default_root_dir", "trainer.accelerator", "trainer.devices", "callbacks.model_checkpoint.dirpath",
]


def run_fingerprint(cfg: DictConfig) -> str:
    config = OmegaConf.to_container(cfg, resolve=False)
    for dotted in NOT_IN_FINGERPRINT:
        *parents, leaf = dotted.split(".")
        node = config
        for key in parents:
            node = node.get(key) or {}
        node.pop(leaf, None)
    if not cfg.arch.get("uses_width", True):
        config.pop("width", None)
    # Resolve what is left (interpolations such as ${width.factor}) without touching the paths.
    resolved = OmegaConf.to_container(OmegaConf.create(config), resolve=True)
    return hashlib.sha256(json.dumps(resolved, sort_keys=True, default=str).encode()).hexdigest()[:16]


class RunIndex:
    """``<root>/<fingerprint>.json`` names the directory of the finished run with that fingerprint."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def claim(self, fingerprint: str):
        """Held while a run trains: a concurrent job with the same fingerprint waits, then reuses it."""
        with FileLock(str(self.root / f"{fingerprint}.lock")):
            yield

    def finished_run(self, fingerprint: str) -> Path | None:
        record = self.root / f"{fingerprint}.json"
        if not record.exists():
            return None
        try:
            run_dir = Path(json.loads(record.read_text())["run_dir"])
        except (ValueError, KeyError):
            return None  # a damaged record: the run is simply trained again
        return run_dir if (run_dir / "metrics.json").exists() else None

    def record(self, fingerprint: str, run_dir: Path) -> None:
        tmp = self.root / f"{fingerprint}.json.tmp"
        tmp.write_text(json.dumps({"run_dir": str(run_dir)}))
        tmp.replace(self.root / f"{fingerprint}.json")
