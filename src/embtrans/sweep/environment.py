"""The process-wide set-up every entry point and every sweep worker makes before composing a config:
the resolvers the configs use and where runs land."""

from __future__ import annotations

import logging
import os

from omegaconf import OmegaConf

from embtrans.paths import ROOT, run_group


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
        from embtrans.sweep.job_dir import job_folder

        OmegaConf.register_new_resolver("job_folder", job_folder)
