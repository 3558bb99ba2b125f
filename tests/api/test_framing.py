"""The API under its real server (`whoru api`, gunicorn) with clients that misbehave on the wire:
stalled connections, short and broken bodies, gunicorn's own errors, disagreeing digests, bad names."""

from __future__ import annotations

import json
import socket
from contextlib import ExitStack

import pytest
import requests

from tests.utils.jobs import PHOTOS, content_digest, keyed_client, make_zip, open_job
from tests.utils.services import ApiServer, free_port

BODY = make_zip({"one.jpg": (PHOTOS / "fr_obama_small.jpg").read_bytes()})


@pytest.fixture(scope="module")
def served_api(stack, tmp_path_factory):
    """Yield the URL of a real `whoru api` on the stack, on 127.0.0.1."""
    port = free_port()
    api = ApiServer({**stack.env, "WHORU_PORT": str(port)}, tmp_path_factory.mktemp("api") / "api.log").start()
    yield f"http://127.0.0.1:{port}", port
    api.stop(15)


@pytest.fixture()
def keyed(app, stack):
    """Return a keyed test client and its Authorization header line."""
    client = keyed_client(app, stack.database_url)
    return client, f"Authorization: {client.environ_base['HTTP_AUTHORIZATION']}\r\n"


def connect(port: int) -> socket.socket:
    """Return a connection to the API with a deadline on every read."""
    return socket.create_connection(("127.0.0.1", port), timeout=20)


def exchange(port: int, raw: bytes, close_write: bool = False) -> tuple[int, dict]:
    """Send raw bytes, optionally say no more will come, and return the status and JSON body of the answer."""
    with connect(port) as connection:
        connection.sendall(raw)
        if close_write:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), answer
    return int(head.split()[1]), json.loads(body)


def test_ten_stalled_connections_leave_healthz_answering(served_api):
    url, port = served_api
    with ExitStack() as stack:
        for _ in range(10):
            connection = stack.enter_context(connect(port))
            connection.sendall(b"GET /heal")
        assert requests.get(f"{url}/healthz", timeout=2).status_code == 200


def test_gunicorns_own_errors_are_json(served_api):
    _, port = served_api
    status, body = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
    assert status in (400, 431) and body["error"]["message"]
    status, body = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    assert status == 400 and body["error"]["message"]


def put_head(job_id: str, auth: str, extra: str) -> bytes:
    """Return the head of a PUT of part 0 of a job."""
    return (
        f"PUT /v1/jobs/{job_id}/parts/0 HTTP/1.1\r\nHost: x\r\n{auth}Content-Digest: {content_digest(BODY)}\r\n"
        f"Connection: close\r\n{extra}\r\n"
    ).encode()


def test_a_body_short_of_its_content_length_is_refused(served_api, keyed):
    client, auth = keyed
    job_id = open_job(client)["id"]
    status, body = exchange(
        served_api[1], put_head(job_id, auth, f"Content-Length: {len(BODY)}\r\n") + BODY[:100], close_write=True
    )
    assert (status, body["error"]["code"]) == (400, "short_body")
    assert client.get(f"/v1/jobs/{job_id}/parts").get_json()["parts"] == []


def test_a_malformed_chunk_is_refused(served_api, keyed):
    client, auth = keyed
    job_id = open_job(client)["id"]
    broken = put_head(job_id, auth, "Transfer-Encoding: chunked\r\n") + b"zz\r\nabc\r\n0\r\n\r\n"
    status, body = exchange(served_api[1], broken)
    assert (status, body["error"]["code"]) == (400, "bad_body")
    assert client.get(f"/v1/jobs/{job_id}/parts").get_json()["parts"] == []


@pytest.mark.parametrize(
    "headers",
    [
        "Content-Digest: {good}, sha-256=:{other}:\r\n",
        "Content-Digest: {good}\r\nContent-Digest: sha-256=:{other}:\r\n",
    ],
    ids=["one-header", "two-headers"],
)
def test_disagreeing_digests_are_refused(served_api, keyed, headers):
    client, auth = keyed
    job_id = open_job(client)["id"]
    other = content_digest(b"another body").split(":")[1]
    head = (
        f"PUT /v1/jobs/{job_id}/parts/0 HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n"
        f"Content-Length: {len(BODY)}\r\n" + headers.format(good=content_digest(BODY), other=other) + "\r\n"
    )
    status, body = exchange(served_api[1], head.encode() + BODY)
    assert status == 400 and "different sha-256" in body["error"]["message"]


def test_a_nul_in_a_name_is_refused(keyed):
    client, _ = keyed
    job_id = open_job(client)["id"]
    answer = client.put(
        f"/v1/jobs/{job_id}/parts/0",
        data=BODY,
        headers={
            "Content-Digest": content_digest(BODY),
            "Content-Disposition": "attachment; filename*=UTF-8''a%00b.zip",
        },
    )
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_name"
    assert client.get(f"/v1/jobs/{job_id}/parts").get_json()["parts"] == []


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        ("attachment; filename=\"__.zip\"; filename*=UTF-8''%E5%90%8D%E5%89%8D.zip", "名前.zip"),
        ('attachment; filename="名前.zip"'.encode().decode("latin-1"), "名前.zip"),
        ("attachment; filename=\"a_b.zip\"; filename*=UTF-8''a%22b.zip", 'a"b.zip'),
    ],
    ids=["rfc6266", "raw-utf8", "quoted"],
)
def test_a_name_is_kept_as_sent(keyed, disposition, name):
    client, _ = keyed
    job_id = open_job(client)["id"]
    answer = client.put(
        f"/v1/jobs/{job_id}/parts/0",
        data=BODY,
        headers={"Content-Digest": content_digest(BODY), "Content-Disposition": disposition},
    )
    assert answer.status_code == 201 and answer.get_json()["name"] == name
    assert client.get(f"/v1/jobs/{job_id}/parts").get_json()["parts"][0]["name"] == name
    client.delete(f"/v1/jobs/{job_id}")
