"""mini-vec2vec (translators/unsupervised.py): it recovers a planted rotation from unpaired halves, reports
failure where there is nothing to align, and never reads a text's A and B vectors together."""

import numpy as np
import pytest
import torch

from embtrans.errors import RunFailed, UserError
from embtrans.translators.unsupervised import MiniVec2VecTranslator, disjoint_halves, random_rotation

# Small enough for a test (about 2 s a fit), large enough to recover the planted map.
FAST = {"anchors": 20, "anchor_runs": 10, "qap_starts": 5, "match_iterations": 10, "restarts": 3}


def clustered(rng, centres, n):
    """Texts of a corpus with topics: 20 clusters, spread unequally along each axis. A space needs such
    structure to be aligned at all: an isotropic cloud looks the same after any rotation, and within
    clusters of isotropic noise the rotation is fixed only on the span of the centres."""
    spread = 0.4 * np.linspace(0.3, 1.5, centres.shape[1])
    return centres[rng.integers(len(centres), size=n)] + spread * rng.standard_normal((n, centres.shape[1]))


def planted(out_dim=32, n=3000, seed=0):
    """A (32-d) and B = A rotated (and, for out_dim > 32, placed in a random 32-d subspace of B) plus noise,
    for n training texts and 500 test texts."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, 32)) * rng.uniform(0.5, 2.0, size=(1, 32))
    rotation = random_rotation(32, rng)
    lift = np.linalg.qr(rng.standard_normal((out_dim, 32)))[0]  # out_dim x 32, orthonormal columns
    x, x_test = clustered(rng, centres, n), clustered(rng, centres, 500)
    y = x @ rotation @ lift.T + 0.02 * rng.standard_normal((n, out_dim))
    return (torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32),
            torch.tensor(x_test, dtype=torch.float32), torch.tensor(x_test @ rotation @ lift.T, dtype=torch.float32))


def top1(translated: torch.Tensor, target: torch.Tensor) -> float:
    """Top-1 matching: each translated test vector's own text is the nearest of every target test vector."""
    a = torch.nn.functional.normalize(translated - target.mean(0), dim=1)
    b = torch.nn.functional.normalize(target - target.mean(0), dim=1)
    return float(((a @ b.T).argmax(1) == torch.arange(len(a))).float().mean())


@pytest.mark.parametrize("out_dim", [32, 48])
def test_recovers_a_planted_rotation_from_disjoint_halves(out_dim):
    x, y, x_test, y_test = planted(out_dim)
    net = MiniVec2VecTranslator(32, out_dim, seed=0, **FAST)
    found = net.fit(x, y)
    with torch.no_grad():
        assert top1(net(x_test), y_test) > 0.95
    assert found["texts"] == {"a": 1500, "b": 1500} and found["paired_texts_read"] == 0
    assert found["shared_dim"] == 32
    assert len(found["restart_scores"]) == 3 and found["self_consistency"] == max(found["restart_scores"])
    for null in found["null_maps"].values():
        assert found["self_consistency"] > null["max"] and null["z"] >= 4


def test_unrelated_spaces_are_a_failure_not_a_translator():
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal((3000, 32)), dtype=torch.float32)
    y = torch.tensor(rng.standard_normal((3000, 32)), dtype=torch.float32)
    with pytest.raises(RunFailed, match="found nothing"):
        MiniVec2VecTranslator(32, 32, seed=0, **FAST).fit(x, y)


def test_the_two_halves_are_disjoint_and_cover_the_texts():
    a_rows, b_rows = disjoint_halves(1001, seed=3)
    assert np.intersect1d(a_rows, b_rows).size == 0
    assert np.array_equal(np.union1d(a_rows, b_rows), np.arange(1001))
    assert np.array_equal(a_rows, disjoint_halves(1001, seed=3)[0])
    assert not np.array_equal(a_rows, disjoint_halves(1001, seed=4)[0])


def test_fit_never_reads_a_texts_vectors_from_both_models():
    """B's vectors of A's half and A's vectors of B's half are poisoned (NaN): the fit cannot tell."""
    x, y, _, _ = planted(n=1000)
    settings = {**FAST, "anchor_runs": 2, "restarts": 1, "min_z": -1e9}  # any fit is kept: this test is about reading
    clean = MiniVec2VecTranslator(32, 32, seed=5, **settings)
    clean.fit(x, y)
    a_rows, b_rows = disjoint_halves(len(x), seed=5)
    x_poisoned, y_poisoned = x.clone(), y.clone()
    x_poisoned[b_rows] = float("nan")
    y_poisoned[a_rows] = float("nan")
    poisoned = MiniVec2VecTranslator(32, 32, seed=5, **settings)
    poisoned.fit(x_poisoned, y_poisoned)
    assert torch.isfinite(poisoned.map.weight).all()
    assert torch.equal(poisoned.map.weight, clean.map.weight) and torch.equal(poisoned.map.bias, clean.map.bias)


@pytest.mark.parametrize("setting, value", [("smoothing", 1.0), ("anchors", 1), ("restarts", 0),
                                            ("check_fraction", 0.0), ("neighbours", 2.5)])
def test_bad_settings_get_one_line(setting, value):
    with pytest.raises(UserError, match=f"arch.net.{setting}="):
        MiniVec2VecTranslator(4, 4, **{setting: value})
