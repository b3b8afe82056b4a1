"""Each training objective against answers known in advance, and each reaching a planted map."""

import pytest
import torch
import torch.nn.functional as F

from embtrans.errors import UserError
from embtrans.training.objectives import Objective, objective_for_fingerprint, parse_terms


def planted(n=256, d=8, seed=0, offset=3.0):
    """Sources, an orthogonal map Q and targets x Q + offset (a shared offset makes them anisotropic)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=generator)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=generator))
    return x, q, x @ q + offset


def test_terms_are_parsed_and_bad_ones_refused_in_one_line():
    assert parse_terms("mse") == ("mse",) and parse_terms("mse + infonce") == ("mse", "infonce")
    for bad in ("l1", "mse+mse", "", "mse+"):
        with pytest.raises(UserError, match="not a '\\+'-joined list"):
            parse_terms(bad)
    with pytest.raises(UserError, match="temperature"):
        Objective("infonce", temperature=0)
    with pytest.raises(UserError, match="similarity_norm"):
        Objective("similarity", similarity_norm="cosine")
    with pytest.raises(UserError, match="not loss terms"):
        Objective("mse", weights={"contrastive": 1})


def test_weights_scale_each_term():
    x, _, y = planted()
    predicted = y + 0.1 * torch.randn_like(y)
    mse, cosine = F.mse_loss(predicted, y), (1 - F.cosine_similarity(predicted, y)).mean()
    combined = Objective("mse+cosine", weights={"mse": 0.5, "cosine": 2.0})(predicted, y)
    assert combined == pytest.approx(float(0.5 * mse + 2.0 * cosine), rel=1e-6)


def test_similarity_is_zero_for_an_isometry_and_not_for_a_stretch():
    x, q, _ = planted()
    similarity = Objective("similarity")
    assert similarity(x @ q, x) == pytest.approx(0, abs=1e-6)  # rotations keep every cosine
    stretch = torch.ones(x.shape[1])
    stretch[0] = 5.0
    assert similarity(x * stretch, x) > 0.01
    assert Objective("similarity", similarity_norm="l2")(x @ q, x) == pytest.approx(0, abs=1e-10)


def test_centered_cosine_ignores_scaling_about_the_mean_which_cosine_does_not():
    _, _, y = planted()
    objective = Objective("centered_cosine")
    objective.set_target_mean(y)
    mean = y.mean(dim=0)
    stretched = mean + 2.0 * (y - mean)  # same directions from the mean, twice as far
    assert objective(stretched, y) == pytest.approx(0, abs=1e-6)
    assert Objective("cosine")(stretched, y) > 0.01
    with pytest.raises(RuntimeError, match="set_target_mean"):
        Objective("centered_cosine")(y, y)


def test_infonce_prefers_the_planted_match_to_any_other_pairing():
    x, q, _ = planted()
    y = x @ q
    objective = Objective("infonce", temperature=0.05)
    matched = objective(y + 0.01 * torch.randn_like(y), y)
    shuffled = objective(y[torch.randperm(len(y), generator=torch.Generator().manual_seed(1))], y)
    assert matched < shuffled / 5
    logits = F.normalize(y + 0.01 * torch.randn_like(y), dim=1) @ F.normalize(y, dim=1).T
    assert torch.equal(logits.argmax(dim=1), torch.arange(len(y)))


@pytest.mark.parametrize("loss", ["mse", "cosine", "centered_cosine", "infonce", "mse+infonce", "mse+similarity"])
def test_each_objective_trains_a_linear_map_onto_the_planted_rotation(loss):
    # no offset: infonce alone, which sees only raw cosines, cannot tell apart targets that all lie
    # in one narrow cone (with offset 1 it ranks 91 % of them first)
    x, _, y = planted(offset=0.0)
    torch.manual_seed(0)
    net = torch.nn.Linear(x.shape[1], y.shape[1])
    objective = Objective(loss, temperature=0.1)
    objective.set_target_mean(y)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.03)
    for _ in range(400):
        optimizer.zero_grad()
        objective(net(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        predicted = net(x)
        # every objective finds each text's own target: each centred translation points at its own
        # centred target (cosine near 1) and ranks it first among all targets
        centred_predicted, centred_y = predicted - predicted.mean(0), y - y.mean(0)
        centred = F.cosine_similarity(centred_predicted, centred_y).mean()
        scores = F.normalize(centred_predicted, dim=1) @ F.normalize(centred_y, dim=1).T
        top1 = (scores.argmax(dim=1) == torch.arange(len(y))).float().mean()
    assert centred > 0.99 and top1 == 1.0


def test_the_fingerprint_keeps_only_what_the_loss_uses():
    defaults = {"weights": {"mse": 1.0, "cosine": 1.0, "infonce": 1.0}, "temperature": 0.05, "similarity_norm": "l1"}
    assert objective_for_fingerprint("mse", defaults) is None  # as before these settings existed
    assert objective_for_fingerprint("mse+cosine", defaults) is None
    assert objective_for_fingerprint("mse+infonce", defaults) == {"weights": {"mse": 1.0, "infonce": 1.0},
                                                                  "temperature": 0.05}
    assert objective_for_fingerprint("mse", {**defaults, "weights": {"mse": 2.0}}) == {"weights": {"mse": 2.0}}
