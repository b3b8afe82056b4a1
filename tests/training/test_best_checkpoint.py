"""best.ckpt is written once, holding the best epoch's weights; a resume point finds it on disk."""

import pytorch_lightning as pl
import torch
from torch import nn

from embtrans.training.best_checkpoint import BestCheckpoint
from embtrans.training.resume import ResumeCheckpoint

# The validation score each epoch reports: best at epoch 2, then worse, so the best is not the last.
SCORES = [3.0, 2.0, 1.0, 2.5, 4.0]


class Scripted(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3, 2)

    def training_step(self, batch, batch_idx):
        return (self.layer(batch[0]) - batch[1]).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        self.log("val/mse", SCORES[self.current_epoch])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Spy(pl.Callback):
    """At each epoch's end: the live weights, and whether best.ckpt was on disk (and what it held)."""

    def __init__(self, best):
        self.best, self.weights, self.on_disk = best, [], []

    def on_train_epoch_end(self, trainer, pl_module):
        self.weights.append(pl_module.layer.weight.detach().clone())
        self.on_disk.append(torch.load(self.best, weights_only=True)["state_dict"]["layer.weight"]
                            if self.best.exists() else None)


def fit(tmp_path, *extra):
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(32, 3), torch.randn(32, 2))
    loader = torch.utils.data.DataLoader(data, batch_size=8)
    best = tmp_path / "best.ckpt"
    spy = Spy(best)
    checkpoint = BestCheckpoint(dirpath=tmp_path, filename="best", monitor="val/mse", mode="min",
                                save_weights_only=True, enable_version_counter=False)
    # The spy before the checkpoint callbacks, which Lightning calls last: it sees the file as the epoch left it.
    trainer = pl.Trainer(max_epochs=len(SCORES), callbacks=[spy, checkpoint, *extra], logger=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Scripted(), loader, loader)
    return trainer, spy, best


def test_the_best_epoch_is_written_once_when_training_ends(tmp_path):
    trainer, spy, best = fit(tmp_path)
    # the spy runs before the checkpoint callbacks of the same epoch: never on disk while training
    assert spy.on_disk == [None] * len(SCORES)
    kept = torch.load(best, weights_only=True)
    assert torch.equal(kept["state_dict"]["layer.weight"], spy.weights[2])
    assert not torch.equal(spy.weights[2], spy.weights[-1])  # so the test tells the best from the last
    assert trainer.checkpoint_callback.best_model_path == str(best)
    assert float(trainer.checkpoint_callback.best_model_score) == 1.0


def test_a_resume_point_writes_the_best_so_far_first(tmp_path):
    _, spy, best = fit(tmp_path, ResumeCheckpoint(tmp_path, every_seconds=0))
    # What the spy saw at the start of epoch e's end is what the previous epoch's resume point wrote.
    for epoch in range(1, len(SCORES)):
        best_before = min(range(epoch), key=SCORES.__getitem__)
        assert torch.equal(spy.on_disk[epoch], spy.weights[best_before])
    resume = torch.load(tmp_path / "last.ckpt", weights_only=False)
    recorded = next(state for key, state in resume["callbacks"].items() if key.startswith("BestCheckpoint"))
    assert recorded["best_model_path"] == str(best)
    assert torch.equal(torch.load(best, weights_only=True)["state_dict"]["layer.weight"], spy.weights[2])
