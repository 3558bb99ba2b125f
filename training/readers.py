"""Read labelled face images (UTKFace, AAF, APPA-REAL) from a folder or a .tar, .tar.gz or .zip archive.

Each dataset encodes its labels in its file names, and each lacks some: AAF has no ethnicity,
APPA-REAL neither gender nor ethnicity. A missing label is `MISSING`, never guessed; the losses
and the figures leave it out.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MISSING = -1
# The folder an archive's members sit in names the dataset; anything else is read as UTKFace.
DATASETS = ("utkface", "aaf", "appa")
# Datasets of aligned face chips: a face the detector misses is still framed by the chip itself. The
# others are loose crops; their missed faces are left out of fitting, as serving never scores them.
ALIGNED_CHIPS = {"utkface"}
_FOLDERS = {"aaf": "aaf", "appa": "appa"}
# UTKFace: age_gender_race_datetime.jpg, optionally with the ".chip.jpg" suffix.
# AAF: age_gender_name.jpg. APPA-REAL: age_name.jpg (real age).
_NAMES = {
    "utkface": re.compile(
        r"^(?P<age>\d{1,3})_(?P<gender>[01])_(?P<ethnicity>[0-4])_\d+\.jpg(?:\.chip\.jpg)?$", re.IGNORECASE
    ),
    "aaf": re.compile(r"^(?P<age>\d{1,3})_(?P<gender>[01])_[0-9A-Za-z]+\.jpg$", re.IGNORECASE),
    "appa": re.compile(r"^(?P<age>\d{1,3})_[0-9A-Za-z]+\.jpg$", re.IGNORECASE),
}


@dataclass(frozen=True)
class Face:
    """One labelled image; gender and ethnicity are `MISSING` where the dataset has none."""

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
    dataset: str = "utkface"


def dataset_of(path: str) -> str:
    """Return which dataset's naming an archive member follows, from the folders above it."""
    folders = [part.lower() for part in PurePosixPath(path).parts[:-1]]
    return next((_FOLDERS[f] for f in folders if f in _FOLDERS), "utkface")


def parse_name(path: str, dataset: str | None = None) -> Face | None:
    """Return the labels encoded in a file name, or None if it is malformed."""
    base = PurePosixPath(path).name
    match = _NAMES[dataset or dataset_of(path)].match(base)
    if not match:
        return None
    labels = match.groupdict()
    age = int(labels["age"])
    gender, ethnicity = (int(labels[k]) if k in labels else MISSING for k in ("gender", "ethnicity"))
    return Face(base, age, gender, ethnicity) if 0 < age <= 116 else None


def iter_files(source: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (path, bytes) for every regular file in a folder or archive, in sorted order."""
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            yield path.relative_to(source.parent).as_posix(), path.read_bytes()
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


def is_image_name(path: str) -> bool:
    """Return True for names that look like images (not macOS metadata or text files)."""
    name = PurePosixPath(path).name
    return name.lower().endswith(".jpg") and not name.startswith("._")


def read_dataset(source: Path) -> Reading:
    """Parse every image name in a dataset, counting the ones that are malformed."""
    faces, skipped, seen = [], [], set()
    digest = hashlib.sha256()
    datasets = set()
    for path, data in iter_files(source):
        if not is_image_name(path):
            continue
        digest.update(_relative(path, source).encode() + b"\0" + hashlib.sha256(data).digest())
        dataset = dataset_of(path)
        datasets.add(dataset)
        face = parse_name(path, dataset)
        if face is None or face.name in seen:
            skipped.append(path)
            continue
        seen.add(face.name)
        faces.append(face)
    if len(datasets) > 1:
        raise ValueError(f"{source} mixes the namings of {sorted(datasets)}; give each dataset on its own")
    return Reading(faces, skipped, digest.hexdigest(), datasets.pop() if datasets else "utkface")


def _relative(path: str, source: Path) -> str:
    """Return a member's path as the archive or folder contents name it (so the hash ignores where a folder lies)."""
    return path.split("/", 1)[1] if source.is_dir() else path


def load_images(source: Path, names: set[str]) -> Iterator[tuple[str, bytes]]:
    """Yield (file name, bytes) of the named images in a dataset."""
    for path, data in iter_files(source):
        name = PurePosixPath(path).name
        if name in names:
            yield name, data
