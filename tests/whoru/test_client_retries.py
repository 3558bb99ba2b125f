"""The client rides out a server that dies halfway through an answer."""

from __future__ import annotations

import json
import socket
import threading

import pytest
import requests

from whoru.client.http import RETRY, Client

BODY = json.dumps({"parts": [{"n": 0}]}).encode()


class CuttingServer:
    """A loopback HTTP server whose first `cuts` answers stop after their headers."""

    def __init__(self, cuts: int):
        self.cuts, self.requests = cuts, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            connection, _ = self.listener.accept()
            with connection:
                connection.recv(65536)
                self.requests += 1
                head = (
                    f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
                )
                connection.sendall(head if self.requests <= self.cuts else head + BODY)


def quick_client(server: CuttingServer) -> Client:
    """Return a client of the server that backs off for milliseconds, not seconds."""
    client = Client(server.url, "key")
    for session in (client.http, client.first):
        session.get_adapter("http://").max_retries = RETRY.new(total=3, backoff_factor=0.01)
    return client


def test_an_answer_cut_off_after_its_headers_is_asked_for_again():
    server = CuttingServer(cuts=2)
    assert quick_client(server).parts("job") == [{"n": 0}]
    assert server.requests == 3


def test_a_server_that_keeps_cutting_its_answers_fails_the_call_once_the_retries_are_spent():
    server = CuttingServer(cuts=100)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        quick_client(server).parts("job")
    assert server.requests == 4


def test_a_part_whose_answer_was_cut_off_is_sent_again_from_its_start(tmp_path):
    server, part, counted = CuttingServer(cuts=1), tmp_path / "part", []
    part.write_bytes(bytes(1000))
    record = quick_client(server).put_part("job", 0, part, "00" * 32, "part", progress=counted.append)
    assert record == {"parts": [{"n": 0}]} and server.requests == 2
    assert sum(counted) == 1000
