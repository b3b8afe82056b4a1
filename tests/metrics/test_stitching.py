"""src/embtrans/metrics/stitching.py on planted Gaussian clusters: an identity translator keeps the native
accuracy exactly, a translator that keeps nothing falls to chance, separable data score near 1."""

import math

import numpy as np
import pytest

from embtrans.metrics.stitching import accuracy_per_text, fit_classifier, stitching_from_classifiers, stitching_scores

LABELS = np.array(["fresh", "rotten", "plot"])


def clusters(n, d=32, spread=1.0, seed=0):
    """n points in three equal Gaussian clusters (centres fixed, about 8 apart), labels cycled."""
    centres = np.random.default_rng(100).normal(scale=8 / np.sqrt(2 * d), size=(3, d))
    rng = np.random.default_rng(seed)
    classes = np.arange(n) % 3
    return centres[classes] + rng.normal(scale=spread, size=(n, d)), LABELS[classes].tolist()


def test_an_identity_translator_keeps_the_native_accuracy_exactly():
    train_b, train_labels = clusters(300, spread=3.0, seed=1)  # overlapping: accuracy well below 1
    test_b, test_labels = clusters(300, spread=3.0, seed=2)
    means, per_text = stitching_scores(train_b, train_labels, test_b, test_b.copy(), test_labels)
    assert set(means) == {"stitch_accuracy", "stitch_accuracy_native", "stitch_retention"}
    assert set(per_text) == {"stitch_correct", "stitch_correct_native"}
    assert 0.5 < means["stitch_accuracy_native"] < 0.99
    assert means["stitch_accuracy"] == means["stitch_accuracy_native"]
    assert means["stitch_retention"] == 1.0
    np.testing.assert_array_equal(per_text["stitch_correct"], per_text["stitch_correct_native"])
    assert per_text["stitch_correct"].dtype == np.float64 and set(np.unique(per_text["stitch_correct"])) <= {0.0, 1.0}
    assert per_text["stitch_correct"].mean() == means["stitch_accuracy"]


def test_separable_clusters_score_near_one_and_random_vectors_fall_to_chance():
    train_b, train_labels = clusters(300, seed=1)
    test_b, test_labels = clusters(600, seed=2)
    noise = np.random.default_rng(3).normal(size=test_b.shape)  # a translator that keeps nothing of the text
    means, _ = stitching_scores(train_b, train_labels, test_b, noise, test_labels)
    assert means["stitch_accuracy_native"] > 0.98
    assert means["stitch_accuracy"] == pytest.approx(1 / 3, abs=0.08)
    assert means["stitch_retention"] == pytest.approx(means["stitch_accuracy"] / means["stitch_accuracy_native"])


def test_the_source_classifier_is_trained_and_scored_in_its_own_space():
    train_b, train_labels = clusters(300, seed=1)
    test_b, test_labels = clusters(300, seed=2)
    # A's space: another dimension, a fixed linear image of B's, so A holds the same classes.
    to_a = np.random.default_rng(4).normal(size=(32, 20))
    means, per_text = stitching_scores(train_b, train_labels, test_b, test_b, test_labels,
                                       train_a=train_b @ to_a, test_a=test_b @ to_a)
    assert means["stitch_accuracy_source"] > 0.95
    assert per_text["stitch_correct_source"].shape == (300,)
    with pytest.raises(ValueError, match="give both or neither"):
        stitching_scores(train_b, train_labels, test_b, test_b, test_labels, train_a=train_b @ to_a)


def test_one_fit_scores_many_translators():
    train_b, train_labels = clusters(300, spread=3.0, seed=1)
    test_b, test_labels = clusters(300, spread=3.0, seed=2)
    classifier = fit_classifier(train_b, train_labels, seed=0)
    scaled = 7.0 * test_b  # rows are scaled to length 1 first: a translator off by a scale loses nothing
    correct = accuracy_per_text(classifier, scaled, test_labels)
    np.testing.assert_array_equal(correct, accuracy_per_text(classifier, test_b, test_labels))
    means, per_text = stitching_from_classifiers(classifier, test_b, scaled, test_labels)
    np.testing.assert_array_equal(per_text["stitch_correct"], correct)
    assert means == stitching_scores(train_b, train_labels, test_b, scaled, test_labels)[0]


def test_input_checks():
    vectors, labels = clusters(30)
    with pytest.raises(ValueError, match="one label per row"):
        fit_classifier(vectors, labels[:-1])
    with pytest.raises(ValueError, match="at least two classes"):
        fit_classifier(vectors, ["fresh"] * 30)
    with pytest.raises(ValueError, match="same shape"):
        stitching_scores(vectors, labels, vectors, vectors[:, :5], labels)


def test_retention_is_nan_when_the_native_accuracy_is_zero():
    train_b, train_labels = clusters(90, seed=1)
    test_b, _ = clusters(90, seed=2)
    wrong = ["none of these"] * 90  # labels the classifier never saw: nothing is ever right
    means, _ = stitching_scores(train_b, train_labels, test_b, test_b, wrong)
    assert means["stitch_accuracy_native"] == 0.0 and math.isnan(means["stitch_retention"])
