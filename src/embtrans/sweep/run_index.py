"""Which runs are already done: a record per run fingerprint, shared by every sweep.

A run's fingerprint hashes the parts of its resolved config that decide its result: data, models,
architecture, optimiser, trainer, seed. Paths, loggers, progress bars and thread counts do not
count, nor does the width of an architecture that does not use it, nor the seed of a closed-form map.
Two jobs with one fingerprint are the same experiment: the second reuses the first's results instead of training again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock
from omegaconf import DictConfig, OmegaConf

from embtrans.data.paired import train_pairs_setting
from embtrans.run_files import DamagedFile, read_metrics
from embtrans.training.objectives import objective_for_fingerprint

log = logging.getLogger(__name__)

# Top-level keys, and dotted keys inside them, that do not change what a run computes.
NOT_IN_FINGERPRINT = [
    "paths", "logger", "hydra", "threads", "resume", "skip_same_model", "cut",
    # The references scored beside the run (metrics.json's baselines), not what the run trains.
    "closed_form",
    "data.show_progress", "trainer.enable_progress_bar", "trainer.enable_model_summary",
    "trainer.default_root_dir", "trainer.accelerator", "trainer.devices", "callbacks.model_checkpoint.dirpath",
    # Where and how often a resume point is written: a resumed run ends with the numbers of an uninterrupted one.
    "callbacks.resume_checkpoint",
]


def run_fingerprint(cfg: DictConfig) -> str:
    return hashlib.sha256(json.dumps(fingerprint_settings(cfg), sort_keys=True, default=str).encode()).hexdigest()[:16]


def seed_matters(cfg: DictConfig) -> bool:
    """A closed-form fit is deterministic, so every seed is the same run; unless the seed draws its training
    sample (dataset.train_pairs) or the method itself is seeded (an unsupervised fit's halves and restarts)."""
    return (not cfg.arch.get("closed_form", False) or bool(cfg.arch.get("seeded", False))
            or train_pairs_setting(cfg) is not None)


def fingerprint_settings(cfg: DictConfig) -> dict:
    """The resolved settings a run's fingerprint hashes: what decides its result, in canonical form."""
    config = OmegaConf.to_container(cfg, resolve=False)
    for dotted in NOT_IN_FINGERPRINT:
        *parents, leaf = dotted.split(".")
        node = config
        for key in parents:
            node = node.get(key) or {}
        node.pop(leaf, None)
    # Only the objective settings the loss uses: plain mse leaves them out, as before they existed.
    objective = objective_for_fingerprint(config.get("loss", "mse"), config.pop("objective", None))
    if objective is not None:
        config["objective"] = objective
    net = config.get("arch", {}).get("net", {})
    if net.get("init") == "random":  # the default: runs from before the key existed keep their fingerprints
        net.pop("init")
    if not cfg.arch.get("uses_width", True):
        config.pop("width", None)
    # All texts (as before the key existed), or a translator that reads no pairs: the same run as without it.
    if train_pairs_setting(cfg) is None:
        (config.get("dataset") or {}).pop("train_pairs", None)
    if not seed_matters(cfg):
        config.pop("seed", None)
    # Resolve what is left (interpolations such as ${width.factor}) without touching the paths.
    resolved = OmegaConf.to_container(OmegaConf.create(config), resolve=True)
    # The default monitor (val/mse), once the callbacks' interpolations of it are resolved: runs from
    # before conf/monitor existed keep their fingerprints.
    if (resolved.get("monitor") or {}).get("metric") == "val/mse":
        resolved.pop("monitor")
    return as_first_named(resolved)


# The package was named src until it became embtrans, and the training machinery lay in translators/: class
# paths are hashed under their first names, so every run keeps its fingerprint across the move (a finished
# run is still found, old configs and new alike). Most specific first.
FIRST_NAMES = {
    # Keeping the best weights in memory until the end changes when best.ckpt is written, not what it holds.
    "embtrans.training.best_checkpoint.BestCheckpoint": "pytorch_lightning.callbacks.ModelCheckpoint",
    "embtrans.training.schedules.": "src.translators.schedules.",
    "embtrans.training.resume.": "src.translators.resume.",
    "embtrans.training.objectives.": "src.translators.objectives.",
    "embtrans.": "src.",
}


def first_name(target: str) -> str:
    for name, first in FIRST_NAMES.items():
        if target.startswith(name):
            return first + target.removeprefix(name)
    return target


def as_first_named(node):
    """``node`` with every ``_target_`` under its first name."""
    if isinstance(node, dict):
        return {key: first_name(value) if key == "_target_" and isinstance(value, str) else as_first_named(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [as_first_named(value) for value in node]
    return node


class RunIndex:
    """``<root>/<fingerprint>.json`` names the directory of the finished run with that fingerprint,
    relative to the index, so a log directory moved as a whole keeps its index valid."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def claim(self, fingerprint: str):
        """Held while a run trains: a concurrent job with the same fingerprint waits, then reuses it."""
        with FileLock(str(self.root / f"{fingerprint}.lock")):
            yield

    def finished_run(self, fingerprint: str) -> Path | None:
        """The finished run's directory, if its record and its metrics.json can be trusted: readable,
        finite, and made by a run of this very fingerprint. Otherwise the run is trained again."""
        record = self.root / f"{fingerprint}.json"
        if not record.exists():
            return None
        try:
            run_dir = Path(os.path.normpath(self.root / json.loads(record.read_text())["run_dir"]))
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("the run index record %s is damaged: training the run again", record)
            return None
        if not (run_dir / "metrics.json").exists():
            return None
        try:
            metrics = read_metrics(run_dir, "training the run again")
        except DamagedFile as damaged:
            log.warning("%s", damaged)
            return None
        if metrics["run"].get("fingerprint") != fingerprint:
            log.warning("the run index points at %s, which now holds another run: training the run again", run_dir)
            return None
        return run_dir

    def record(self, fingerprint: str, run_dir: Path) -> None:
        tmp = self.root / f"{fingerprint}.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"run_dir": os.path.relpath(Path(run_dir).resolve(), self.root.resolve())}))
        tmp.replace(self.root / f"{fingerprint}.json")
