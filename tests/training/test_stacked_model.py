"""The served models load from their directories alone and give each face an age range."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.utils.jobs import PHOTOS
from whoru.faces.age import RangeRule, read_ages
from whoru.faces.head import StackedHead, softmax
from whoru.faces.model import FaceModel
from whoru.faces.pipeline import FacePipeline
from whoru.model_card import ModelCard
from whoru.runtime import configure_tensorflow
from whoru.settings import MODELS_DIR
from whoru.training.stack.features import _role_digests, assemble

MODELS = MODELS_DIR


@pytest.fixture(scope="module")
def default_pipeline() -> FacePipeline:
    """Load the served default model with the detector, as a worker does."""
    return FacePipeline.load(MODELS / "default", MODELS / "yunet")


def test_default_is_a_stack_of_networks_each_on_its_own_crop(default_pipeline):
    model = default_pipeline.model
    assert model.card.format == "stacked" and model.spec is None
    assert {name: spec.size for name, spec in model.inputs.items()} == {
        "cnn": 96,
        "age": 64,
        "gender": 32,
        "faceres": 224,
    }
    assert {spec.template for spec in model.inputs.values()} == {"utkface", "dlib5", "loose"}


def test_default_gives_every_face_an_age_range_around_its_age(default_pipeline):
    faces = [
        face
        for name in ("dlib_2008_001009.jpg", "dlib_2008_001322.jpg", "fr_obama_small.jpg")
        for face in default_pipeline.analyse(default_pipeline.decode((PHOTOS / name).read_bytes()))
    ]
    assert len(faces) == 6
    for face in faces:
        assert face.age_low is not None and face.age_high is not None
        assert face.age_low <= face.age <= face.age_high + 0.5
        assert 0 <= face.age_low < face.age_high <= 116
        assert abs(sum(face.ethnicity_probabilities) - 1) < 1e-4 and 0.5 <= face.gender_probability <= 1


def test_fast_is_the_former_default_network_fine_tuned_on_three_datasets():
    fast = json.loads((MODELS / "fast" / "card.json").read_text())
    assert fast["name"] == "fast" and fast["onnx_files"] == {"model": "model.int8.onnx"}
    assert fast["quantization"]["from"]["model"]["file"] == "model.onnx"
    assert "2026.11.29-default" in fast["model_details"]["description"]
    assert fast["training"]["finetuned_from"].startswith("fast 2026.12.06-fast")
    assert set(fast["training_data"]["datasets"]) == set(fast["quantitative_analysis"]["test_pipeline"])


def test_a_model_rejects_inputs_it_does_not_declare():
    model = FaceModel(MODELS / "fast")
    with pytest.raises(ValueError, match="expected inputs"):
        model.predict({"age": np.zeros((1, 64, 64, 3), np.uint8)})


def test_numpy_head_computes_what_the_keras_head_computes():
    configure_tensorflow()
    import keras

    from whoru.training.stack.head import head_arrays, make_head

    keras.utils.set_random_seed(3)
    net = make_head(20, 16, 0.3)
    x = np.random.default_rng(0).normal(size=(8, 20)).astype(np.float32)
    mean, std = x.mean(0), x.std(0) + 1e-6
    expected = net.predict_on_batch((x - mean) / std)
    one_member = {name: value[None] for name, value in head_arrays(net, mean, std).items()}
    age, gender, ethnicity = StackedHead(one_member, [], None).logits(x)
    np.testing.assert_allclose(softmax(age), expected["age"], atol=1e-5)
    np.testing.assert_allclose(1 / (1 + np.exp(-gender)), expected["gender"][:, 0], atol=1e-5)
    np.testing.assert_allclose(softmax(ethnicity), expected["ethnicity"], atol=1e-5)


def test_cached_network_outputs_are_keyed_by_which_networks_are_mirrored(tmp_path):
    """Outputs averaged with mirror images differ from plain ones, so a changed card must not reuse their cache."""
    card = assemble(tmp_path, MODELS / "fast" / "model.onnx", MODELS_DIR.parent)
    before = _role_digests(tmp_path)
    card.updated({"inference": {"mirror_average": ["age", "gender"]}}).save(tmp_path)
    after = _role_digests(tmp_path)
    assert after["cnn"] != before["cnn"] and {k: after[k] for k in ("age", "gender", "faceres")} == {
        k: before[k] for k in ("age", "gender", "faceres")
    }
    ModelCard.load(tmp_path).updated({"inference": {"mirror_average": card.inference.mirror_average}}).save(tmp_path)
    assert _role_digests(tmp_path) == before


def test_a_new_cnn_changes_only_its_own_cache_key(tmp_path):
    """Retraining our CNN must not throw away the other networks' outputs, the long part of the extraction."""
    assemble(tmp_path / "a", MODELS / "fast" / "model.onnx", MODELS_DIR.parent)
    assemble(tmp_path / "b", MODELS / "default" / "cnn.int8.onnx", MODELS_DIR.parent)
    a, b = _role_digests(tmp_path / "a"), _role_digests(tmp_path / "b")
    assert a["cnn"] != b["cnn"] and all(a[k] == b[k] for k in ("age", "gender", "faceres"))


