"""Why an unsupervised alignment failed, measured with the pairs it never saw: per ordered pair of models, the
self-consistency score mini_vec2vec chooses and judges itself by (mean cosine of each translated held-out A
vector to its nearest held-out B vector) for the correct map (Procrustes on every training pair), the two null
maps (random rotations; principal axes matched in order with random signs), and mini_vec2vec's own fit; then the
anchor step's premise: k-means centroids of the two halves, matched by the quadratic assignment the method
solves, against the matching the correct map gives (share matched right; the QAP objective of each).

Uses the training split only (as the fit does), on the halves and held-out vectors the fit at that seed uses.

    python tools/unsupervised_diagnosis.py                       # every ordered pair of minilm, mpnet, e5_small
    python tools/unsupervised_diagnosis.py model_a=minilm model_b=e5_small seed=1
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
from hydra import compose, initialize_config_dir
from scipy.optimize import linear_sum_assignment, quadratic_assignment
from sklearn.cluster import KMeans

from embtrans.data.paired import load_paired_embeddings
from embtrans.paths import CONFIG_DIR
from embtrans.sweep.environment import set_project_env
from embtrans.translators import unsupervised as U

MODELS = ("minilm", "mpnet", "e5_small")
ANCHOR_RUNS = 5  # k-means pairs whose QAP matching is checked


def reduced_halves(paired, seed: int):
    """The fit's inputs: unit, centred vectors of A's half and B's half (at d = min dims, by the larger side's
    principal axes), and the same reduction applied to all training texts of both models (for the correct map)."""
    train = paired.rows("train")
    x, y = paired.source[train].astype(np.float64), paired.target[train].astype(np.float64)
    a_rows, b_rows = U.disjoint_halves(len(train), seed)
    mean_a, mean_b = x[a_rows].mean(0), y[b_rows].mean(0)
    axes_a, axes_b = U.shared_axes(x[a_rows] - mean_a, y[b_rows] - mean_b)
    all_a, all_b = U.unit_rows((x - mean_a) @ axes_a), U.unit_rows((y - mean_b) @ axes_b)
    return all_a, all_b, a_rows, b_rows


def diagnose(model_a: str, model_b: str, seed: int, overrides: list[str]) -> dict:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[f"model_a={model_a}", f"model_b={model_b}", f"seed={seed}",
                                          "arch=mini_vec2vec", *overrides])
    settings = U.Settings(**{k: v for k, v in cfg.arch.net.items() if k not in ("_target_", "seed")})
    all_a, all_b, a_rows, b_rows = reduced_halves(load_paired_embeddings(cfg, show_progress=False), seed)
    correct = U.procrustes(all_a, all_b)  # the map the pairs give: what an alignment should find
    source, target = all_a[a_rows], all_b[b_rows]
    check_a, fit_a, check_b, fit_b, _ = U.held_out(source, target, settings.check_fraction, seed)  # the fit's own
    axes_a, axes_b = U.principal_axes(fit_a, fit_a.shape[1]), U.principal_axes(fit_b, fit_b.shape[1])
    null_rng = np.random.default_rng(0)
    spectral = [U.self_consistency(U.spectral_rotation(axes_a, axes_b, null_rng), check_a, check_b) for _ in range(20)]
    rotations = [U.self_consistency(U.random_rotation(source.shape[1], null_rng), check_a, check_b) for _ in range(20)]
    right, objectives = [], []
    anchor_rng = np.random.default_rng(seed)
    for run in range(ANCHOR_RUNS):
        centres_a = KMeans(settings.anchors, n_init=1, random_state=run).fit(fit_a).cluster_centers_
        centres_b = KMeans(settings.anchors, n_init=1, random_state=100 + run).fit(fit_b).cluster_centers_
        kernel_a = U.double_centred(U.unit_rows(centres_a) @ U.unit_rows(centres_a).T)
        kernel_b = U.double_centred(U.unit_rows(centres_b) @ U.unit_rows(centres_b).T)
        found = max((quadratic_assignment(kernel_a, kernel_b, method="2opt", options={"maximize": True, "rng": anchor_rng})
                     for _ in range(settings.qap_starts)), key=lambda r: r.fun)
        _, truth = linear_sum_assignment(-(U.unit_rows(centres_a @ correct) @ U.unit_rows(centres_b).T))
        right.append(float((found.col_ind == truth).mean()))
        objectives.append((found.fun, float((kernel_a * kernel_b[np.ix_(truth, truth)]).sum())))
    return {"pair": f"{model_a} → {model_b}", "correct": U.self_consistency(correct, check_a, check_b),
            "spectral": (float(np.mean(spectral)), float(np.max(spectral))),
            "random": (float(np.mean(rotations)), float(np.max(rotations))),
            "anchors right": float(np.mean(right)), "qap found": float(np.mean([f for f, _ in objectives])),
            "qap correct": float(np.mean([t for _, t in objectives]))}


def main(argv: list[str]) -> None:
    set_project_env()
    given = dict(arg.split("=", 1) for arg in argv if arg.split("=", 1)[0] in ("model_a", "model_b", "seed"))
    overrides = [arg for arg in argv if arg.split("=", 1)[0] not in given]
    seed = int(given.get("seed", 0))
    pairs = ([(given["model_a"], given["model_b"])] if "model_a" in given and "model_b" in given
             else list(itertools.permutations(MODELS, 2)))
    print(f"seed {seed}; self-consistency on the fit's held-out training vectors (correct map: Procrustes on every "
          f"training pair); anchors: {ANCHOR_RUNS} k-means pairs, QAP as the fit solves it")
    print(f"{'pair':<22}{'correct map':>12}{'spectral mean/best':>20}{'random mean/best':>18}"
          f"{'anchors right':>15}{'QAP found':>11}{'QAP correct':>13}")
    for model_a, model_b in pairs:
        r = diagnose(model_a, model_b, seed, overrides)
        print(f"{r['pair']:<22}{r['correct']:>12.4f}{r['spectral'][0]:>12.4f}/{r['spectral'][1]:.4f}"
              f"{r['random'][0]:>10.4f}/{r['random'][1]:.4f}{r['anchors right']:>15.2f}{r['qap found']:>11.1f}"
              f"{r['qap correct']:>13.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
