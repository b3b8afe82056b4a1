"""Learning-rate schedules that know the training length: linear warm-up, then cosine decay.

Stepped every optimizer step by TranslatorModule (which keeps their state in the resume point).
"""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR

from embtrans.errors import UserError


def warmup_cosine(optimizer: torch.optim.Optimizer, steps_per_epoch: int, warmup_epochs: float = 1.0,
                  decay_epochs: float = 30.0, final_fraction: float = 0.05) -> LambdaLR:
    """The lr rises linearly from ~0 to optimizer.lr over ``warmup_epochs``, then follows a half cosine
    down to ``final_fraction`` of it over ``decay_epochs``, and stays there (early stopping decides
    when to stop, so training may go on past the decay)."""
    if warmup_epochs < 0 or decay_epochs <= 0 or not 0 <= final_fraction <= 1:
        raise UserError(f"scheduler: warmup_epochs={warmup_epochs} must be >= 0, decay_epochs={decay_epochs} > 0 "
                        f"and final_fraction={final_fraction} in [0, 1]")
    warmup, decay = warmup_epochs * steps_per_epoch, decay_epochs * steps_per_epoch

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        progress = min(1.0, (step - warmup) / decay)
        return final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)