# It fits heads and a blend: a training run, like the other integration tests of training.
@pytest.mark.slow
def test_the_blend_is_fitted_on_logits_of_heads_that_never_saw_those_faces():
    """Each validation half's logits must not depend on that half's own labels."""
    configure_tensorflow()
    from whoru.training.stack.fit import halves_of, out_of_fold_logits

    rng = np.random.default_rng(0)
    x_train, x_val = rng.normal(size=(64, 12)).astype(np.float32), rng.normal(size=(40, 12)).astype(np.float32)

    def labels(n: int) -> dict[str, np.ndarray]:
        return {"age": rng.integers(1, 90, n), "gender": rng.integers(0, 2, n), "ethnicity": rng.integers(0, 5, n)}

    y_train, y_val = labels(64), labels(40)
    halves = halves_of(40)
    before = out_of_fold_logits(x_train, y_train, x_val, y_val, halves, epochs=3)
    relabelled = {k: v.copy() for k, v in y_val.items()}
    relabelled["gender"][halves[0]] = 1 - relabelled["gender"][halves[0]]
    after = out_of_fold_logits(x_train, y_train, x_val, relabelled, halves, epochs=3)
    np.testing.assert_allclose(after[1][halves[0]], before[1][halves[0]], atol=1e-5)
    assert np.abs(after[1][halves[1]] - before[1][halves[1]]).max() > 1e-3


def test_the_gender_threshold_evens_out_the_groups_and_recentres_the_probability_on_it():
    from whoru.training.stack.fit import gender_threshold, recentred

    rng = np.random.default_rng(0)
    gender, ethnicity = rng.integers(0, 2, 6000), rng.integers(0, 5, 6000)
    # Men's logits lean towards female (mean -0.7 against women's +1.5): the midpoint is logit 0.4, P 0.60.
    female = 1 / (1 + np.exp(-rng.normal(np.where(gender == 1, 1.5, -0.7), 1.0)))
    threshold = gender_threshold(female, {"gender": gender, "ethnicity": ethnicity})
    assert 0.57 <= threshold <= 0.63
    men, women = (female[gender == 0] < 0.5).mean(), (female[gender == 1] >= 0.5).mean()  # read right
    men_after, women_after = (female[gender == 0] < threshold).mean(), (female[gender == 1] >= threshold).mean()
    assert abs(men_after - women_after) < abs(men - women) / 3 and men_after + women_after > men + women
    moved = recentred(female, threshold)
    np.testing.assert_array_equal(moved >= 0.5, female >= threshold)
    assert np.all(np.diff(moved[np.argsort(female)]) >= 0)


# It fits heads: a training run, like the other integration tests of training.
@pytest.mark.slow
def test_a_face_of_zero_weight_does_not_move_the_head():
    """Dataset weights reach the head's loss: a face weighted 0 may carry any label."""
    configure_tensorflow()
    from whoru.training.stack.fit import _targets
    from whoru.training.stack.head import refit_head

    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 12)).astype(np.float32)
    y = {"age": rng.integers(1, 90, 48), "gender": rng.integers(0, 2, 48), "ethnicity": rng.integers(0, 5, 48)}
    weights = np.where(np.arange(48) < 16, 0.0, 1.0).astype(np.float32)
    relabelled = {k: v.copy() for k, v in y.items()}
    relabelled["age"][:16] = 100 - relabelled["age"][:16]
    before = refit_head(x, _targets(y), 3, weights=weights)
    after = refit_head(x, _targets(relabelled), 3, weights=weights)
    np.testing.assert_allclose(after["w_age"], before["w_age"], atol=1e-5)
    heavier = refit_head(x, _targets(relabelled), 3, weights=np.ones(48, np.float32))
    assert np.abs(heavier["w_age"] - before["w_age"]).max() > 1e-3


def test_the_range_temperature_serves_each_dataset_not_only_the_largest():
    """One temperature for every photo: the one whose worst dataset is nearest 80%, not the pooled 80%."""
    from whoru.training.stack.fit import best_temperature

    rng = np.random.default_rng(0)
    ages = np.arange(117)
    n_big, n_small = 3000, 600
    truth = rng.integers(20, 70, n_big + n_small)
    # The small set's true ages lie further from the predicted centre than the large set's.
    spread = np.where(np.arange(n_big + n_small) < n_big, 4.0, 9.0)
    centre = truth + rng.normal(0, spread)
    distribution = np.exp(-0.5 * ((ages[None, :] - centre[:, None]) / 6.0) ** 2)
    distribution /= distribution.sum(axis=1, keepdims=True)
    groups = np.where(np.arange(n_big + n_small) < n_big, "big", "small")

    def coverage(t: float) -> dict[str, float]:
        reading = read_ages(distribution, RangeRule((), (t,)))
        inside = (reading.low <= truth) & (truth <= reading.high)
        return {g: float(inside[groups == g].mean()) for g in ("big", "small")}

    pooled, balanced = (
        coverage(best_temperature(distribution, truth)),
        coverage(best_temperature(distribution, truth, groups)),
    )
    assert max(abs(c - 0.8) for c in balanced.values()) < max(abs(c - 0.8) for c in pooled.values())
    assert balanced["big"] > 0.8 > balanced["small"]


def test_the_cnn_s_training_faces_include_those_of_the_network_it_was_fine_tuned_from(tmp_path):
    from whoru.training.stack.fit import cnn_trained_on

    cnn = tmp_path / "cnn"
    cnn.mkdir()
    (cnn / "split.json").write_text(json.dumps({"train": ["a", "b"], "val": ["c", "d"], "test": ["e"]}))
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"train": ["a"], "val": ["c"], "test": ["e"]}))
    assert cnn_trained_on(cnn, []) == {"a", "b", "c", "d"}
    assert cnn_trained_on(cnn, [earlier]) == {"a", "b", "c"}
