"""Helpers that drive the API the way a client does."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
import zipfile
from pathlib import Path

from tests.utils.waiting import wait_until
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.keys import create_key, webhook_secret

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PHOTOS = FIXTURES / "photos"


def keyed_client(app, database_url: str, name: str | None = None):
    """Return a test client that sends a fresh API key with every request; it knows the key's name and secret."""
    engine = make_engine(database_url)
    name = name or f"test-{uuid.uuid4().hex[:8]}"
    with make_sessionmaker(engine)() as session:
        key = create_key(session, name)
        session.commit()
        secret = webhook_secret(session, name)
    engine.dispose()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    client.key_name, client.webhook_secret = name, secret
    return client


def make_zip(entries: dict[str, bytes]) -> bytes:
    """Return a zip archive holding the given names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def post_files(client, files: list[tuple[str, bytes]]):
    """POST files as multipart 'file' parts."""
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/v1/jobs", data=data, content_type="multipart/form-data")


def wait_job(client, job_id: str, timeout: float = 180, until=("succeeded", "failed", "canceled")) -> dict:
    """Poll a job until it reaches one of the given statuses."""

    def reached() -> dict | None:
        job = client.get(f"/v1/jobs/{job_id}").get_json()
        return job if job["status"] in until else None

    return wait_until(reached, timeout, 0.3, lambda: f"job {job_id}: {client.get(f'/v1/jobs/{job_id}').get_json()}")


def all_results(client, job_id: str, page_size: int = 2) -> list[dict]:
    """Return every image result by following page tokens."""
    images, token = [], None
    while True:
        query = f"?page_size={page_size}" + (f"&page_token={token}" if token else "")
        page = client.get(f"/v1/jobs/{job_id}/results{query}").get_json()
        images += page["images"]
        token = page["next_page_token"]
        if not token:
            return images


def content_digest(data: bytes) -> str:
    """Return the RFC 9530 Content-Digest header value of a body."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


def open_job(client) -> dict:
    """Open a job and return it."""
    response = client.post("/v1/jobs", json={"open": True})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def put_part(
    client, job_id: str, n: int, data: bytes, digest: str | None = None, name: str = "part.zip", packed: bool = False
):
    """PUT part n of a job with its Content-Digest (or the one given); packed, a zip's members keep their own names."""
    headers = {
        "Content-Digest": digest or content_digest(data),
        "Content-Disposition": f'attachment; filename="{name}"',
    }
    return client.put(
        f"/v1/jobs/{job_id}/parts/{n}" + ("?packed=true" if packed else ""),
        data=data,
        headers=headers,
        content_type="application/octet-stream",
    )
