"""The gunicorn worker `whoru api` runs: gthread, except that a slow or stalled client costs a
connection, not a thread, and gunicorn's own errors are JSON like every other.

gthread hands each new connection to a thread, which then blocks until the request head has
arrived: ten clients that send half a request line and stop hold every thread of two workers.
Here the worker's event loop reads request heads itself and queues a connection only once its
head is complete; a head that takes longer than HEAD_TIMEOUT_S is dropped. A body that stops for
BODY_IDLE_S fails its read, which the app answers with a 400, and a body the app does not read is
not waited for. docs/deploying.md says why this and a buffering reverse proxy, not an async
worker class.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from functools import partial

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

HEAD_TIMEOUT_S = 10.0
BODY_IDLE_S = 30
# A body the app did not read (a 401, a 429 before the upload) is drained for this long at most,
# then the connection is closed: gthread's 5 s let trickling clients hold every thread.
DRAIN_S = 0.1
# A closed connection lingers this long for the client to close its side (RFC 9112 9.6), in the
# event loop: gthread lingers in it too, but blocking it, for 2 s per stalled client.
LINGER_S = 2.0
# Past this many bytes without a blank line the head is handed over anyway: the parser refuses it
# (431) with gunicorn's own limits on the request line and headers.
HEAD_LIMIT = 64 * 1024
HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


class Conn(TConn):
    """A connection that keeps the request head read so far, and whose graceful close is left to the event loop."""

    head: bytes = b""
    linger: Callable[["Conn"], None]

    def close(self, graceful: bool = False) -> None:
        """Close now, or half-close and let the event loop finish."""
        if graceful:
            self.linger(self)
        else:
            super().close()


class HeadFirstWorker(ThreadWorker):
    """A gthread worker whose threads only ever see connections with a whole request head."""

    def __init__(self, *args, **kwargs):
        """Make a gthread worker with an empty list of lingering connections."""
        super().__init__(*args, **kwargs)
        self.lingering: deque[Conn] = deque()

    def init_process(self) -> None:
        """Answer gunicorn's own errors (malformed request lines and headers, 431) in JSON, then run."""
        util.write_error = write_json_error
        super().init_process()

    def accept(self, listener) -> None:
        """Accept a connection and wait for its request head in the event loop."""
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        # A blocking read of the body then fails after this long without a byte.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", BODY_IDLE_S, 0))
        conn = Conn(self.cfg, client, address, listener.getsockname())
        conn.linger = self._linger
        self._await_head(conn)

    def on_client_socket_readable(self, conn: Conn, client) -> None:
        """Wait for the next request head of a kept-alive connection the same way."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_head(conn)

    def _keepalive_after(self, conn: Conn, keepalive: bool) -> bool:
        """Keep a connection for another request only if what is left of its body arrives at once."""
        return keepalive and bool(conn.parser.finish_body(deadline=time.monotonic() + DRAIN_S))

    def murder_pending(self) -> None:
        """Close the connections past their head or linger deadline."""
        super().murder_pending()
        now = time.monotonic()
        while self.lingering and self.lingering[0].timeout <= now:
            self._unlinger(self.lingering[0])

    def _linger(self, conn: Conn) -> None:
        """Half-close a finished connection and drop what the client still sends until it closes."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            util.close(conn.sock)
            return
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + LINGER_S
        self.lingering.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._drop_input, conn))

    def _drop_input(self, conn: Conn, client) -> None:
        """Discard bytes from a lingering connection; close it once the client has closed its side."""
        try:
            if client.recv(65536):
                return
        except BlockingIOError:
            return
        except OSError:
            pass
        self._unlinger(conn)

    def _unlinger(self, conn: Conn) -> None:
        """Close a lingering connection for good."""
        self.lingering.remove(conn)
        self.poller.unregister(conn.sock)
        util.close(conn.sock)

    def _await_head(self, conn: Conn) -> None:
        """Read a connection's request head as it arrives, without a thread; drop it after HEAD_TIMEOUT_S."""
        conn.sock.setblocking(False)
        conn.head = b""
        conn.timeout = time.monotonic() + HEAD_TIMEOUT_S
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn: Conn, client) -> None:
        """Take what has arrived; queue the connection once its head is whole, close it if the client left."""
        try:
            data = client.recv(HEAD_LIMIT)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        conn.head += data
        if data and not any(end in conn.head for end in HEAD_ENDS) and len(conn.head) < HEAD_LIMIT:
            return
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        if not data:
            self.nr_conns -= 1
            conn.close()
            return
        conn.init()
        conn.parser.unreader.unread(conn.head)
        conn.data_ready = True
        self.enqueue_req(conn)


def write_json_error(client, status: int, reason: str, message: str) -> None:
    """Write one of gunicorn's own error responses as whoru's JSON error body."""
    code = reason.lower().replace(" ", "_")
    body = json.dumps({"error": {"code": code, "message": message or reason}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(client, head.encode("latin-1") + body)
