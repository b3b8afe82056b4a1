"""CCA and local Procrustes on seeded synthetic data: reductions to lstsq / Procrustes, planted
low-rank and piecewise maps, state round trips and the arch configs."""

import json

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from embtrans.errors import UserError
from embtrans.metrics.regression import regression_scores
from embtrans.paths import ROOT
from embtrans.translators.baselines import baseline_scores, closed_form_maps
from embtrans.translators.closed_form import LeastSquaresTranslator, ProcrustesTranslator
from embtrans.translators.references import CCATranslator, LocalProcrustesTranslator
from tests.translators.test_closed_form import randn
from tests.translators.test_closed_form import semi_orthogonal as rotation

F64 = torch.float64
DIMS = [(6, 11), (11, 6), (9, 9)]  # d_A < d_B, d_A > d_B, equal
CONFIGS = {name: OmegaConf.load(ROOT / "conf" / "arch" / f"{name}.yaml") for name in ("cca", "local_procrustes")}




def mse(model, x, y):
    with torch.no_grad():
        return regression_scores(model(x), y)["mse"]


def cca(d_a, d_b, rank_fractions=(1.0,), ridges=(0.0,)):
    return CCATranslator(d_a, d_b, rank_fractions, ridges).double()


def local(d_a, d_b, n_clusters=(1, 2, 4), temperatures=(0.0, 0.1, 1.0), **kwargs):
    return LocalProcrustesTranslator(d_a, d_b, n_clusters, temperatures, **kwargs).double()


# --- CCA ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ridge", [0.0, 0.01, 1.0])
@pytest.mark.parametrize("d_a, d_b", DIMS)
def test_cca_at_full_rank_is_ridge_least_squares(d_a, d_b, ridge):
    """All components: W = Cxx_r⁻¹ Cxy, lstsq with α = ridge (α = 0: ordinary least squares)."""
    g = torch.Generator().manual_seed(0)
    x_train, x_val, x_test = (randn(g, n, d_a) @ randn(g, d_a, d_a) + 2 for n in (300, 100, 100))
    y_train, y_val = (x @ randn(g, d_a, d_b) + randn(g, len(x), d_b) for x in (x_train, x_val))
    reference, model = LeastSquaresTranslator(d_a, d_b, (ridge,)).double(), cca(d_a, d_b, ridges=(ridge,))
    reference.fit(x_train, y_train, x_val, y_val)
    info = model.fit(x_train, y_train, x_val, y_val)
    assert info["rank"] == min(d_a, d_b) == int(model.rank) and info["ridge"] == ridge
    torch.testing.assert_close(model.map.weight, reference.map.weight, atol=1e-9, rtol=0)
    torch.testing.assert_close(model.map.bias, reference.map.bias, atol=1e-9, rtol=0)
    with torch.no_grad():
        torch.testing.assert_close(model(x_test), reference(x_test), atol=1e-9, rtol=0)


def test_cca_without_ridge_is_the_minimum_norm_solution_when_singular():
    g = torch.Generator().manual_seed(1)
    x = randn(g, 200, 12)
    x[:, 6:] = 2 * x[:, :6]  # rank-6 sources
    y = randn(g, 200, 4)
    y[:, 3] = y[:, 0]  # rank-3 targets
    model = cca(12, 4)
    model.fit(x, y, x[:5], y[:5])
    xc, yc = x - x.mean(0), y - y.mean(0)
    torch.testing.assert_close(model.map.weight, (torch.linalg.pinv(xc) @ yc).T, atol=1e-9, rtol=0)


