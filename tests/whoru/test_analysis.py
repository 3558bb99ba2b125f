"""`whoru.analyze`: one photo in this process, the same faces as the service, a clear error for bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import whoru
from tests.conftest import MODEL
from tests.utils.jobs import PHOTOS, all_results, post_files, wait_job
from whoru.analysis import _detector, _pipeline

TRUTH = json.loads((PHOTOS / "faces.json").read_text())
GROUP = PHOTOS / "dlib_2008_001322.jpg"


def same_faces(ours: list[dict], theirs: list[dict]) -> None:
    """Assert two lists of API faces agree, up to the last digit a batch of another size can move."""
    assert len(ours) == len(theirs)
    for mine, other in zip(ours, theirs):
        assert (mine["age_bin"], mine["gender"]["label"], mine["ethnicity"]["label"]) == (
            other["age_bin"],
            other["gender"]["label"],
            other["ethnicity"]["label"],
        )
        assert np.allclose([*box(mine), mine["age"]], [*box(other), other["age"]], atol=0.11)
        assert np.allclose(mine["landmarks"], other["landmarks"], atol=0.11)
        assert np.allclose(probabilities(mine), probabilities(other), atol=2e-4)


def box(face: dict) -> list[float]:
    """Return a face's box as x, y, w, h."""
    return [face["box"][side] for side in "xywh"]


def probabilities(face: dict) -> list[float]:
    """Return a face's detection score, gender probability and ethnicity probabilities, in a fixed order."""
    ethnicity = face["ethnicity"]["probabilities"]
    return [face["detection_score"], face["gender"]["probability"], *(ethnicity[name] for name in sorted(ethnicity))]


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_every_form_of_a_photo_gives_the_same_faces(name):
    path = PHOTOS / name
    by_path = [face.to_dict() for face in whoru.analyze(path)]
    assert abs(len(by_path) - TRUTH[name]["faces"]) <= 1
    with path.open("rb") as file:
        forms = [str(path), path.read_bytes(), file, Image.open(path), np.asarray(Image.open(path).convert("RGB"))]
        for form in forms:
            assert [face.to_dict() for face in whoru.analyze(form)] == by_path, type(form)


def test_a_face_has_the_api_fields_and_typed_attributes():
    faces = whoru.analyze(GROUP)
    assert all(isinstance(face, whoru.Face) for face in faces)
    assert [face.w * face.h for face in faces] == sorted((face.w * face.h for face in faces), reverse=True)
    face = faces[0].to_dict()
    assert set(face) == {
        "box",
        "detection_score",
        "landmarks",
        "age",
        "age_bin",
        "age_range",
        "gender",
        "ethnicity",
        "person",
    }
    assert face["age_range"]["low"] <= face["age"] <= face["age_range"]["high"] + 0.5
    assert set(face["ethnicity"]["probabilities"]) == {"white", "black", "asian", "indian", "others"}
    assert len(face["landmarks"]) == 5


def test_a_pil_image_is_turned_upright_by_its_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise: stored turned the other way, it shows upright
    buffer = io.BytesIO()
    Image.open(GROUP).transpose(Image.Transpose.ROTATE_90).save(buffer, "JPEG", exif=exif, quality=95)
    from_bytes = [face.to_dict() for face in whoru.analyze(buffer.getvalue())]
    assert [face.to_dict() for face in whoru.analyze(Image.open(buffer))] == from_bytes
    upright = [face.to_dict() for face in whoru.analyze(GROUP)]
    assert np.allclose([box(face) for face in from_bytes], [box(face) for face in upright], atol=3)


def test_models_load_once_per_process():
    whoru.analyze(GROUP)
    pipeline, detector = _pipeline(MODEL), _detector()
    whoru.analyze(GROUP.read_bytes(), model=str(MODEL))
    assert _pipeline(MODEL) is pipeline and _detector() is detector and pipeline.detector is detector


def test_a_model_is_chosen_by_its_served_name():
    fast = whoru.analyze(GROUP, model="fast")
    assert len(fast) == TRUTH[GROUP.name]["faces"] and all(face.age_low is not None for face in fast)
    with pytest.raises(LookupError, match="unknown model 'nonesuch'"):
        whoru.analyze(GROUP, model="nonesuch")


def truncated() -> bytes:
    """Return the first half of a JPEG."""
    data = GROUP.read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "bad,code",
    [
        (b"", "empty_file"),
        (b"this is not an image", "not_an_image"),
        (truncated(), "corrupt_image"),
        (PHOTOS / "missing.jpg", "unreadable_entry"),
        (PHOTOS, "unreadable_entry"),
        (42, "unsupported_type"),
        (np.zeros((32, 32), dtype=np.uint8), "unsupported_type"),
        (np.zeros((32, 32, 3), dtype=np.float32), "unsupported_type"),
        (np.zeros((0, 0, 3), dtype=np.uint8), "empty_file"),
        (io.StringIO("text"), "unsupported_type"),
    ],
)
def test_bad_input_raises_the_documented_error_with_the_api_code(bad, code):
    with pytest.raises(whoru.ImageError) as raised:
        whoru.analyze(bad)
    assert raised.value.code == code and str(raised.value)


def test_a_bad_photo_loses_nothing_else():
    with pytest.raises(whoru.ImageError):
        whoru.analyze(truncated())
    assert len(whoru.analyze(GROUP)) == TRUTH[GROUP.name]["faces"]


def test_importing_the_package_loads_no_model_library():
    code = (
        "import sys, whoru, whoru.settings, whoru.db.schema; "
        "print(sorted({'cv2', 'onnxruntime', 'client'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_service_reports_the_same_faces(client):
    photos = sorted(TRUTH)
    response = post_files(client, [(name, (PHOTOS / name).read_bytes()) for name in photos])
    job = wait_job(client, response.get_json()["id"])
    assert job["status"] == "succeeded"
    served = {image["name"]: image["faces"] for image in all_results(client, job["id"])}
    for name in photos:
        path = PHOTOS / name
        for form in (path, path.read_bytes(), Image.open(path), np.asarray(Image.open(path).convert("RGB"))):
            same_faces([face.to_dict() for face in whoru.analyze(form, model=str(MODEL))], served[name])
