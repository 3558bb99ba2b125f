"""Where uploads and previews are kept: one interface, a folder (`file://`) or a bucket (`s3://`).

Objects are named by keys such as `jobs/<job id>/00000.bin` and `previews/<job id>/3.jpg`; the
API and the workers use keys (and the locations the store gives for them) only, never paths.
Request bodies are spooled to a local folder first (`incoming`) to be hashed and checked, then
handed over with `put_file`. The modules here import nothing of whoru's but its settings.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from whoru.settings import Settings
from whoru.storage.folder import FileStore
from whoru.storage.store import Store


def open_store(settings: Settings) -> Store:
    """Return the store WHORU_STORAGE_URL names (WHORU_STORAGE_DIR's folder by default), one per process."""
    return _store(settings.storage_url or settings.storage_dir.as_uri(), settings.s3_endpoint_url, settings.storage_dir)


@lru_cache(maxsize=4)
def _store(url: str, endpoint_url: str, scratch: Path) -> Store:
    """Build a store from its URL (cached: an S3 client is slow to make and safe to share across threads)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileStore(Path(parts.path))
    if parts.scheme == "s3":
        from whoru.storage.s3 import S3Store

        return S3Store(parts.netloc, parts.path.strip("/"), endpoint_url or None, scratch / "incoming")
    raise ValueError(f"WHORU_STORAGE_URL={url!r} must start with file:// or s3://")
