"""Inputs shared by the metric tests."""

import math

import torch

LOG2_3 = math.log2(3)


def random_matrix(n, d, seed):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def random_rotation(d, seed):
    q, r = torch.linalg.qr(random_matrix(d, d, seed))
    return q * torch.sign(torch.diagonal(r))


