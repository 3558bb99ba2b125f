"""Photos decoded once, whole: the detector's copy scaled right, upright full-size boxes, crops with pixels enough."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from tests.utils.jobs import FIXTURES, PHOTOS
from whoru.faces import images as images_module
from whoru.faces.align import InputSpec, face_input
from whoru.faces.detector import FaceDetector
from whoru.faces.face import Detection
from whoru.faces.images import decode_image, upright
from whoru.faces.photo import Photo, map_detection, orientation_matrix
from whoru.settings import MODELS_DIR

DETECTOR = FaceDetector(MODELS_DIR / "yunet")
SPEC = InputSpec(96, "rgb")
ONE = {"face": SPEC}
# The fixture photo upscaled to a phone photo's width: detection then runs on a reduced decode.
UPRIGHT = Image.open(PHOTOS / "dlib_2008_001009.jpg").convert("RGB").resize((3024, 4032), Image.Resampling.BICUBIC)
STORED = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def encode(image: Image.Image, fmt: str, orientation: int = 1, **options) -> bytes:
    """Return the upright image stored as a camera would for an EXIF orientation, in a format."""
    stored = image if STORED[orientation] is None else image.transpose(STORED[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, fmt, exif=exif, **options)
    return buffer.getvalue()


def boxes(faces: list[Detection]) -> np.ndarray:
    """Return the boxes, left to right."""
    return np.array(sorted(face.box for face in faces))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matrix_moves_pixels_as_exif_transpose_does(orientation):
    stored = np.zeros((3, 5), np.uint8)
    stored[0, 1] = 255
    image = Image.fromarray(stored)
    image.getexif()[0x0112] = orientation
    image.info["exif"] = image.getexif().tobytes()
    y, x = np.argwhere(np.asarray(ImageOps.exif_transpose(image)) == 255)[0]
    moved = orientation_matrix(orientation, 5, 3) @ [1.5, 0.5, 1]
    assert tuple(moved[:2]) == (x + 0.5, y + 0.5)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_turns_pixels_as_exif_transpose_does(orientation):
    stored = np.arange(5 * 3 * 3, dtype=np.uint8).reshape(3, 5, 3)
    image = Image.fromarray(stored)
    image.getexif()[0x0112] = orientation
    image.info["exif"] = image.getexif().tobytes()
    assert np.array_equal(upright(stored, orientation), np.asarray(ImageOps.exif_transpose(image)))


def test_map_detection_keeps_boxes_positive():
    face = Detection((10.0, 20.0, 30.0, 40.0), np.array([[15.0, 30.0]] * 5), 0.9)
    turned = map_detection(face, orientation_matrix(6, 100, 200))
    assert turned.box == (140.0, 10.0, 40.0, 30.0) and tuple(turned.landmarks[0]) == (170.0, 15.0)


@pytest.mark.parametrize("orientation", [1, 2, 3, 5, 6, 8])
def test_jpeg_boxes_are_in_upright_full_resolution_pixels(orientation):
    data = encode(UPRIGHT, "JPEG", orientation, quality=92)
    photo = Photo.decode(data, 1024)
    # 4032 / 4 = 1008 px, padded to the detector's 1024-px grid: the same input cells as 1024.
    assert photo.scale == 4 and max(photo.rgb.shape[:2]) == 1008 and photo.size == UPRIGHT.size
    # Against the full image shrunk to the same 1008 px: YuNet's boxes move by up to 29 px of
    # 4032 between any two input sizes 1.6% apart (992 to 1056 px), so only equal sizes compare.
    expected = boxes(FaceDetector(MODELS_DIR / "yunet", max_side=1008).detect(np.asarray(UPRIGHT)))
    found = boxes([photo.to_full(face) for face in DETECTOR.detect(photo.rgb)])
    assert len(found) == len(expected) == 2
    assert np.abs(found - expected).max() < 12  # pixels of a 4032-pixel image


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_other_formats_decode_whole_with_upright_boxes(fmt):
    small = UPRIGHT.resize((1200, 1600))
    photo = Photo.decode(encode(small, fmt, 6), 1024)
    assert photo.scale == 1 and photo.size == small.size and photo.rgb.shape[:2] == (1600, 1200)
    found = boxes([photo.to_full(face) for face in DETECTOR.detect(photo.rgb)])
    assert np.abs(found - boxes(DETECTOR.detect(np.asarray(small)))).max() < 6


def test_small_jpeg_is_decoded_whole():
    photo = Photo.decode(encode(UPRIGHT.resize((750, 1000)), "JPEG", 3), 1024)
    assert photo.scale == 1 and photo.size == (750, 1000)
    assert np.array_equal(photo.rgb, decode_image(encode(UPRIGHT.resize((750, 1000)), "JPEG", 3)))


def test_only_a_photo_larger_than_the_detector_side_is_decoded_the_fast_way():
    small = encode(UPRIGHT.resize((750, 1000)), "JPEG")
    with Image.open(io.BytesIO(small)) as image:
        assert np.array_equal(Photo.decode(small, 1024).frame, np.asarray(image.convert("RGB")))
    large = encode(UPRIGHT, "JPEG")
    with Image.open(io.BytesIO(large)) as image:
        exact = np.asarray(image.convert("RGB")).astype(int)
    moved = np.abs(Photo.decode(large, 1024).frame.astype(int) - exact)
    assert 0 < moved.mean() < 2 and moved.max() <= 16


def test_a_jpeg_just_short_of_the_grid_is_decoded_at_the_next_finer_scale():
    photo = Photo.decode(encode(UPRIGHT.resize((2904, 3872)), "JPEG", 1), 1024)  # 3872 / 4 = 968: a 992-px grid
    assert photo.scale == 2 and photo.rgb.shape[:2] == (1936, 1452)


@pytest.mark.parametrize("orientation", [8, 7])
def test_every_face_is_cropped_from_the_one_decode_with_pixels_enough(monkeypatch, orientation):
    canvas = Image.new("RGB", (4032, 3024), (120, 130, 140))
    chip = Image.open(sorted((FIXTURES / "utkface").glob("*.jpg"))[0]).convert("RGB")
    for side, corner in ((1400, (2200, 800)), (360, (1000, 400)), (160, (1000, 1800))):
        canvas.paste(chip.resize((side, side)), corner)
    data = encode(canvas, "JPEG", orientation, quality=92)
    decodes = []
    decode_jpeg = images_module.simplejpeg.decode_jpeg
    monkeypatch.setattr(
        images_module.simplejpeg,
        "decode_jpeg",
        lambda *args, **options: decodes.append(args) or decode_jpeg(*args, **options),
    )
    photo = Photo.decode(data, 1024)
    faces = sorted(DETECTOR.detect(photo.rgb), key=lambda face: -face.area)
    assert photo.scale == 4 and len(faces) == 3
    # The large face has pixels enough in the detector's copy, the middle one at half size, the small one only in full.
    assert [photo.source_scale(face, SPEC) for face in faces] == [4, 2, 1] and sorted(photo.levels) == [1, 2, 4]
    large = InputSpec(512, "rgb", "loose")
    assert photo.source_scale(faces[0], large) < 4
    crops = photo.face_inputs(faces, {"small": SPEC, "large": large})
    assert len(decodes) == 1 and [len(c) for c in crops.values()] == [3, 3]
    # A turn keeps the frame as stored; a mirror turns it upright, as no crop can undo one.
    assert photo.frame.shape[:2] == ((4032, 3024) if orientation == 8 else (3024, 4032))
    full = decode_image(data)
    for face, crop in zip(faces, crops["small"]):
        reference = face_input(full, photo.to_full(face).landmarks, SPEC)
        assert np.abs(crop.astype(int) - reference.astype(int)).mean() < 3
