"""A face without a gender or ethnicity label adds nothing to those losses and figures, and is never guessed."""

from __future__ import annotations

import numpy as np

from whoru.runtime import configure_tensorflow
from whoru.training.accuracy import figures, signed_error_by_band
from whoru.training.readers import MISSING
from whoru.training.targets import one_hot


def test_a_missing_ethnicity_is_a_row_of_zeros():
    rows = one_hot(np.array([2, MISSING, 0]), 5)
    np.testing.assert_array_equal(rows.sum(axis=1), [1, 0, 1])
    assert rows[0, 2] == 1 and rows[2, 0] == 1


def test_masked_losses_are_zero_for_missing_labels_and_unchanged_otherwise():
    configure_tensorflow()
    import keras

    from whoru.training.compile import masked_binary_crossentropy, masked_categorical_crossentropy

    gender = np.array([[1.0], [MISSING], [0.0]], np.float32)
    p = np.array([[0.3], [0.9], [0.2]], np.float32)
    loss = keras.ops.convert_to_numpy(masked_binary_crossentropy(gender, p, label_smoothing=0.0))
    np.testing.assert_allclose(loss, [-np.log(0.3), 0.0, -np.log(0.8)], rtol=1e-4)
    ethnicity = one_hot(np.array([1, MISSING]), 5)
    q = np.full((2, 5), 0.2, np.float32)
    loss = keras.ops.convert_to_numpy(masked_categorical_crossentropy(ethnicity, q, label_smoothing=0.0))
    np.testing.assert_allclose(loss, [-np.log(0.2), 0.0], rtol=1e-4)


def test_figures_measure_each_label_on_the_faces_that_have_it():
    age = np.array([10, 30, 50, 70])
    gender, ethnicity = np.array([1, MISSING, 0, MISSING]), np.array([MISSING] * 4)
    female = np.array([0.9, 0.9, 0.9, 0.1])
    got = figures(
        age, gender, ethnicity, age + 2.0, np.zeros(4, int), female, np.full((4, 5), 0.2), age - 5.0, age + 5.0
    )
    assert got["gender_accuracy"] == 0.5 and got["ethnicity_accuracy"] is None and got["age_mae"] == 2.0


def test_the_signed_error_is_reported_by_true_age_band():
    bands = signed_error_by_band(np.array([5, 16, 40, 70]), np.array([7.0, 21.0, 37.0, 70.0]))
    assert bands["0-12"] == {"n": 1, "mean_signed_error": 2.0} and bands["13-20"]["mean_signed_error"] == 5.0
    assert bands["36-50"]["mean_signed_error"] == -3.0 and bands["51-65"] == {"n": 0, "mean_signed_error": None}


def test_photo_degradations_keep_a_face_a_face():
    configure_tensorflow()
    import tensorflow as tf

    from whoru.training.degrade import _blur, _jpeg, _low_resolution, degrade

    face = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    for _ in range(10):
        out = degrade(tf.constant(face))
        assert out.shape == face.shape and out.dtype == tf.uint8
    smooth = _blur(tf.constant(face, tf.float32)).numpy()
    assert smooth.std() < face.std() and abs(smooth.mean() - face.mean()) < 5
    assert _low_resolution(tf.constant(face, tf.float32)).shape == face.shape
    assert not np.array_equal(_jpeg(tf.constant(face)).numpy(), face)
