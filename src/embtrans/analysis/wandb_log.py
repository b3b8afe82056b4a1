"""The analysis as one W&B run in the sweep's group, beside the sweep's training runs."""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig


def log_to_wandb(analysis, cfg: DictConfig) -> str | None:
    """Tables as W&B tables, figures as images; returns the run's directory, or None when W&B is off."""
    if not cfg.wandb.enabled or os.environ.get("WANDB_MODE") == "disabled":
        return None
    import wandb

    group = analysis.sweep.sweep_dir.name  # what train.py's ${run_group:} names the sweep's runs
    run = wandb.init(project=cfg.wandb.project, group=group, job_type="analysis", name=f"analysis-{group}",
                     dir=str(cfg.wandb.dir), mode="offline" if cfg.wandb.offline else "online",
                     config={"sweep_dir": str(analysis.sweep.sweep_dir)}, reinit="finish_previous")
    try:
        for name, table in analysis.tables.items():
            run.log({f"tables/{name}": wandb.Table(dataframe=table.astype(object).where(table.notna(), None))})
        for path in analysis.figures:
            key = Path(path).relative_to(analysis.output_dir / "figures").with_suffix("").as_posix()
            run.log({f"figures/{key}": wandb.Image(str(path))})
        return str(Path(run.dir).parent)
    finally:
        run.finish()
