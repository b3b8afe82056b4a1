"""Starting a translator from a closed-form map (arch.net.init), and the new objectives end to end."""

import pytest
import torch

from embtrans.errors import UserError
from embtrans.training.run import train
from embtrans.translators.closed_form import LeastSquaresTranslator, ProcrustesTranslator
from embtrans.translators.initialise import start_from_closed_form
from embtrans.translators.linear import LinearTranslator
from embtrans.translators.mlp import MLPTranslator
from tests.training.test_objectives import planted

CLOSED_FORM = {"lstsq": {"net": {"_target_": "embtrans.translators.closed_form.LeastSquaresTranslator",
                                 "alphas": [0.0, 0.01, 1.0]}},
               "procrustes": {"net": {"_target_": "embtrans.translators.closed_form.ProcrustesTranslator"}}}


class Split:
    def __init__(self, source, target):
        self.source, self.target = source, target


def splits():
    x, _, y = planted(n=300, d=6)
    y = y + 0.05 * torch.randn(y.shape, generator=torch.Generator().manual_seed(2))  # not exactly a rotation
    return Split(x[:200], y[:200]), Split(x[200:], y[200:])


@pytest.mark.parametrize("init, reference", [("lstsq", LeastSquaresTranslator), ("procrustes", ProcrustesTranslator)])
def test_a_linear_map_starts_as_the_closed_form(init, reference):
    from omegaconf import OmegaConf

    train_split, val_split = splits()
    net = LinearTranslator(6, 6, init=init)
    chosen = start_from_closed_form(net, OmegaConf.create(CLOSED_FORM), train_split, val_split)
    closed = reference(6, 6, **({"alphas": [0.0, 0.01, 1.0]} if init == "lstsq" else {}))
    closed.fit(train_split.source, train_split.target, val_split.source, val_split.target)
    with torch.no_grad():
        assert torch.allclose(net(val_split.source), closed(val_split.source), atol=1e-6)
    assert chosen["init"] == init


def test_a_residual_mlp_starts_exactly_at_the_closed_form_and_can_still_learn():
    from omegaconf import OmegaConf

    train_split, val_split = splits()
    net = MLPTranslator(6, 6, hidden_layers=2, width=2, residual=True, init="procrustes")
    start_from_closed_form(net, OmegaConf.create(CLOSED_FORM), train_split, val_split)
    closed = ProcrustesTranslator(6, 6)
    closed.fit(train_split.source, train_split.target)
    with torch.no_grad():
        assert torch.allclose(net(val_split.source), closed(val_split.source), atol=1e-6)
    loss = torch.nn.functional.mse_loss(net(train_split.source), train_split.target)
    loss.backward()
    assert net.layers[-1].weight.grad.abs().sum() > 0  # the zeroed branch gets gradients


def test_an_init_the_net_cannot_take_is_one_clear_error():
    from omegaconf import OmegaConf

    train_split, val_split = splits()
    with pytest.raises(UserError, match="residual=true"):
        start_from_closed_form(MLPTranslator(6, 6, hidden_layers=1, width=1, init="lstsq"),
                               OmegaConf.create(CLOSED_FORM), train_split, val_split)
    with pytest.raises(UserError, match="arch.net.init=pca is not one of"):
        LinearTranslator(6, 6, init="pca")


@pytest.mark.slow
def test_a_run_with_an_init_and_a_new_objective_trains_and_records_them(compose_train, tmp_path):
    # MiniLM -> use on 2,000 texts (as test_training's TINY): a least-squares start, mse + InfoNCE, and
    # steps small enough to stay near the start (at the default lr 1e-3 and 0.1 x InfoNCE, training
    # leaves it: test MSE 21 % above least squares after 3 epochs)
    metrics = train(compose_train("model_a=minilm", "model_b=use", "dataset.limit=2000", "trainer.max_epochs=3",
                                  "arch.net.init=lstsq", "loss=mse+infonce", "objective.weights.infonce=0.01",
                                  "optimizer.lr=1e-6"))
    run = metrics["run"]
    assert run["init"]["init"] == "lstsq" and run["init"]["alpha"] >= 0 and run["loss"] == "mse+infonce"
    assert metrics["test/mse"] == pytest.approx(metrics["baselines"]["lstsq"]["test/mse"], rel=0.02)
