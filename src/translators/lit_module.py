"""Trains any translator nn.Module with Lightning: the loss, the metrics per split, the optimiser."""

from __future__ import annotations

from collections.abc import Callable

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import CosineSimilarity, MeanSquaredError, MetricCollection

from src.errors import RunFailed, UserError

LOSSES = ("mse", "cosine", "mse+cosine")


class TranslatorModule(pl.LightningModule):
    def __init__(
        self,
        net: nn.Module,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable | None = None,
        loss: str = "mse",
        monitor: str = "val/mse",
    ) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise UserError(f"unknown loss {loss!r}: choose one of {', '.join(LOSSES)}")
        # The optimiser and scheduler are partials: kept out of the checkpoint, which must load
        # with torch.load(weights_only=True); the run's config.yaml records them.
        self.save_hyperparameters(ignore=["net", "optimizer", "scheduler"])
        self.net = net
        self.make_optimizer, self.make_scheduler = optimizer, scheduler
        metrics = MetricCollection({"mse": MeanSquaredError(), "cosine": CosineSimilarity(reduction="mean")})
        # One metric instance per split, so their states never mix.
        # Training sums its own metrics (see training_step); validation and test use torchmetrics.
        self.metrics = nn.ModuleDict({f"{s}_metrics": metrics.clone(prefix=f"{s}/") for s in ("val", "test")})
        self._train_sums, self._train_rows = None, 0

    def forward(self, source: Tensor) -> Tensor:
        return self.net(source)

    def loss(self, predicted: Tensor, target: Tensor) -> Tensor:
        name = self.hparams.loss
        total = predicted.new_zeros(())
        if "mse" in name:
            total = total + F.mse_loss(predicted, target)
        if "cosine" in name:
            total = total + (1 - F.cosine_similarity(predicted, target, dim=-1)).mean()
        return total

    def _step(self, batch, split: str) -> Tensor:
        source, target = batch
        predicted = self(source)
        loss = self.loss(predicted, target)
        metrics = self.metrics[f"{split}_metrics"]
        metrics.update(predicted, target)
        self.log(f"{split}/loss", loss, on_step=False, on_epoch=True, batch_size=len(source))
        self.log_dict(metrics, on_step=False, on_epoch=True, batch_size=len(source))
        return loss

    def on_train_epoch_start(self) -> None:
        self._train_sums, self._train_rows = None, 0

    def training_step(self, batch, batch_idx):
        # Each self.log and torchmetrics update costs ~0.4 ms on CPU, more than a linear map's step:
        # add up detached, batch-weighted sums and log once per epoch (same numbers, 1.6x faster).
        source, target = batch
        predicted = self(source)
        loss = self.loss(predicted, target)
        with torch.no_grad():
            sums = torch.stack([loss, F.mse_loss(predicted, target),
                                F.cosine_similarity(predicted, target, dim=-1).mean()]) * len(source)
        self._train_sums = sums if self._train_sums is None else self._train_sums + sums
        self._train_rows += len(source)
        return loss

    def on_train_epoch_end(self) -> None:
        if self._train_rows:
            loss, mse, cosine = (self._train_sums / self._train_rows).unbind()
            # One check per epoch (a per-step check would sync a GPU every step): the sums stay
            # non-finite once any step's loss was, and the weights are ruined from then on.
            if not torch.isfinite(loss):
                raise RunFailed(f"training diverged in epoch {self.current_epoch + 1}: the training loss became "
                                f"{loss.item()}; lower optimizer.lr")
            self.log_dict({"train/loss": loss, "train/mse": mse, "train/cosine": cosine})

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def configure_optimizers(self):
        optimizer = self.make_optimizer(params=self.parameters())
        if self.make_scheduler is None:
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": self.make_scheduler(optimizer=optimizer), "monitor": self.hparams.monitor},
        }
