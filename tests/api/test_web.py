"""The page and its files are served by the API itself, public, local and under a strict content security policy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from whoru.api import create_app
from whoru.image_names import IMAGE_EXTENSIONS

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"


@pytest.fixture()
def page_client(tmp_path):
    """Return a test client of an app that needs no database for its page."""
    return create_app(
        {"TESTING": True, "environ": {"WHORU_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}}
    ).test_client()


def test_the_page_is_public_and_forbids_everything_not_its_own(page_client):
    response = page_client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_every_file_the_page_loads_is_served_locally(page_client):
    html = page_client.get("/").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"#]+)"', html)
    scripts = [path.relative_to(STATIC).as_posix() for path in STATIC.glob("js/*.js")]
    assert sources and all(source.startswith("/static/") for source in sources), sources
    for path in [*sources, *(f"/static/{script}" for script in scripts)]:
        assert page_client.get(path).status_code == 200, path


def test_no_inline_script_style_or_html_from_strings():
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)
    for script in STATIC.glob("js/*.js"):
        code = script.read_text()
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", code), (
            script.name
        )


def test_every_module_a_script_imports_is_served(page_client):
    for script in STATIC.glob("js/*.js"):
        for module in re.findall(r'from "\./([^"]+)"', script.read_text()):
            assert page_client.get(f"/static/js/{module}").status_code == 200, (script.name, module)


def test_the_page_takes_its_image_extensions_from_the_server(page_client):
    response = page_client.get("/static/js/image-types.js")
    assert response.mimetype == "text/javascript"
    listed = json.loads(response.get_data(as_text=True).split("=", 1)[1].strip().rstrip(";"))
    assert listed == list(IMAGE_EXTENSIONS)