def planted_low_rank(seed, d_a=16, d_b=12, rank=3, noise=1.0):
    """B depends on A only through a rank-3 subspace, plus noise; few training rows."""
    g = torch.Generator().manual_seed(seed)
    x_mix, down, up = randn(g, d_a, d_a), randn(g, d_a, rank), randn(g, rank, d_b)

    def pairs(n):
        x = randn(g, n, d_a) @ x_mix
        return x, x @ down @ up + noise * randn(g, n, d_b)

    return pairs(120), pairs(500), pairs(2000)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cca_chooses_the_planted_rank_and_beats_least_squares(seed):
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = planted_low_rank(seed)
    model = cca(16, 12, rank_fractions=(1 / 12, 0.25, 0.5, 1.0), ridges=(0.0, 0.01))
    assert model.ranks == (1, 3, 6, 12)
    info = model.fit(x_train, y_train, x_val, y_val)
    assert info["rank"] == 3
    by_rank = info["val_mse"][str(info["ridge"])]
    assert by_rank["3"] == min(min(r.values()) for r in info["val_mse"].values()) < by_rank["12"]
    full = LeastSquaresTranslator(16, 12, (0.0,)).double()
    full.fit(x_train, y_train, x_val, y_val)
    assert mse(model, x_test, y_test) < 0.95 * mse(full, x_test, y_test)
    json.dumps(info)


