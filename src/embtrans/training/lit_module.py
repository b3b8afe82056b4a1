"""Trains any translator nn.Module with Lightning: the loss, the metrics per split, the optimiser."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torchmetrics import CosineSimilarity, MeanSquaredError, MetricCollection

from embtrans.errors import RunFailed, UserError
from embtrans.training.objectives import Objective
from embtrans.training.precision import SETTINGS
from embtrans.training.validation_search import ValidationSearch

PRECISIONS = tuple(setting for setting in SETTINGS if setting != "auto")  # what resolve_precision returns
LR_RULES = ("constant", "mup")


class TranslatorModule(pl.LightningModule):
    def __init__(
        self,
        net: nn.Module,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable | None = None,
        loss: str = "mse",
        objective: Mapping | None = None,
        monitor: str = "val/mse",
        precision: str = "32",
        lr_rule: str = "constant",
        validation_search: ValidationSearch | None = None,
    ) -> None:
        super().__init__()
        if lr_rule not in LR_RULES:
            raise UserError(f"unknown lr_rule {lr_rule!r}: choose one of {', '.join(LR_RULES)}")
        if precision not in PRECISIONS:
            raise UserError(f"unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)} (or auto)")
        # The optimiser and scheduler are partials: kept out of the checkpoint, which must load
        # with torch.load(weights_only=True); the run's config.yaml records them.
        self.save_hyperparameters(ignore=["net", "optimizer", "scheduler", "validation_search"])
        self.net = net
        self.objective = Objective(loss, **(objective or {}))  # loss terms and their settings
        self.make_optimizer, self.make_scheduler = optimizer, scheduler
        self.validation_search = validation_search  # scored after each validation pass: val/ndcg@k
        metrics = MetricCollection({"mse": MeanSquaredError(), "cosine": CosineSimilarity(reduction="mean")})
        # One metric instance per split, so their states never mix.
        # Training sums its own metrics (see training_step); validation and test use torchmetrics.
        self.metrics = nn.ModuleDict({f"{s}_metrics": metrics.clone(prefix=f"{s}/") for s in ("val", "test")})
        self._train_sums, self._train_rows = None, 0
        self.scheduler = None
        self._scheduler_state = None  # from a resume point, applied once the scheduler exists

    def forward(self, source: Tensor) -> Tensor:
        return self.net(source)

    def loss(self, predicted: Tensor, target: Tensor) -> Tensor:
        return self.objective(predicted, target)

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
        # bf16: the forward pass's matmuls in bfloat16 (autocast); the loss and everything after in float32.
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.hparams.precision == "bf16"):
            predicted = self(source)
        predicted = predicted.float()
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
        # The plateau scheduler steps here, on this epoch's validation score, before the epoch's
        # checkpoints are written (Lightning's own scheduler step would come after them, and is skipped
        # for the resumed epoch), so a resume point holds the scheduler exactly as it stands.
        if isinstance(self.scheduler, ReduceLROnPlateau) and not self.trainer.sanity_checking:
            score = self.trainer.callback_metrics.get(self.hparams.monitor)
            if score is not None:
                self.scheduler.step(float(score))

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        if self.scheduler is not None and not isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step()  # warm-up and cosine schedules move every optimizer step

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        if self.validation_search is not None:
            search = self.validation_search
            self.log(f"val/ndcg@{search.k}", search.ndcg(self.net, self.device))

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # Dropout draws from torch's global generator: a resumed run must go on with the same draws.
        checkpoint["torch_rng_state"] = torch.get_rng_state()
        if self.scheduler is not None:
            checkpoint["translator_scheduler"] = self.scheduler.state_dict()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if "torch_rng_state" in checkpoint:
            torch.set_rng_state(checkpoint["torch_rng_state"])
        # Lightning restores the module before it calls configure_optimizers: keep it until then.
        self._scheduler_state = checkpoint.get("translator_scheduler")

    def configure_optimizers(self):
        """The optimizer for Lightning; the scheduler stays with the module, which steps it itself (see
        on_train_epoch_end) and keeps its state in the checkpoint."""
        optimizer = self.make_optimizer(params=parameter_groups(self.net, self.hparams.lr_rule,
                                                                self.make_optimizer.keywords.get("lr")))
        if self.make_scheduler is not None:
            self.scheduler = make_scheduler(self.make_scheduler, optimizer, self.trainer)
            if self._scheduler_state is not None:
                self.scheduler.load_state_dict(self._scheduler_state)
                self._scheduler_state = None
        return optimizer


def parameter_groups(net: nn.Module, rule: str, lr: float | None) -> list[dict] | object:
    """The optimizer's parameters. ``mup``: as in μP for Adam (Yang et al. 2022, "Tensor Programs V"),
    a weight matrix whose fan-in is the hidden width learns at lr × (full rank / hidden) = lr / width,
    so the update each unit receives stays the same size as the MLP widens and one lr serves every
    width; input weights and every bias keep lr. ``constant``: one lr for all."""
    hidden = getattr(net, "hidden", None)
    if rule == "constant" or hidden is None or lr is None:
        return net.parameters()
    width = getattr(net, "width", None) or 1
    scaled, plain = [], []
    for module in net.modules():
        if isinstance(module, nn.Linear):
            (scaled if module.in_features == hidden else plain).append(module.weight)
            if module.bias is not None:
                plain.append(module.bias)
    grouped = {id(p) for p in scaled + plain}
    others = [p for p in net.parameters() if id(p) not in grouped]
    return [{"params": plain + others, "lr": lr}, {"params": scaled, "lr": lr / width}]


def make_scheduler(factory: Callable, optimizer: torch.optim.Optimizer, trainer) -> object:
    """The configured scheduler; one that asks for the training length (warm-up and cosine) is told
    the optimizer steps per epoch."""
    if "steps_per_epoch" in inspect.signature(factory).parameters:
        epochs = max(1, trainer.max_epochs or 1)
        steps = trainer.estimated_stepping_batches
        return factory(optimizer=optimizer, steps_per_epoch=max(1, round(steps / epochs)))
    return factory(optimizer=optimizer)
