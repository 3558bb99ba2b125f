"""Collect image files from paths and pack them into zip files of bounded size, on disk."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from whoru.storage import is_image_name


def collect(paths: list[Path]) -> list[tuple[Path, str]]:
    """Return (file, name in the job) for every image under the given files and folders."""
    found = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and is_image_name(p.name))
            found += [(file, file.relative_to(path).as_posix()) for file in files]
        elif path.is_file():
            found.append((path, path.name))
        else:
            raise FileNotFoundError(f"{path} does not exist")
    return found


def pack(files: list[tuple[Path, str]], folder: Path, max_bytes: int) -> Iterator[Path]:
    """Write the files into zip parts of at most about max_bytes each; yield each finished part."""
    part, size, archive = 0, 0, None
    for file, name in files:
        length = file.stat().st_size
        if archive is not None and size + length > max_bytes:
            archive.close()
            yield folder / f"part-{part:04d}.zip"
            part, size, archive = part + 1, 0, None
        if archive is None:
            archive = zipfile.ZipFile(folder / f"part-{part:04d}.zip", "w", zipfile.ZIP_STORED, allowZip64=True)
        # Photos are already compressed: storing them is as small and much faster.
        archive.write(file, name)
        size += length
    if archive is not None:
        archive.close()
        yield folder / f"part-{part:04d}.zip"
