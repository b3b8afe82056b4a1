"""What a killed training run needs to go on where it stopped, instead of from epoch 0."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Checkpoint

from embtrans.training.best_checkpoint import BestCheckpoint

log = logging.getLogger(__name__)

RESUME_FILE = "last.ckpt"


def resume_path(output_dir: Path) -> Path:
    """Where a run's resume point lies (callbacks.resume_checkpoint.dirpath is <output_dir>/checkpoints)."""
    return Path(output_dir) / "checkpoints" / RESUME_FILE


class ResumeCheckpoint(Checkpoint):
    """Writes ``<dirpath>/last.ckpt`` with everything Lightning restores (weights, optimizer and
    scheduler state, early stopping, the best checkpoint's record, the time budget spent, the epoch).

    It is written at the end of each training epoch, after the epoch's validation, scheduler step,
    early-stopping check and best checkpoint (Lightning calls checkpoint callbacks last, this one
    after the best-model one). A run resumed from it starts the next epoch, whose shuffle depends
    only on (seed, epoch), so it ends with the same numbers as an uninterrupted run.
    ``every_seconds`` spaces the writes out for large models (an mlp2 at width 32 with its AdamW
    state is ~2 GB). train() deletes the file once the run is done.
    """

    def __init__(self, dirpath: str | Path, every_seconds: float = 0.0) -> None:
        self.path = Path(dirpath) / RESUME_FILE
        self.every_seconds = float(every_seconds)
        self._written_at: float | None = None

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.fast_dev_run or trainer.sanity_checking or trainer.should_stop:
            return  # a run about to end needs no resume point
        now = time.monotonic()
        if self._written_at is not None and now - self._written_at < self.every_seconds:
            return
        # The best weights held in memory first: the resume point records best.ckpt as holding them.
        for callback in trainer.checkpoint_callbacks:
            if isinstance(callback, BestCheckpoint):
                callback.write_pending(trainer)
        # Beside the file, then renamed over it: a kill while writing leaves the previous one intact.
        partial = self.path.with_name(f".{self.path.name}.partial")
        trainer.save_checkpoint(partial, weights_only=False)
        os.replace(partial, self.path)
        self._written_at = now
        log.debug("resume point written after epoch %d: %s", trainer.current_epoch, self.path)
