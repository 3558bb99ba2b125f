"""Fixtures for the web page: a real HTTP server of the API on the session stack, and a real browser."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.utils.browser import chromium


@pytest.fixture(scope="session")
def live_url(app):
    """Yield the URL of the API served over real HTTP (threaded, like gunicorn's workers) on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    """Yield one headless Chromium for every browser test (skipped where it is missing)."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """Return the folder where browser tests leave a screenshot of each page."""
    return tmp_path_factory.mktemp("screenshots")
