"""The orthogonal translator: a planted rotation recovered, orthogonal through training, whitening undone."""

import pytest
import torch
import torch.nn.functional as F

from embtrans.errors import UserError
from embtrans.training.objectives import Objective
from embtrans.translators.artefact import Translator, build_net
from embtrans.translators.closed_form import ProcrustesTranslator
from embtrans.translators.orthogonal import OrthogonalTranslator, matrix_power_symmetric, shrunk_covariance

DIMS = [(6, 11), (11, 6), (9, 9)]  # d_A < d_B, d_A > d_B, equal


def semi_orthogonal(g, d_b, d_a):
    if d_b >= d_a:
        return torch.linalg.qr(torch.randn(d_b, d_a, generator=g, dtype=torch.float64)).Q
    return torch.linalg.qr(torch.randn(d_a, d_b, generator=g, dtype=torch.float64)).Q.T


def planted(d_a, d_b, n=400, noise=0.0, seed=0):
    """B = b + 0.7 · W A with W semi-orthogonal; when d_B < d_A, A lives in W's row space so W loses nothing."""
    g = torch.Generator().manual_seed(seed)
    weight = semi_orthogonal(g, d_b, d_a)
    x = torch.randn(n, d_a, generator=g, dtype=torch.float64) * torch.linspace(0.5, 2, d_a, dtype=torch.float64)
    if d_b < d_a:
        x = x @ weight.T @ weight  # no component W throws away: the planted map is then exact
    offset = torch.randn(d_b, generator=g, dtype=torch.float64)
    y = offset + 0.7 * x @ weight.T + noise * torch.randn(n, d_b, generator=g, dtype=torch.float64)
    return x, y, weight


def deviation_from_orthonormal(weight):
    gram = weight.T @ weight if weight.shape[0] >= weight.shape[1] else weight @ weight.T
    return float((gram - torch.eye(len(gram), dtype=gram.dtype)).abs().max())


@pytest.mark.parametrize("d_a, d_b", DIMS)
def test_a_planted_rotation_and_scale_are_recovered(d_a, d_b):
    x, y, weight = planted(d_a, d_b)
    net = OrthogonalTranslator(d_a, d_b).double()
    fitted = net.start(x, y)
    assert fitted["scale"] == pytest.approx(0.7, rel=1e-9)
    assert torch.allclose(net.weight, weight, atol=1e-8)
    assert torch.allclose(net(x), y, atol=1e-8)


@pytest.mark.parametrize("d_a, d_b", DIMS)
def test_its_start_is_procrustes(d_a, d_b):
    x, y, _ = planted(d_a, d_b, noise=0.5, seed=1)
    net, procrustes = OrthogonalTranslator(d_a, d_b).double(), ProcrustesTranslator(d_a, d_b).double()
    net.start(x, y)
    procrustes.fit(x, y)
    assert torch.allclose(net(x), procrustes(x), atol=1e-8)


@pytest.mark.parametrize("d_a, d_b", DIMS)
def test_the_map_stays_orthogonal_through_training(d_a, d_b):
    x, y, _ = planted(d_a, d_b, noise=0.3, seed=2)
    x, y = x.float(), y.float()
    net = OrthogonalTranslator(d_a, d_b)
    net.start(x, y)
    start = net.weight.detach().clone()
    objective, optimizer = Objective("mse+infonce"), torch.optim.AdamW(net.parameters(), lr=1e-2)
    for step in range(200):
        rows = torch.randint(0, len(x), (64,), generator=torch.Generator().manual_seed(step))
        loss = objective(net(x[rows]), y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert (net.weight.detach() - start).abs().max() > 1e-2  # it did move
    assert deviation_from_orthonormal(net.weight.detach()) < 1e-5


def test_a_fixed_scale_does_not_train():
    x, y, _ = planted(9, 9, noise=0.3)
    net = OrthogonalTranslator(9, 9, scale="fixed").float()
    net.start(x.float(), y.float())
    assert "log_scale" not in dict(net.named_parameters())
    assert "log_scale" in net.state_dict()  # but is saved with the weights


@pytest.mark.parametrize("d", [5, 12])
def test_whitening_then_colouring_is_the_identity_on_b(d):
    g = torch.Generator().manual_seed(3)
    y = torch.randn(300, d, generator=g, dtype=torch.float64) @ torch.randn(d, d, generator=g, dtype=torch.float64)
    covariance = shrunk_covariance(y - y.mean(0), 0.1)
    whitened = (y - y.mean(0)) @ matrix_power_symmetric(covariance, -0.5)
    coloured = whitened @ matrix_power_symmetric(covariance, 0.5) + y.mean(0)
    assert torch.allclose(coloured, y, atol=1e-9)
    # and whitening with no shrinkage leaves the identity covariance
    exact = (y - y.mean(0)) @ matrix_power_symmetric(shrunk_covariance(y - y.mean(0), 0.0), -0.5)
    assert torch.allclose(exact.T @ exact / (len(y) - 1), torch.eye(d, dtype=torch.float64), atol=1e-9)


def test_a_whitened_map_translates_b_onto_itself():
    """From B to B (a planted identity), whitening, the rotation and colouring undo each other exactly."""
    g = torch.Generator().manual_seed(4)
    y = torch.randn(500, 7, generator=g, dtype=torch.float64) @ torch.randn(7, 7, generator=g, dtype=torch.float64)
    net = OrthogonalTranslator(7, 7, whiten=0.2).double()
    fitted = net.start(y, y)
    assert fitted["scale"] == pytest.approx(1.0, rel=1e-9)
    assert torch.allclose(net(y), y, atol=1e-8)


@pytest.mark.parametrize("whiten", [None, 0.3])
def test_it_saves_and_loads_as_a_translator(tmp_path, whiten):
    x, y, _ = planted(6, 11, noise=0.2)
    net = OrthogonalTranslator(6, 11, whiten=whiten).float()
    net.start(x.float(), y.float())
    config = {"_target_": "embtrans.translators.orthogonal.OrthogonalTranslator", "scale": "learned",
              "whiten": whiten, "init": "procrustes"}
    info = {"net": config, "model_a": {"name": "a", "dim": 6}, "model_b": {"name": "b", "dim": 11}}
    Translator(net, info).save(tmp_path)
    loaded = Translator.load(tmp_path)
    assert torch.allclose(loaded.translate(x.float()), net(x.float()), atol=1e-6)
    assert isinstance(build_net(config, 6, 11), OrthogonalTranslator)


def test_translations_keep_the_sources_angles():
    x, y, _ = planted(6, 11, noise=0.5)
    net = OrthogonalTranslator(6, 11).double()
    net.start(x, y)
    translated = net(x) - net.target_mean
    centred = x - net.source_mean
    assert torch.allclose(F.normalize(translated, dim=-1) @ F.normalize(translated, dim=-1).T,
                          F.normalize(centred, dim=-1) @ F.normalize(centred, dim=-1).T, atol=1e-9)


@pytest.mark.parametrize("settings, named", [({"scale": "free"}, "arch.net.scale"),
                                             ({"init": "lstsq"}, "arch.net.init"),
                                             ({"whiten": 2.0}, "arch.net.whiten")])
def test_bad_settings_are_named(settings, named):
    with pytest.raises(UserError, match=named):
        OrthogonalTranslator(4, 4, **settings)
