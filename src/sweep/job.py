"""One job of a sweep around train(): reuse a finished twin, record a failure, always close W&B."""

from __future__ import annotations

import json
import logging
import math
import sys
import traceback
from pathlib import Path

from omegaconf import DictConfig

from src.cli import in_multirun
from src.errors import UserError
from src.sweep.run_index import RunIndex, run_fingerprint
from src.training import train

log = logging.getLogger(__name__)


def write_json(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2))


def run_job(cfg: DictConfig) -> float:
    """Train unless this exact run is already done; return test MSE (NaN for a skipped or failed job).

    In a sweep a failure is written to ``failed.json`` and the other jobs go on; the sweep's
    summary lists it. Outside a sweep it is raised.
    """
    output_dir = Path(cfg.paths.output_dir)
    try:
        if not isinstance(cfg.width, int) or isinstance(cfg.width, bool) or cfg.width < 1:
            raise UserError(f"width must be a positive whole multiple of the full rank (1, 8, 32, ...), not {cfg.width!r}")
        if cfg.model_a.name == cfg.model_b.name and cfg.get("skip_same_model"):
            reason = f"model_a and model_b are both {cfg.model_a.name!r}"
            write_json(output_dir / "skipped.json", {"reason": reason})
            log.info("skipping: %s", reason)
            return math.nan
        fingerprint = run_fingerprint(cfg)
        index = RunIndex(Path(cfg.paths.log_dir) / "train" / "index")
        with index.claim(fingerprint):
            earlier = index.finished_run(fingerprint) if cfg.get("resume", True) else None
            if earlier is not None and earlier.resolve() != output_dir.resolve():
                return reuse(earlier, output_dir, cfg)
            metrics = train(cfg, fingerprint=fingerprint)
            index.record(fingerprint, output_dir)
        return metrics["test/mse"]
    except Exception as error:
        write_json(output_dir / "failed.json", {
            "error": type(error).__name__,
            "message": str(error),
            "traceback": None if isinstance(error, UserError) else traceback.format_exc(),
        })
        if not in_multirun():
            raise
        log.error("job failed: %s: %s (details in %s)", type(error).__name__, error, output_dir / "failed.json")
        return math.nan
    finally:
        finish_wandb()


def reuse(earlier: Path, output_dir: Path, cfg: DictConfig) -> float:
    metrics = json.loads((earlier / "metrics.json").read_text())
    why = "the same run is already done"
    if not cfg.arch.get("uses_width", True):
        why += f" ({cfg.arch.name} does not depend on width, so every width is the same run)"
    metrics["reused_from"] = str(earlier)
    write_json(output_dir / "metrics.json", metrics)
    log.info("not training %s: %s; its results are in %s", cfg.arch.name, why, earlier)
    return metrics["test/mse"]


def finish_wandb() -> None:
    """Close this job's W&B run: joblib reuses worker processes, and an open run would swallow the next job's."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None:
        wandb.finish()
