"""Closed-form translators on seeded synthetic data: planted maps, ridge choice, Procrustes geometry."""

import json

import pytest
import torch
from omegaconf import OmegaConf

from embtrans.errors import UserError
from embtrans.metrics.regression import mean_vector_scores, regression_scores
from embtrans.paths import ROOT
from embtrans.translators.baselines import baseline_scores, closed_form_maps
from embtrans.translators.closed_form import LeastSquaresTranslator, ProcrustesTranslator
from embtrans.translators.linear import LinearTranslator

# The one source of the closed-form maps' settings: the arch files that arch=lstsq / procrustes train.
CLOSED_FORM = {name: OmegaConf.load(ROOT / "conf" / "arch" / f"{name}.yaml") for name in ("lstsq", "procrustes")}
ALPHAS = tuple(CLOSED_FORM["lstsq"].net.alphas)

F64 = torch.float64
DIMS = [(6, 11), (11, 6), (9, 9)]  # d_A < d_B, d_A > d_B, equal


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=F64)


def semi_orthogonal(g, d_b, d_a):
    """(d_B, d_A) with orthonormal columns (d_B >= d_A) or rows (d_B < d_A)."""
    if d_b >= d_a:
        return torch.linalg.qr(randn(g, d_b, d_a)).Q
    return torch.linalg.qr(randn(g, d_a, d_b)).Q.T


def lstsq(d_a, d_b, alphas=ALPHAS):
    return LeastSquaresTranslator(d_a, d_b, alphas).double()


def baselines(x_train, y_train, x_val, y_val, x_test, y_test, configs=CLOSED_FORM):
    maps = closed_form_maps(configs, x_train.shape[1], y_train.shape[1])
    return baseline_scores(x_train, y_train, x_val, y_val, x_test, y_test, maps)


def procrustes(d_a, d_b):
    return ProcrustesTranslator(d_a, d_b).double()


def mse(model, x, y):
    with torch.no_grad():
        return regression_scores(model(x), y)["mse"]


@pytest.mark.parametrize("d_a, d_b", DIMS)
def test_lstsq_recovers_a_planted_affine_map(d_a, d_b):
    g = torch.Generator().manual_seed(0)
    weight, bias, noise = randn(g, d_b, d_a), randn(g, d_b), 1e-3
    x_train, x_val, x_test = (randn(g, n, d_a) * 2 + 1 for n in (2000, 500, 2000))
    y_train, y_val, y_test = (x @ weight.T + bias + noise * randn(g, len(x), d_b) for x in (x_train, x_val, x_test))
    model = lstsq(d_a, d_b)
    model.fit(x_train, y_train, x_val, y_val)
    torch.testing.assert_close(model.map.weight, weight, atol=2e-4, rtol=0)
    torch.testing.assert_close(model.map.bias, bias, atol=2e-4, rtol=0)
    assert mse(model, x_test, y_test) == pytest.approx(noise**2, rel=0.1)


def test_lstsq_without_noise_chooses_no_ridge_and_is_exact():
    g = torch.Generator().manual_seed(1)
    weight, bias = randn(g, 7, 12), randn(g, 7)
    x_train, x_val = randn(g, 1000, 12), randn(g, 200, 12)
    model = lstsq(12, 7)
    info = model.fit(x_train, y_train := x_train @ weight.T + bias, x_val, x_val @ weight.T + bias)
    assert info["alpha"] == 0.0 == float(model.alpha)
    assert list(info["val_mse"]) == [str(a) for a in ALPHAS]
    assert info["val_mse"]["0.0"] < 1e-24 < info["val_mse"]["0.0001"]
    json.dumps(info)  # goes into metrics.json
    torch.testing.assert_close(model.map.weight, weight, atol=1e-10, rtol=0)
    torch.testing.assert_close(model.map.bias, bias, atol=1e-10, rtol=0)
    assert mse(model, x_train, y_train) < 1e-24


