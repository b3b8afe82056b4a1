"""Stitching accuracy: does a classifier trained on B's own vectors still work on A's vectors translated into B?

The test of model stitching and relative-representation papers (e.g. Moschella et al. 2023): the downstream
model is fitted once on native B, then fed the translated vectors unchanged. Its accuracy on native B test
vectors is the ceiling; A's own classifier (fitted on A's vectors of the same training texts) says how much
of the task A's space holds before any translation.

The classifier is scikit-learn's LogisticRegression (lbfgs, multinomial for more than two classes, C = 1)
on rows scaled to length 1, so only directions count, as in a cosine search.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import Normalizer

from embtrans.metrics.retrieval import retention

# lbfgs on length-1 rows took 23 iterations (5 s on 2 cores) on 10,000 × 768 synthetic clusters; the ceiling is
# far above that and costs nothing while unused, where sklearn's default of 100 can stop short (ConvergenceWarning).
MAX_ITER = 5_000


def fit_classifier(vectors: np.ndarray, labels: Sequence, seed: int = 0) -> Pipeline:
    """A logistic regression fitted on the rows of vectors scaled to length 1 (a zero row stays zero).

    Fit it once on native B and score every translator of the pair with accuracy_per_text.
    """
    vectors, labels = _check_rows(vectors, labels, "training")
    if len(np.unique(labels)) < 2:
        raise ValueError(f"A classifier needs at least two classes in its training labels, got {np.unique(labels).tolist()}.")
    classifier = make_pipeline(Normalizer(norm="l2"), LogisticRegression(max_iter=MAX_ITER, random_state=seed))
    return classifier.fit(vectors, labels)


def accuracy_per_text(classifier: Pipeline, vectors: np.ndarray, labels: Sequence) -> np.ndarray:
    """(n,) float64: 1 where the classifier's prediction for a row is its label, else 0."""
    vectors, labels = _check_rows(vectors, labels, "test")
    return (classifier.predict(vectors) == labels).astype(np.float64)


def stitching_from_classifiers(classifier_b: Pipeline, test_b: np.ndarray, test_translated: np.ndarray,
                               test_labels: Sequence, classifier_a: Pipeline | None = None,
                               test_a: np.ndarray | None = None) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """stitching_scores with the classifiers already fitted (fit_classifier): (means, per_text).

    per_text: ``stitch_correct`` (B's classifier on the translated vectors), ``stitch_correct_native`` (on
    B's own test vectors) and, with classifier_a and test_a, ``stitch_correct_source`` (A's classifier on
    A's test vectors), each a 0/1 array in the order of the test texts. means: ``stitch_accuracy``,
    ``stitch_accuracy_native``, ``stitch_accuracy_source`` (their means), and ``stitch_retention`` =
    stitch_accuracy / stitch_accuracy_native (NaN when the native accuracy is 0).
    """
    test_b, test_translated = np.asarray(test_b), np.asarray(test_translated)
    if test_b.shape != test_translated.shape:
        raise ValueError(f"test_b and test_translated must have the same shape, got {test_b.shape} and {test_translated.shape}.")
    if (classifier_a is None) != (test_a is None):
        raise ValueError("A's classifier and A's test vectors go together: give both or neither.")
    per_text = {"stitch_correct": accuracy_per_text(classifier_b, test_translated, test_labels),
                "stitch_correct_native": accuracy_per_text(classifier_b, test_b, test_labels)}
    if classifier_a is not None:
        per_text["stitch_correct_source"] = accuracy_per_text(classifier_a, test_a, test_labels)
    means = {"stitch_accuracy": float(per_text["stitch_correct"].mean()),
             "stitch_accuracy_native": float(per_text["stitch_correct_native"].mean())}
    if "stitch_correct_source" in per_text:
        means["stitch_accuracy_source"] = float(per_text["stitch_correct_source"].mean())
    means["stitch_retention"] = retention(means["stitch_accuracy"], means["stitch_accuracy_native"])
    return means, per_text


def stitching_scores(train_b: np.ndarray, train_labels: Sequence, test_b: np.ndarray, test_translated: np.ndarray,
                     test_labels: Sequence, train_a: np.ndarray | None = None, test_a: np.ndarray | None = None,
                     seed: int = 0) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Fit B's classifier on train_b (and A's on train_a, when train_a and test_a are given), then score the
    test texts: (means, per_text) as stitching_from_classifiers returns them.

    Row i of test_b, test_translated and test_a is the same text, labelled test_labels[i]; row i of train_b
    and train_a is the training text labelled train_labels[i].
    """
    if (train_a is None) != (test_a is None):
        raise ValueError("train_a and test_a go together: give both or neither.")
    classifier_b = fit_classifier(train_b, train_labels, seed)
    classifier_a = fit_classifier(train_a, train_labels, seed) if train_a is not None else None
    return stitching_from_classifiers(classifier_b, test_b, test_translated, test_labels, classifier_a, test_a)


def _check_rows(vectors: np.ndarray, labels: Sequence, split: str) -> tuple[np.ndarray, np.ndarray]:
    vectors, labels = np.asarray(vectors), np.asarray(labels)
    if vectors.ndim != 2 or labels.shape != (vectors.shape[0],):
        raise ValueError(f"The {split} vectors must be (n, d) with one label per row, got shape {vectors.shape} "
                         f"and {labels.shape[0] if labels.ndim else 0} labels.")
    if vectors.shape[0] == 0:
        raise ValueError(f"The {split} set is empty.")
    return vectors, labels
