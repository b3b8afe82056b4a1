"""How close translated vectors are to the native ones, and the floor every translator must beat."""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional import cosine_similarity, mean_squared_error


def regression_scores(predicted: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """MSE is averaged over every coordinate of every vector; cosine is averaged over vectors."""
    return {
        "mse": float(mean_squared_error(predicted, target)),
        "cosine": float(cosine_similarity(predicted, target, reduction="mean")),
    }


def regression_per_text(predicted: torch.Tensor, target: torch.Tensor) -> dict[str, np.ndarray]:
    """Each text's squared error (mean over coordinates) and cosine: their means are regression_scores'."""
    predicted, target = predicted.double(), target.double()
    return {
        "mse": ((predicted - target) ** 2).mean(dim=1).numpy(),
        "cosine": torch.nn.functional.cosine_similarity(predicted, target, dim=1).numpy(),
    }


def mean_vector_scores(train_target: torch.Tensor, test_target: torch.Tensor) -> dict[str, float]:
    """The trivial translator that ignores its input and predicts the mean training target.

    Embedding spaces are anisotropic, so this already scores a high mean cosine: every learned
    number is read against it.
    """
    mean = train_target.mean(dim=0, keepdim=True).expand_as(test_target).contiguous()
    return regression_scores(mean, test_target)