def collinear_few_samples(seed, d_a=40, d_b=8, rank=3):
    """Sources near a 3-d subspace of a 40-d space, 30 training rows, noisy targets."""
    g = torch.Generator().manual_seed(seed)
    mixing, weight = randn(g, rank, d_a), randn(g, d_b, d_a) / d_a**0.5

    def pairs(n):
        x = randn(g, n, rank) @ mixing + 0.05 * randn(g, n, d_a)
        return x, x @ weight.T + 0.5 * randn(g, n, d_b)

    return pairs(30), pairs(300), pairs(2000)


@pytest.mark.parametrize("seed", [0, 1])
def test_ridge_is_chosen_and_helps_on_collinear_few_samples(seed):
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = collinear_few_samples(seed)
    ridge, plain = lstsq(40, 8), lstsq(40, 8, alphas=(0.0,))
    info = ridge.fit(x_train, y_train, x_val, y_val)
    plain.fit(x_train, y_train, x_val, y_val)
    assert info["alpha"] > 0
    assert info["val_mse"][str(info["alpha"])] == min(info["val_mse"].values())
    assert mse(ridge, x_test, y_test) < 0.5 * mse(plain, x_test, y_test)


def test_alpha_zero_is_the_minimum_norm_solution_when_singular():
    g = torch.Generator().manual_seed(2)
    for x in (randn(g, 20, 50), randn(g, 500, 30)):  # fewer rows than dims; duplicated columns
        if len(x) > x.shape[1]:
            x[:, 10:20] = 2 * x[:, :10]
        y = randn(g, len(x), 5)
        model = lstsq(x.shape[1], 5, alphas=(0.0,))
        model.fit(x, y, x[:5], y[:5])
        xc, yc = x - x.mean(0), y - y.mean(0)
        torch.testing.assert_close(model.map.weight, (torch.linalg.pinv(xc) @ yc).T, atol=1e-10, rtol=0)


def test_ridge_ties_go_to_the_larger_alpha():
    g = torch.Generator().manual_seed(3)
    x, y = randn(g, 50, 4), randn(g, 50, 3)
    model = lstsq(4, 3, alphas=(0.0, 1.0, 5.0))
    # Validation sources at the training mean are mapped to the target mean by every alpha: a tie.
    info = model.fit(x, y, x.mean(0, keepdim=True).expand(3, 4), y.mean(0, keepdim=True).expand(3, 3))
    assert len(set(info["val_mse"].values())) == 1
    assert info["alpha"] == 5.0


@pytest.mark.parametrize("d_a, d_b", DIMS)
def test_procrustes_recovers_a_planted_rotation_translation_and_scale(d_a, d_b):
    g = torch.Generator().manual_seed(4)
    rotation, bias, scale = semi_orthogonal(g, d_b, d_a), randn(g, d_b), 2.5
    x = randn(g, 300, d_a) @ randn(g, d_a, d_a) + 3  # anisotropic, off-centre
    if d_b < d_a:
        # Dropping dimensions tilts the optimal rotation towards x's high-variance directions, so
        # exact recovery needs isotropic (whitened) sources: centred, orthogonal, equal-norm columns.
        x = torch.linalg.qr(x - x.mean(0)).Q * 10 + 3
    model = procrustes(d_a, d_b)
    info = model.fit(x, scale * x @ rotation.T + bias)
    assert info["scale"] == pytest.approx(scale, rel=1e-10) and float(model.scale) == pytest.approx(scale)
    torch.testing.assert_close(model.map.weight / info["scale"], rotation, atol=1e-10, rtol=0)
    torch.testing.assert_close(model.map.bias, bias, atol=1e-10, rtol=0)
    json.dumps(info)


