"""The folder of one sweep job: readable, and never shared by two jobs that compute different things.

``<dataset>/<model_a>-to-<model_b>/<arch>-x<width>[_<key>=<value>...]_<fingerprint>``: the other
keys this sweep varies (seed, optimizer.lr, loss, ...), as the job got them, then the first 8 hex
digits of the run's fingerprint. Two jobs with different fingerprints therefore never write into
one folder, whatever key tells them apart, and re-running a sweep into its own directory finds each
job's finished run where it left it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from embtrans.sweep.run_index import run_fingerprint

# Already spelled out by the folder path.
IN_PATH = {"dataset", "model_a", "model_b", "arch", "width"}
UNSAFE = re.compile(r"[^A-Za-z0-9._=+,\-\[\]]+")
MAX_READABLE = 120


def job_folder(_root_: DictConfig) -> str:
    """Resolver behind ``hydra.sweep.subdir`` (``${job_folder:}``): Hydra resolves it in each job, with
    the job's whole config as root and HydraConfig already set."""
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg, cfg = HydraConfig.get(), _root_  # run_fingerprint leaves the hydra node out itself
    swept = swept_keys(str(hydra_cfg.sweep.dir)) | set(hydra_cfg.sweeper.get("params") or {})
    parts = []
    for key, value in job_overrides(tuple(hydra_cfg.overrides.task)):
        if key in swept and key not in IN_PATH:
            parts.append(UNSAFE.sub("-", f"{key}={value}"))
    readable = "_".join([f"{cfg.arch.name}-x{cfg.width}", *sorted(parts)])[:MAX_READABLE]
    return f"{cfg.dataset.name}/{cfg.model_a.name}-to-{cfg.model_b.name}/{readable}_{run_fingerprint(cfg)[:8]}"


def parsed(overrides) -> list:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides(list(overrides))


def job_overrides(overrides: tuple[str, ...]) -> list[tuple[str, str]]:
    """(key, value as typed) of each command-line override of this job."""
    return [(o.key_or_group, o.input_line.split("=", 1)[1] if "=" in o.input_line else "") for o in parsed(overrides)]


@lru_cache(maxsize=8)
def swept_keys(sweep_dir: str) -> set[str]:
    """Keys the sweep's command line gives several values (``seed=0,1,2``), read from the
    ``multirun.yaml`` Hydra's sweeper writes before it launches any job."""
    path = Path(sweep_dir) / "multirun.yaml"
    if not path.exists():
        return set()
    return {o.key_or_group for o in parsed(OmegaConf.load(path).hydra.overrides.task) if o.is_sweep_override()}
