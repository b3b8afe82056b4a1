"""What every entry point shares: the project root for configs, and one-line errors for user mistakes."""

from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path

from omegaconf import OmegaConf

from src.errors import EXIT_CODES, user_facing

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = str(ROOT / "conf")


def set_project_env() -> None:
    """conf/paths reads EMBTRANS_ROOT, so runs land under the repository whatever the working directory;
    conf/logger reads ${run_group:} to group a sweep's W&B runs; conf/hydra names each sweep job's
    folder with ${job_folder:}."""
    os.environ.setdefault("EMBTRANS_ROOT", str(ROOT))
    # A log file on a full disk must not print a traceback per record: the fault itself is reported once,
    # by the job (failed.json, or one line) and the sweep's summary.
    logging.raiseExceptions = False
    if not OmegaConf.has_resolver("run_group"):
        OmegaConf.register_new_resolver("run_group", run_group)
    if not OmegaConf.has_resolver("job_folder"):
        from src.sweep.job_dir import job_folder

        OmegaConf.register_new_resolver("job_folder", job_folder)


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
    """Print a UserError (exit 2), a failed run (exit 1) or a refusal by a quality gate (exit 3) as one
    line instead of a traceback, also when a library wrapped it (Hydra's instantiate does)."""
    @functools.wraps(task)
    def wrapped(*args, **kwargs):
        try:
            return task(*args, **kwargs)
        except Exception as error:
            shown = user_facing(error)
            if shown is None:
                raise
            print(f"error: {shown}", file=sys.stderr)
            sys.exit(next(code for kind, code in EXIT_CODES.items() if isinstance(shown, kind)))
    return wrapped