@pytest.mark.parametrize("d_a, d_b", DIMS)
def test_procrustes_map_is_semi_orthogonal_and_its_scale_least_squares_optimal(d_a, d_b):
    g = torch.Generator().manual_seed(5)
    x = randn(g, 200, d_a) @ randn(g, d_a, d_a)
    y = x @ randn(g, d_b, d_a).T + randn(g, 200, d_b)  # not a rotation: W is a compromise
    model = procrustes(d_a, d_b)
    s = model.fit(x, y)["scale"]
    w = model.map.weight / s
    small = w.T @ w if d_b >= d_a else w @ w.T
    torch.testing.assert_close(small, torch.eye(min(d_a, d_b), dtype=F64), atol=1e-10, rtol=0)
    best = mse(model, x, y)
    for factor in (0.99, 1.01):  # any other scale for this W (bias refitted) does worse on train
        model.map.weight.data = factor * s * w
        model.map.bias.data = y.mean(0) - model.map.weight @ x.mean(0)
        assert mse(model, x, y) > best
    unscaled = procrustes(d_a, d_b)
    assert unscaled.fit(x, y, scale=False)["scale"] == 1.0
    torch.testing.assert_close(unscaled.map.weight, w, atol=1e-10, rtol=0)


@pytest.mark.parametrize("d_a, d_b", DIMS)
def test_predictions_do_not_change_when_the_source_space_is_rotated_scaled_and_shifted(d_a, d_b):
    """Both fits see only the geometry of X: rotating it, scaling it by 1000 and shifting it gives
    the same predictions (the ridge penalty is scaled by trace(XᵀX), so the same α is chosen)."""
    g = torch.Generator().manual_seed(6)
    x_train, x_val, x_test = (randn(g, n, d_a) @ randn(g, d_a, d_a) for n in (15, 100, 100))
    weight = randn(g, d_b, d_a)
    y_train, y_val, y_test = (x @ weight.T + 2 * randn(g, len(x), d_b) for x in (x_train, x_val, x_test))
    rotation, shift = semi_orthogonal(g, d_a, d_a), randn(g, d_a)

    def move(x):
        return 1000 * x @ rotation + shift

    for make in (lstsq, procrustes):
        plain, moved = make(d_a, d_b), make(d_a, d_b)
        plain_info = plain.fit(x_train, y_train, x_val, y_val)
        moved_info = moved.fit(move(x_train), y_train, move(x_val), y_val)
        if make is lstsq:
            assert plain_info["alpha"] == moved_info["alpha"] > 0
        with torch.no_grad():
            torch.testing.assert_close(moved(move(x_test)), plain(x_test), atol=1e-8, rtol=1e-8)


def test_lstsq_beats_procrustes_on_a_non_orthogonal_map():
    g = torch.Generator().manual_seed(7)
    weight = randn(g, 10, 10) * torch.linspace(0.1, 3, 10)  # far from a scaled rotation
    x_train, x_val, x_test = (randn(g, n, 10) for n in (500, 200, 500))
    y_train, y_val, y_test = (x @ weight.T + 0.1 * randn(g, len(x), 10) for x in (x_train, x_val, x_test))
    ls, rot = lstsq(10, 10, alphas=(0.0,)), procrustes(10, 10)
    ls.fit(x_train, y_train, x_val, y_val)
    rot.fit(x_train, y_train)
    assert mse(ls, x_train, y_train) < mse(rot, x_train, y_train)  # optimal among affine maps on train
    assert mse(ls, x_test, y_test) < 0.1 * mse(rot, x_test, y_test)


def test_fitted_map_loads_into_the_linear_translator():
    g = torch.Generator().manual_seed(8)
    x, y = randn(g, 50, 6).float(), randn(g, 50, 4).float()
    for model in (LeastSquaresTranslator(6, 4, ALPHAS), ProcrustesTranslator(6, 4)):
        model.fit(x, y, x, y)
        assert model.map.weight.dtype == torch.float32
        linear = LinearTranslator(6, 4)
        linear.load_state_dict({k: v for k, v in model.state_dict().items() if k.startswith("map.")})
        torch.testing.assert_close(linear(x), model(x))