def test_cca_predictions_do_not_change_when_the_source_space_is_rotated_scaled_and_shifted():
    g = torch.Generator().manual_seed(3)
    (x_train, y_train), (x_val, y_val), (x_test, _) = planted_low_rank(3)
    turn, shift = rotation(g, 16, 16), randn(g, 16)

    def move(x):
        return 1000 * x @ turn + shift

    plain, moved = (cca(16, 12, rank_fractions=(0.25, 0.5, 1.0), ridges=(0.0, 0.1, 1.0)) for _ in range(2))
    chosen = plain.fit(x_train, y_train, x_val, y_val)
    moved_chosen = moved.fit(move(x_train), y_train, move(x_val), y_val)
    assert (chosen["rank"], chosen["ridge"]) == (moved_chosen["rank"], moved_chosen["ridge"])
    with torch.no_grad():
        torch.testing.assert_close(moved(move(x_test)), plain(x_test), atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("kwargs, message", [
    ({"rank_fractions": []}, "rank_fractions must be a non-empty list"),
    ({"rank_fractions": [0.0, 1.0]}, "rank_fractions must be"),
    ({"rank_fractions": [1.5]}, "rank_fractions must be"),
    ({"ridges": []}, "ridges must be a non-empty list"),
    ({"ridges": [0.1, -1.0]}, r"ridges must be .* >= 0, got \[0.1, -1.0\]"),
])
def test_cca_bad_settings_raise_user_error(kwargs, message):
    with pytest.raises(UserError, match=message):
        CCATranslator(6, 4, **{"rank_fractions": [0.5, 1.0], "ridges": [0.0], **kwargs})


# --- local Procrustes --------------------------------------------------------------------------


def two_clusters(seed, d_a, d_b, noise=0.01):
    """Two well-separated blobs in A, each sent to B by its own rotation, scale and offset."""
    g = torch.Generator().manual_seed(seed)
    direction = torch.nn.functional.normalize(randn(g, d_a), dim=0)
    maps = [(3.0 * rotation(g, d_b, d_a), randn(g, d_b)), (0.5 * rotation(g, d_b, d_a), 5 + randn(g, d_b))]

    def pairs(n):
        side = torch.arange(n) % 2
        x = randn(g, n, d_a) + 20 * direction * (2 * side[:, None] - 1)
        y = torch.stack([maps[s][0] @ row + maps[s][1] for s, row in zip(side.tolist(), x)])
        return x, y + noise * randn(g, n, d_b)

    return maps, pairs(1000), pairs(300), pairs(1000)


@pytest.mark.parametrize("d_a, d_b", [(6, 6), (5, 8)])
def test_local_procrustes_recovers_two_planted_maps(d_a, d_b):
    noise = 0.01
    maps, (x_train, y_train), (x_val, y_val), (x_test, y_test) = two_clusters(0, d_a, d_b, noise)
    model = local(d_a, d_b)
    info = model.fit(x_train, y_train, x_val, y_val)
    assert info["n_clusters"] >= 2 and info["fallback_clusters"] == 0
    assert mse(model, x_test, y_test) < 1.5 * noise**2
    single = ProcrustesTranslator(d_a, d_b).double()
    single.fit(x_train, y_train)
    assert mse(single, x_test, y_test) > 1000 * noise**2
    json.dumps(info)

    two = local(d_a, d_b, n_clusters=(2,))
    two.fit(x_train, y_train, x_val, y_val)
    fitted = two.weight.detach(), two.bias.detach()
    for weight, bias in maps:  # each planted map is one of the two fitted ones
        j = int(min((0, 1), key=lambda j: (weight - fitted[0][j]).abs().max()))
        torch.testing.assert_close(fitted[0][j], weight, atol=5e-3, rtol=0)
        # The blobs sit 20 away from the origin, so the weights' error reaches the offsets 20-fold.
        torch.testing.assert_close(fitted[1][j], bias, atol=0.05, rtol=0)


@pytest.mark.parametrize("d_a, d_b", DIMS)
def test_one_cluster_is_global_procrustes(d_a, d_b):
    g = torch.Generator().manual_seed(4)
    x_train, x_val, x_test = (randn(g, n, d_a) @ randn(g, d_a, d_a) + 3 for n in (200, 50, 50))
    y_train, y_val = (x @ randn(g, d_a, d_b) + randn(g, len(x), d_b) for x in (x_train, x_val))
    model, reference = local(d_a, d_b, n_clusters=(1,)), ProcrustesTranslator(d_a, d_b).double()
    info = model.fit(x_train, y_train, x_val, y_val)
    reference.fit(x_train, y_train)
    assert info["n_clusters"] == 1 == int(model.n_clusters)
    torch.testing.assert_close(model.weight[0], reference.map.weight, atol=1e-12, rtol=0)
    with torch.no_grad():
        torch.testing.assert_close(model(x_test), reference(x_test), atol=1e-10, rtol=0)


@pytest.mark.parametrize("d_a, d_b", [(7, 4), (4, 7)])
def test_state_dict_round_trips_into_a_fresh_instance(d_a, d_b):
    _, (x_train, y_train), (x_val, y_val), (x_test, _) = two_clusters(5, d_a, d_b, noise=0.5)
    settings = {"n_clusters": (1, 3), "temperatures": (0.3,)}  # soft routing over 3 clusters
    model = LocalProcrustesTranslator(d_a, d_b, **settings)
    info = model.fit(x_train.float(), y_train.float(), x_val.float(), y_val.float())
    assert info["n_clusters"] == 3 and model.weight.dtype == torch.float32
    fresh = LocalProcrustesTranslator(d_a, d_b, **settings)
    fresh.load_state_dict(model.state_dict())
    with torch.no_grad():
        out = fresh(x_test.float())
        assert out.shape == (len(x_test), d_b) and torch.isfinite(out).all()
        torch.testing.assert_close(out, model(x_test.float()), atol=0, rtol=0)


def test_soft_routing_averages_the_maps_halfway_between_two_centroids():
    _, (x_train, y_train), (x_val, y_val), _ = two_clusters(6, 6, 6)
    model = local(6, 6, n_clusters=(2,), temperatures=(1.0,))
    model.fit(x_train, y_train, x_val, y_val)
    assert float(model.spread) > 0
    halfway = model.centroids[:2].mean(0, keepdim=True)
    each = [halfway @ model.weight[j].T + model.bias[j] for j in (0, 1)]
    with torch.no_grad():
        torch.testing.assert_close(model(halfway), (each[0] + each[1]) / 2, atol=1e-10, rtol=0)
        hard = local(6, 6, n_clusters=(2,), temperatures=(0.0,))
        hard.load_state_dict({**model.state_dict(), "spread": torch.tensor(0.0, dtype=F64)})
        near_first = 0.9 * model.centroids[0] + 0.1 * model.centroids[1]
        torch.testing.assert_close(hard(near_first[None]), near_first[None] @ model.weight[0].T + model.bias[0])


def test_a_small_cluster_falls_back_to_the_global_map():
    g = torch.Generator().manual_seed(7)
    x = torch.cat([randn(g, 300, 5), randn(g, 6, 5) + 50])  # a blob of 300 and a far one of 6
    y = x @ randn(g, 5, 5) + randn(g, len(x), 5)
    model = local(5, 5, n_clusters=(2,), min_pairs_per_dim=2.0)  # needs 10 pairs per cluster
    info = model.fit(x, y, x, y)
    assert info["fallback_clusters"] == 1
    reference = ProcrustesTranslator(5, 5).double()
    reference.fit(x, y)
    small = int(model.centroids[:2, 0].argmax())  # the far blob's centroid
    torch.testing.assert_close(model.weight[small], reference.map.weight, atol=1e-12, rtol=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_clusters": []}, "n_clusters must be a non-empty list"),
    ({"n_clusters": [0, 2]}, "n_clusters must be"),
    ({"n_clusters": [1.5]}, "n_clusters must be"),
    ({"temperatures": []}, "temperatures must be a non-empty list"),
    ({"temperatures": [-0.1]}, "temperatures must be"),
    ({"min_pairs_per_dim": 0.5}, "min_pairs_per_dim must be >= 1"),
    ({"n_init": 0}, "n_init must be"),
])
def test_local_procrustes_bad_settings_raise_user_error(kwargs, message):
    with pytest.raises(UserError, match=message):
        LocalProcrustesTranslator(6, 4, **{"n_clusters": [1, 2], "temperatures": [0.0], **kwargs})


