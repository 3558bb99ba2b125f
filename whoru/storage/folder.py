"""The folder store (`file://`): objects as files under one folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

from whoru.storage.store import Store


class FileStore(Store):
    """Objects as files under a folder, shared by the API and every worker (one machine, or NFS)."""

    def __init__(self, root: Path):
        self.root = root
        # Beside the objects, so that handing a spooled file over is a rename.
        self.incoming = root / "incoming"

    def location(self, key: str) -> str:
        """Return the file's absolute path, as rows always held: valid whatever WHORU_STORAGE_DIR its reader has."""
        return str(self._path(key))

    def _path(self, key: str) -> Path:
        """Return the file of a key, or of an absolute path (a location)."""
        return self.root / key

    def put_file(self, key: str, path: Path) -> None:
        """Move a local file into place."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write bytes beside the target, then rename them into place."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, target)

    def open(self, key: str) -> BinaryIO:
        """Open the file of a key."""
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        """Remove the file of a key."""
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        """Remove the folder a prefix ending in / names."""
        shutil.rmtree(self._path(prefix), ignore_errors=True)