def test_baseline_scores_with_different_dims():
    g = torch.Generator().manual_seed(9)
    weight = randn(g, 12, 8)
    x_train, x_val, x_test = (randn(g, n, 8).float() for n in (400, 100, 100))
    y_train, y_val, y_test = (x @ weight.T.float() + 1 for x in (x_train, x_val, x_test))
    scores = baselines(x_train, y_train, x_val, y_val, x_test, y_test)
    assert list(scores) == ["mean_vector", "identity", "lstsq", "procrustes"]
    assert "skipped" in scores["identity"] and "d_A != d_B" in scores["identity"]["skipped"]
    floor = mean_vector_scores(y_train, y_test)
    assert scores["mean_vector"] == {"test/mse": floor["mse"], "test/cosine": floor["cosine"]}
    assert set(scores["lstsq"]) == {"test/mse", "test/cosine", "alpha"}
    assert set(scores["procrustes"]) == {"test/mse", "test/cosine", "scale"}
    assert scores["lstsq"]["test/mse"] < 1e-8 < scores["procrustes"]["test/mse"] < floor["mse"]
    json.dumps(scores)


def test_identity_is_perfect_when_the_spaces_are_the_same():
    g = torch.Generator().manual_seed(10)
    x_train, x_val, x_test = (randn(g, n, 8).float() for n in (400, 100, 100))
    scores = baselines(x_train, x_train, x_val, x_val, x_test, x_test)
    assert scores["identity"] == {"test/mse": 0.0, "test/cosine": pytest.approx(1.0)}
    for name in ("lstsq", "procrustes"):
        assert scores[name]["test/mse"] < 1e-10 and scores[name]["test/cosine"] == pytest.approx(1.0)
    assert scores["procrustes"]["scale"] == pytest.approx(1.0)
    assert scores["mean_vector"]["test/mse"] > 0.5


@pytest.mark.parametrize("make", [lambda d_a, d_b: LeastSquaresTranslator(d_a, d_b, ALPHAS), ProcrustesTranslator])
@pytest.mark.parametrize("shapes, message", [
    (((10, 6), (9, 4), (5, 6), (5, 4)), "10 source rows but 9 target rows"),
    (((10, 5), (10, 4), (5, 6), (5, 4)), "dims are 5 -> 4"),
    (((10, 6), (10, 3), (5, 6), (5, 4)), "dims are 6 -> 3"),
    (((10, 6), (10, 4), (5, 6), (4, 4)), "val: 5 source rows but 4"),
    (((10, 6), (10, 4), (5, 7), (5, 4)), "val: dims are 7 -> 4"),
    (((60,), (10, 4), (5, 6), (5, 4)), "2-D"),
])
def test_mismatched_shapes_raise_user_error(make, shapes, message):
    tensors = [torch.zeros(*shape) for shape in shapes]
    with pytest.raises(UserError, match=message):
        make(6, 4).fit(*tensors)


def test_baseline_scores_and_alphas_raise_user_error():
    x, y = torch.randn(10, 6), torch.randn(10, 4)
    with pytest.raises(UserError, match="test: 10 source rows but 9"):
        baselines(x, y, x, y, x, y[:9])
    with pytest.raises(UserError, match="alphas"):
        LeastSquaresTranslator(6, 4, alphas=(0.0, -1.0))


def test_the_baselines_use_the_grid_of_the_arch_config():
    g = torch.Generator().manual_seed(11)
    x_train, x_val, x_test = (randn(g, n, 8).float() for n in (60, 30, 30))
    y_train, y_val, y_test = (x @ randn(g, 8, 5).float() + randn(g, len(x), 5).float() for x in (x_train, x_val, x_test))
    edited = {**CLOSED_FORM, "lstsq": OmegaConf.merge(CLOSED_FORM["lstsq"], {"net": {"alphas": [7.5]}})}
    assert baselines(x_train, y_train, x_val, y_val, x_test, y_test, edited)["lstsq"]["alpha"] == 7.5
    assert baselines(x_train, y_train, x_val, y_val, x_test, y_test)["lstsq"]["alpha"] in ALPHAS