def test_local_procrustes_refuses_more_clusters_than_rows_and_constant_sources():
    x, y = torch.randn(5, 3), torch.randn(5, 2)
    with pytest.raises(UserError, match="n_clusters=8 needs at least as many training rows"):
        LocalProcrustesTranslator(3, 2, [1, 8], [0.0]).fit(x, y, x, y)
    with pytest.raises(UserError, match="all equal"):
        LocalProcrustesTranslator(3, 2, [1], [0.0]).fit(torch.ones(5, 3), y, x, y)


# --- both --------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: CCATranslator(6, 4, [1.0], [0.0]),
                                  lambda: LocalProcrustesTranslator(6, 4, [1], [0.0])])
@pytest.mark.parametrize("shapes, message", [
    (((10, 6), (9, 4), (5, 6), (5, 4)), "10 source rows but 9 target rows"),
    (((10, 6), (10, 3), (5, 6), (5, 4)), "dims are 6 -> 3"),
    (((10, 6), (10, 4), (5, 7), (5, 4)), "val: dims are 7 -> 4"),
])
def test_mismatched_shapes_raise_user_error(make, shapes, message):
    with pytest.raises(UserError, match=message):
        make().fit(*(torch.zeros(*shape) for shape in shapes))


def test_the_arch_configs_instantiate_and_score_as_baselines():
    g = torch.Generator().manual_seed(8)
    weight = randn(g, 24, 16).float()
    x_train, x_val, x_test = (randn(g, n, 24).float() for n in (400, 100, 100))
    y_train, y_val, y_test = (x @ weight + 0.1 * randn(g, len(x), 16).float() for x in (x_train, x_val, x_test))
    maps = closed_form_maps(CONFIGS, 24, 16)  # hydra.utils.instantiate(config.net, in_dim=24, out_dim=16)
    assert type(maps["cca"]) is CCATranslator and type(maps["local_procrustes"]) is LocalProcrustesTranslator
    for name, config in CONFIGS.items():
        assert config.name == name and config.closed_form is True and config.uses_width is False
        assert type(instantiate(config.net, in_dim=24, out_dim=16)) is type(maps[name])
    scores = baseline_scores(x_train, y_train, x_val, y_val, x_test, y_test, maps)  # fits each on train / val
    for net in maps.values():
        assert net(x_test).shape == (100, 16) and net(x_test).dtype == torch.float32
    assert set(scores["cca"]) == {"test/mse", "test/cosine", "rank", "ridge"}
    assert set(scores["local_procrustes"]) == {"test/mse", "test/cosine", "n_clusters", "temperature",
                                                "fallback_clusters"}
    assert scores["cca"]["test/mse"] < 0.02  # the map is linear: CCA at full rank finds it
    json.dumps(scores)
