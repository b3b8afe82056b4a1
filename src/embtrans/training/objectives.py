"""Training objectives: `loss=<term>[+<term>...]`, each term weighted by `objective.weights.<term>`.

mse              mean squared error to the native B vector (the default, and the plan's study)
cosine           1 - cosine similarity to the native B vector
centered_cosine  the same after removing B's training mean, so the map is scored on what tells texts
                 apart rather than on the direction every vector of an anisotropic space shares
                 (Ethayarajh 2019, "How contextual are contextualized word representations?")
infonce          in-batch contrastive loss: each translated vector must pick its own native B vector
                 among the batch's and each native vector its translation (symmetric InfoNCE with
                 temperature `objective.temperature`; van den Oord et al. 2018, CLIP: Radford et al.
                 2021), the objective retrieval models are trained with
similarity       vector-space preservation as in vec2vec (Jha et al. 2025): the in-batch cosine
                 similarity matrix of the translated vectors against that of the native B vectors,
                 mean absolute (`objective.similarity_norm=l1`) or squared (`l2`) difference

Every term is computed in float32 whatever the forward pass ran in.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from embtrans.errors import UserError

TERMS = ("mse", "cosine", "centered_cosine", "infonce", "similarity")
NORMS = ("l1", "l2")


def parse_terms(loss: str) -> tuple[str, ...]:
    terms = tuple(term.strip() for term in str(loss).split("+"))
    unknown = [term for term in terms if term not in TERMS]
    if unknown or not terms or len(set(terms)) != len(terms):
        raise UserError(f"loss={loss} is not a '+'-joined list of distinct terms from {', '.join(TERMS)}")
    return terms


def infonce(predicted: Tensor, target: Tensor, temperature: float) -> Tensor:
    """Symmetric in-batch InfoNCE: row i's positive is column i, every other row of the batch a negative."""
    logits = F.normalize(predicted, dim=-1) @ F.normalize(target, dim=-1).T / temperature
    labels = torch.arange(len(predicted), device=predicted.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def similarity_preservation(predicted: Tensor, target: Tensor, norm: str) -> Tensor:
    """How far the translated batch's cosine-similarity matrix is from the native one's."""
    unit_predicted, unit_target = F.normalize(predicted, dim=-1), F.normalize(target, dim=-1)
    difference = unit_predicted @ unit_predicted.T - unit_target @ unit_target.T
    return difference.abs().mean() if norm == "l1" else difference.square().mean()


class Objective(nn.Module):
    """The weighted sum of the chosen terms. centered_cosine needs B's training mean: set_target_mean."""

    def __init__(self, loss: str = "mse", weights: Mapping[str, float] | None = None, temperature: float = 0.05,
                 similarity_norm: str = "l1") -> None:
        super().__init__()
        self.terms = parse_terms(loss)
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(TERMS))
        if unknown:
            raise UserError(f"objective.weights names {', '.join(unknown)}, which are not loss terms ({', '.join(TERMS)})")
        self.weights = {term: float(weights.get(term, 1.0)) for term in self.terms}
        if any(weight < 0 for weight in self.weights.values()):
            raise UserError(f"objective.weights must be >= 0, got {self.weights}")
        if "infonce" in self.terms and not float(temperature) > 0:
            raise UserError(f"objective.temperature={temperature} must be > 0")
        if "similarity" in self.terms and similarity_norm not in NORMS:
            raise UserError(f"objective.similarity_norm={similarity_norm} is not one of {', '.join(NORMS)}")
        self.temperature, self.similarity_norm = float(temperature), similarity_norm
        # Set from the training split before training (not saved: the job recomputes it from the data).
        self.register_buffer("target_mean", torch.zeros(0), persistent=False)

    @property
    def needs_target_mean(self) -> bool:
        return "centered_cosine" in self.terms

    def set_target_mean(self, train_targets: Tensor) -> None:
        self.target_mean = train_targets.float().mean(dim=0).to(self.target_mean.device)

    def term(self, name: str, predicted: Tensor, target: Tensor) -> Tensor:
        if name == "mse":
            return F.mse_loss(predicted, target)
        if name == "cosine":
            return (1 - F.cosine_similarity(predicted, target, dim=-1)).mean()
        if name == "centered_cosine":
            if self.target_mean.numel() != target.shape[-1]:
                raise RuntimeError("centered_cosine needs B's training mean: call set_target_mean first")
            mean = self.target_mean
            return (1 - F.cosine_similarity(predicted - mean, target - mean, dim=-1)).mean()
        if name == "infonce":
            return infonce(predicted, target, self.temperature)
        return similarity_preservation(predicted, target, self.similarity_norm)

    def forward(self, predicted: Tensor, target: Tensor) -> Tensor:
        predicted, target = predicted.float(), target.float()
        return sum(self.weights[name] * self.term(name, predicted, target) for name in self.terms)


def objective_for_fingerprint(loss: str, objective: Mapping | None) -> dict | None:
    """The part of the `objective` settings a run with this loss uses; None for the losses that existed
    before these settings (mse, cosine, mse+cosine) at weight 1, so their runs keep their fingerprints."""
    objective = dict(objective or {})
    terms = parse_terms(loss)
    weights = dict(objective.get("weights") or {})
    used = {"weights": {term: float(weights.get(term, 1.0)) for term in terms}}
    if "infonce" in terms:
        used["temperature"] = objective.get("temperature")
    if "similarity" in terms:
        used["similarity_norm"] = objective.get("similarity_norm")
    earlier = set(terms) <= {"mse", "cosine"} and set(used["weights"].values()) == {1.0}
    return None if earlier else used
