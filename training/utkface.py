"""Read UTKFace images and their labels from a folder or a .tar, .tar.gz or .zip archive."""

from __future__ import annotations

import hashlib
import re
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# age_gender_race_datetime.jpg, optionally with UTKFace's ".chip.jpg" suffix.
_NAME = re.compile(r"^(\d{1,3})_([01])_([0-4])_(\d+)\.jpg(?:\.chip\.jpg)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Face:
    """One labelled UTKFace image."""

    name: str
    age: int
    gender: int
    ethnicity: int


@dataclass
class Reading:
    """The labelled images of a dataset and the names that could not be parsed."""

    faces: list[Face]
    skipped: list[str]
    sha256: str


def parse_name(path: str) -> Face | None:
    """Return the labels encoded in a UTKFace file name, or None if it is malformed."""
    base = PurePosixPath(path).name
    match = _NAME.match(base)
    if not match:
        return None
    age, gender, ethnicity = (int(match.group(i)) for i in (1, 2, 3))
    return Face(base, age, gender, ethnicity) if 0 < age <= 116 else None


def iter_files(source: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (path, bytes) for every regular file in a folder or archive, in sorted order."""
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            yield path.relative_to(source).as_posix(), path.read_bytes()
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                if not info.is_dir():
                    yield info.filename, archive.read(info)
    elif tarfile.is_tarfile(source):
        with tarfile.open(source) as archive:
            for member in archive:
                if member.isfile():
                    yield member.name, archive.extractfile(member).read()  # type: ignore[union-attr]
    else:
        raise ValueError(f"{source} is neither a folder nor a .tar, .tar.gz or .zip archive")


def is_utkface_jpeg(path: str) -> bool:
    """Return True for names that look like images (not macOS metadata or text files)."""
    name = PurePosixPath(path).name
    return name.lower().endswith(".jpg") and not name.startswith("._")


def read_dataset(source: Path) -> Reading:
    """Parse every image name in a dataset, counting the ones that are malformed."""
    faces, skipped, seen = [], [], set()
    digest = hashlib.sha256()
    for path, data in iter_files(source):
        if not is_utkface_jpeg(path):
            continue
        digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
        face = parse_name(path)
        if face is None or face.name in seen:
            skipped.append(path)
            continue
        seen.add(face.name)
        faces.append(face)
    return Reading(faces, skipped, digest.hexdigest())


def load_images(source: Path, names: set[str]) -> Iterator[tuple[str, bytes]]:
    """Yield (file name, bytes) of the named images in a dataset."""
    for path, data in iter_files(source):
        name = PurePosixPath(path).name
        if name in names:
            yield name, data
