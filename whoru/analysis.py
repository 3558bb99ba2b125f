"""Analyse one photo in this process with the worker's pipeline and settings: no Redis, no database.

The detector and each model are loaded on first use and kept for the life of the process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

from whoru.faces.detector import FaceDetector
from whoru.faces.face import Face
from whoru.faces.images import ImageError, to_rgb
from whoru.faces.model import FaceModel
from whoru.faces.photo import Photo
from whoru.faces.pipeline import FacePipeline
from whoru.served_models import served_models
from whoru.settings import Settings, get_settings

ImageInput = str | os.PathLike | bytes | BinaryIO | Image.Image | np.ndarray
DEFAULT = "default"


@dataclass(frozen=True)
class PhotoFaces:
    """A photo's upright size in pixels and its faces, largest first."""

    width: int
    height: int
    faces: list[Face]
    model_version: str


def analyze(image: ImageInput, model: str = DEFAULT) -> list[Face]:
    """Return the faces of one photo, largest first, as the service reports them.

    `image` is a path, the bytes of an image file, a file object open for binary reading, a PIL
    image or an RGB array (height x width x 3, uint8). A file is decoded as the service decodes
    it (EXIF orientation applied); a PIL image is turned upright by its own EXIF orientation.
    `model` is "default" (WHORU_MODEL), a model the service serves by name (WHORU_MODELS), or a
    model folder. Raises ImageError, whose `code` is the API's, for input that is not a usable
    image, and LookupError for a model that is not there.
    """
    return analyze_photo(image, model).faces


def analyze_photo(image: ImageInput, model: str = DEFAULT) -> PhotoFaces:
    """Return a photo's size and faces; `analyze` says what it takes and raises."""
    settings = get_settings()
    pipeline = _pipeline(_model_folder(model, settings))
    photo = _photo(image, pipeline, settings)
    faces = [face.rounded() for face in pipeline.analyse(photo, settings.classify_batch)]
    return PhotoFaces(*photo.size, faces, pipeline.model.version)


def _model_folder(model: str, settings: Settings) -> Path:
    """Return the folder of the model named, as the service would pick it, or of a model folder given."""
    if model == DEFAULT:
        return settings.model
    served = served_models(settings)
    if model in served:
        return served[model].directory
    if (Path(model) / "card.json").is_file():
        return Path(model).resolve()
    raise LookupError(f"unknown model {model!r}: this installation serves {', '.join(served)}, or give a model folder")


@cache
def _pipeline(model_folder: Path) -> FacePipeline:
    """Load a model's pipeline once per process, on the one detector."""
    return FacePipeline(_detector(), FaceModel(model_folder, get_settings().threads))


@cache
def _detector() -> FaceDetector:
    """Load the detector once per process, as workers configure it."""
    settings = get_settings()
    return FaceDetector(settings.detector, settings.detect_score, settings.detect_max_side, settings.threads)


def _photo(image: ImageInput, pipeline: FacePipeline, settings: Settings) -> Photo:
    """Decode an image given in any of the accepted forms."""
    if isinstance(image, np.ndarray):
        return Photo.of_pixels(_checked_rgb(image))
    if isinstance(image, Image.Image):
        return Photo.of_pixels(_upright_rgb(image))
    if isinstance(image, (str, os.PathLike)):
        data = _read_file(Path(image))
    elif isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
    elif hasattr(image, "read"):
        data = image.read()
    else:
        raise ImageError(
            "unsupported_type",
            f"cannot analyse a {type(image).__name__}: give a path, bytes, "
            "a binary file object, a PIL image or an RGB array",
        )
    if not isinstance(data, bytes):
        raise ImageError("unsupported_type", "the file object gave text: open the image in binary mode ('rb')")
    if len(data) > settings.max_image_bytes:
        raise ImageError(
            "too_large",
            f"the image is {len(data)} bytes; the limit is {settings.max_image_bytes} (WHORU_MAX_IMAGE_BYTES)",
        )
    return pipeline.decode(data, settings.max_image_pixels)


def _read_file(path: Path) -> bytes:
    """Read an image file, turning a missing or unreadable file into an ImageError."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise ImageError("unreadable_entry", f"the file could not be read: {error}") from error


def _checked_rgb(array: np.ndarray) -> np.ndarray:
    """Return an array the detector can take, or say what an RGB array must look like."""
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ImageError(
            "unsupported_type",
            f"an array must be RGB, height x width x 3 of uint8; got shape {array.shape} of {array.dtype}",
        )
    if array.size == 0:
        raise ImageError("empty_file", "the array holds no pixels")
    return np.ascontiguousarray(array)


def _upright_rgb(image: Image.Image) -> np.ndarray:
    """Return a PIL image's pixels as upright RGB, failing as a file would if they cannot be loaded."""
    try:
        return np.asarray(to_rgb(ImageOps.exif_transpose(image)))
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError("corrupt_image", f"the image could not be decoded: {error}") from error
