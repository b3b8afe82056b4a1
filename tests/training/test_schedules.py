"""Warm-up and cosine: the learning rate follows the documented shape, step by step."""

import math

import pytest
import torch

from embtrans.errors import UserError
from embtrans.training.schedules import warmup_cosine


def lrs(steps, **kwargs):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = warmup_cosine(optimizer, **kwargs)
    seen = []
    for _ in range(steps):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return seen


def test_warm_up_then_half_cosine_then_flat():
    seen = lrs(60, steps_per_epoch=10, warmup_epochs=1, decay_epochs=4, final_fraction=0.1)
    assert seen[0] == pytest.approx(1 / 11) and seen[9] == pytest.approx(10 / 11)  # linear warm-up
    assert seen[10] == pytest.approx(1.0)  # the peak, where the cosine starts
    assert seen[30] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))  # half way down
    assert all(lr == pytest.approx(0.1) for lr in seen[50:])  # flat at final_fraction after the decay
    assert all(a >= b for a, b in zip(seen[10:50], seen[11:51]))


def test_bad_settings_are_one_clear_error():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(UserError, match="decay_epochs"):
        warmup_cosine(optimizer, steps_per_epoch=5, decay_epochs=0)
