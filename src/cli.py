"""What every entry point shares: the project root for configs, and one-line errors for user mistakes."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from omegaconf import OmegaConf

from src.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = str(ROOT / "conf")


def set_project_env() -> None:
    """conf/paths reads EMBTRANS_ROOT, so runs land under the repository whatever the working directory;
    conf/logger reads ${run_group:} to group a sweep's W&B runs."""
    os.environ.setdefault("EMBTRANS_ROOT", str(ROOT))
    if not OmegaConf.has_resolver("run_group"):
        OmegaConf.register_new_resolver("run_group", run_group)


def in_multirun() -> bool:
    """Whether this process runs a job of a Hydra sweep (-m)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def run_group() -> str:
    """The sweep's directory name for the jobs of a sweep; 'single-runs' otherwise."""
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().sweep.dir).name if in_multirun() else "single-runs"


def exit_on_user_error(task):
    """Print a UserError as one line and exit 2, instead of a traceback."""
    @functools.wraps(task)
    def wrapped(*args, **kwargs):
        try:
            return task(*args, **kwargs)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
    return wrapped
