"""Every vector-level score of one embedding dataset against the native one, on the held-out test texts."""

from __future__ import annotations

import numpy as np
import torch
from omegaconf import DictConfig

from src.metrics.cka import cka_scores
from src.metrics.matching import matching_scores
from src.metrics.neighbours import neighbourhood_agreement
from src.metrics.regression import mean_vector_scores, regression_scores


def space_agreement(reference: np.ndarray, candidate: np.ndarray, settings: DictConfig) -> dict:
    """k-NN neighbourhood agreement and CKA: both compare geometry, so the dims may differ."""
    knn = neighbourhood_agreement(reference, candidate, ks=tuple(settings.knn_ks), rbo_p=settings.rbo_p)
    cka = cka_scores(candidate, reference, kernels=tuple(settings.cka.kernels), debiased=tuple(settings.cka.debiased),
                     n_permutations=settings.cka.n_permutations, max_samples=settings.cka.max_samples,
                     seed=settings.seed, rbf_sigma_fraction=settings.cka.rbf_sigma_fraction)
    return {**knn, **cka}


def translation_scores(native: np.ndarray, translated: np.ndarray, settings: DictConfig) -> dict:
    """MSE and cosine to the native vectors, neighbourhoods, CKA, and vec2vec-style matching."""
    regression = regression_scores(torch.from_numpy(translated), torch.from_numpy(native))
    matching = matching_scores(translated, native, top_ks=tuple(settings.matching_top_ks))
    matching["matching_pool"] = matching.pop("pool_size")
    return {"test_mse": regression["mse"], "test_cosine": regression["cosine"],
            **space_agreement(native, translated, settings), **matching}


def untranslated_scores(native_a: np.ndarray, native_b: np.ndarray, train_b: np.ndarray, settings: DictConfig) -> dict:
    """What holds before any translation: how far A's geometry already agrees with B's, and the
    mean-vector and identity floors of MSE and cosine."""
    floor = mean_vector_scores(torch.from_numpy(train_b), torch.from_numpy(native_b))
    scores = {"mean_vector_mse": floor["mse"], "mean_vector_cosine": floor["cosine"]}
    if native_a.shape[1] == native_b.shape[1]:
        identity = regression_scores(torch.from_numpy(native_a), torch.from_numpy(native_b))
        scores.update(identity_mse=identity["mse"], identity_cosine=identity["cosine"])
    agreement = space_agreement(native_b, native_a, settings)
    return {**scores, **{f"untranslated_{name}": value for name, value in agreement.items()}}
