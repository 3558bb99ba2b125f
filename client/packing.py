"""Turn the paths given to `whoru submit` into a job's parts, the same way every time.

`scan` lists what will be sent (names only, never contents) and what is skipped, before anything
is uploaded. `plan` cuts that list into parts by file sizes alone, and `build` writes one part at
a time to a temporary zip, so a second run over unchanged files rebuilds byte-identical parts
(same order, same boundaries, same zip headers) and `--resume` can compare digests.
"""

from __future__ import annotations

import os
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from whoru.client.http import ClientError
from whoru.image_names import IMAGE_EXTENSIONS, is_image_name
from whoru.local_files import file_sha256

ZIP_SUFFIX = ".zip"


@dataclass(frozen=True)
class PhotoFile:
    """One image file to pack, with its name in the job."""

    path: Path
    name: str
    size: int


@dataclass(frozen=True)
class Part:
    """One part: a zip archive named on the command line (sent as it is), or photos to pack."""

    n: int
    archive: Path | None = None
    photos: tuple[PhotoFile, ...] = ()

    @property
    def name(self) -> str:
        """Return the part's name on the server."""
        return self.archive.name if self.archive else f"part-{self.n:05d}.zip"

    @property
    def raw_bytes(self) -> int:
        """Return the size of the files the part is made of."""
        return self.archive.stat().st_size if self.archive else sum(photo.size for photo in self.photos)


@dataclass
class Scan:
    """What `whoru submit` found under its paths."""

    items: list[PhotoFile | Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def photos(self) -> int:
        """Return the number of image files to pack."""
        return sum(isinstance(item, PhotoFile) for item in self.items)

    @property
    def archives(self) -> int:
        """Return the number of zip archives to send as they are."""
        return len(self.items) - self.photos


def scan(paths: list[Path]) -> Scan:
    """List the images and zip archives under paths, in a stable order, and what is skipped and why.

    A folder's photos are named under the folder's name whenever anything else is in the job.
    """
    found = Scan()
    for path in paths:
        if path.is_dir():
            _scan_folder(path, path.resolve().name if len(paths) > 1 else "", found)
        elif path.suffix.lower() == ZIP_SUFFIX:
            found.items.append(path)
        elif is_image_name(path.name):
            found.items.append(PhotoFile(path, path.name, path.stat().st_size))
        else:
            found.skipped.append((path, "not an image or a zip archive"))
    return found


def duplicates(found: Scan) -> list[str]:
    """Return the job names that two or more files would share (the server refuses them; they are never merged).

    A zip's members are named under the zip's name, as the server names them.
    """
    counts = Counter(name for item in found.items for name in _job_names(item))
    return sorted(name for name, count in counts.items() if count > 1)


def _job_names(item: PhotoFile | Path) -> set[str]:
    """Return the names an item's images take in the job (a zip's member list is read, not its contents)."""
    if isinstance(item, PhotoFile):
        return {item.name}
    try:
        with zipfile.ZipFile(item) as archive:
            return {f"{item.name}/{member}" for member in archive.namelist()}
    except (zipfile.BadZipFile, OSError):
        # The server says what is wrong with it, for this zip alone.
        return {item.name}


def refuse_unsendable(found: Scan) -> None:
    """Refuse a scan with nothing to send, or with names two files would share (they are never merged)."""
    clash = duplicates(found)
    if clash:
        raise ClientError(
            f"{len(clash)} names would be shared by several files (e.g. {clash[0]!r}); "
            "give their folders instead, so each keeps its path"
        )
    if not found.items:
        kinds = ", ".join(extension.lstrip(".") for extension in IMAGE_EXTENSIONS)
        raise ClientError(f"nothing to submit: no images ({kinds}) or zip archives")


def _scan_folder(folder: Path, prefix: str, found: Scan) -> None:
    """Add a folder's images (names relative to it, under prefix) in sorted order; note what is skipped."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for file in sorted(files):
            path = Path(root, file)
            if not path.is_file():
                found.skipped.append((path, "not a regular file"))
            elif is_image_name(file):
                name = path.relative_to(folder).as_posix()
                found.items.append(PhotoFile(path, f"{prefix}/{name}" if prefix else name, path.stat().st_size))
            elif path.suffix.lower() == ZIP_SUFFIX:
                found.skipped.append((path, "a zip inside a folder (name it on the command line to send it)"))
            else:
                found.skipped.append((path, "not an image"))


def plan(items: list[PhotoFile | Path], max_bytes: int) -> Iterator[Part]:
    """Yield the parts, cutting the photos wherever the next would take a part past max_bytes."""
    n, batch, size = 0, [], 0
    for item in items:
        if isinstance(item, PhotoFile) and not (batch and size + item.size > max_bytes):
            batch.append(item)
            size += item.size
            continue
        if batch:
            yield Part(n, photos=tuple(batch))
            n, batch, size = n + 1, [], 0
        if isinstance(item, PhotoFile):
            batch, size = [item], item.size
        else:
            yield Part(n, archive=item)
            n += 1
    if batch:
        yield Part(n, photos=tuple(batch))


@contextmanager
def build(part: Part, folder: Path):
    """Yield the file holding a part (a temporary zip for photos) and its SHA-256; remove the temporary one after."""
    if part.archive is not None:
        yield part.archive, file_sha256(part.archive)
        return
    path = folder / part.name
    # Photos are already compressed: storing them is as small and much faster. A file dated before
    # 1980 (one unpacked from a tar that kept no time) is stored as of 1980 instead of failing the part.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True, strict_timestamps=False) as archive:
        for photo in part.photos:
            archive.write(photo.path, photo.name)
    try:
        yield path, file_sha256(path)
    finally:
        path.unlink(missing_ok=True)
