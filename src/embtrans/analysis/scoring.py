"""Every vector-level score of one embedding dataset against the native one, on the held-out test texts.

Each function returns the scores (means) and, for those that are means over texts, the per-text
values they average: what the confidence intervals resample.
"""

from __future__ import annotations

import numpy as np
import torch
from omegaconf import DictConfig

from embtrans.metrics.cka import cka_scores
from embtrans.metrics.hubness import hubness_scores
from embtrans.metrics.matching import matching_per_text, matching_ranks
from embtrans.metrics.neighbours import agreement_means, neighbourhood_agreement_per_text
from embtrans.metrics.regression import mean_vector_scores, regression_per_text, regression_scores

# Column prefix of each matching direction (see src/embtrans/metrics/matching.py).
MATCHING_PREFIX = {"translated_to_native": "", "native_to_translated": "vec2vec_"}


def space_agreement(reference: np.ndarray, candidate: np.ndarray, settings: DictConfig) -> tuple[dict, dict]:
    """k-NN neighbourhood agreement and CKA: both compare geometry, so the dims may differ."""
    per_text = neighbourhood_agreement_per_text(reference, candidate, ks=tuple(settings.knn_ks), rbo_p=settings.rbo_p)
    scores = agreement_means(per_text, settings.knn_ks)
    cka = cka_scores(candidate, reference, kernels=tuple(settings.cka.kernels), debiased=tuple(settings.cka.debiased),
                     n_permutations=settings.cka.n_permutations, max_samples=settings.cka.max_samples,
                     seed=settings.seed, rbf_sigma_fraction=settings.cka.rbf_sigma_fraction)
    return {**scores, **cka}, per_text


def matching(native: np.ndarray, translated: np.ndarray, settings: DictConfig) -> tuple[dict, dict]:
    """vec2vec-style matching in both directions: translated → native under the plain names, and
    native → translated (vec2vec's own) under vec2vec_."""
    scores, per_text = {}, {}
    for direction, prefix in MATCHING_PREFIX.items():
        ranks, cosine = matching_ranks(translated, native, direction)
        for name, values in matching_per_text(ranks, tuple(settings.matching_top_ks)).items():
            per_text[prefix + name] = values
            scores[prefix + name] = float(values.mean())
        scores[prefix + "median_rank"] = float(ranks.quantile(0.5))
    scores["mean_cosine"] = float(cosine.mean())  # the same in both directions
    scores["matching_pool"] = float(native.shape[0])
    return scores, per_text


def translation_scores(native: np.ndarray, translated: np.ndarray, settings: DictConfig) -> tuple[dict, dict]:
    """MSE and cosine to the native vectors, neighbourhoods, CKA, and vec2vec-style matching."""
    per_text = {f"test_{name}": values for name, values in
                regression_per_text(torch.from_numpy(translated), torch.from_numpy(native)).items()}
    regression = regression_scores(torch.from_numpy(translated), torch.from_numpy(native))
    agreement, agreement_items = space_agreement(native, translated, settings)
    matched, matched_items = matching(native, translated, settings)
    scores = {"test_mse": regression["mse"], "test_cosine": regression["cosine"], **agreement, **matched,
              **hubness_of(translated, settings)}
    return scores, {**per_text, **agreement_items, **matched_items}


def untranslated_scores(native_a: np.ndarray, native_b: np.ndarray, train_b: np.ndarray,
                        settings: DictConfig) -> tuple[dict, dict]:
    """What holds before any translation: how far A's geometry already agrees with B's, and the
    mean-vector and identity floors of MSE and cosine."""
    floor = mean_vector_scores(torch.from_numpy(train_b), torch.from_numpy(native_b))
    scores = {"mean_vector_mse": floor["mse"], "mean_vector_cosine": floor["cosine"]}
    if native_a.shape[1] == native_b.shape[1]:
        identity = regression_scores(torch.from_numpy(native_a), torch.from_numpy(native_b))
        scores.update(identity_mse=identity["mse"], identity_cosine=identity["cosine"])
    agreement, per_text = space_agreement(native_b, native_a, settings)
    agreement.update(hubness_of(native_a, settings))  # raw A's hubness, as untranslated_...
    scores.update({f"native_{name}": value for name, value in hubness_of(native_b, settings).items()})
    return ({**scores, **{f"untranslated_{name}": value for name, value in agreement.items()}},
            {f"untranslated_{name}": values for name, values in per_text.items()})


def hubness_of(vectors: np.ndarray, settings: DictConfig) -> dict:
    """Hubness at metrics.hubness_k; nothing when the test split has too few texts for that k."""
    k = int(settings.get("hubness_k", 10))
    return hubness_scores(vectors, k) if vectors.shape[0] > k + 1 else {}
