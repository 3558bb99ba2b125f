"""Page sizes are bounded by settings, and a page token only works for the listing that issued it."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.exceptions import BadRequest

from whoru.api.paging import decode_token, encode_token, page_size
from whoru.settings import Settings

APP = Flask(__name__)


@pytest.fixture()
def settings(tmp_path) -> Settings:
    """Return settings with a default page of 20 and at most 50."""
    return Settings.from_env({"WHORU_HOME": str(tmp_path), "WHORU_PAGE_SIZE": "20", "WHORU_MAX_PAGE_SIZE": "50"})


def size_for(query: str, settings: Settings) -> int:
    """Return the page size a request with this query string gets."""
    with APP.test_request_context(f"/?{query}"):
        return page_size(settings)


@pytest.mark.parametrize(("query", "size"), [("", 20), ("page_size=1", 1), ("page_size=50", 50)])
def test_page_size_defaults_and_bounds(settings, query, size):
    assert size_for(query, settings) == size


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page_size=0", "between 1 and 50"),
        ("page_size=51", "between 1 and 50"),
        ("page_size=ten", "must be an integer"),
    ],
)
def test_a_page_size_out_of_bounds_is_a_400(settings, query, message):
    with pytest.raises(BadRequest, match=message):
        size_for(query, settings)


def test_a_token_gives_back_its_value_in_its_own_scope():
    value = "2026-12-01T10:00:00+00:00|job-id"
    token = encode_token("jobs:7", value)
    assert value not in token and "jobs:7" not in token
    with APP.test_request_context():
        assert decode_token("jobs:7", token) == value


@pytest.mark.parametrize(
    ("scope", "token", "message"),
    [
        ("jobs:8", encode_token("jobs:7", "42"), "not issued for this listing"),
        ("results:7:a", encode_token("results:7:b", "42"), "not issued for this listing"),
        ("jobs:7", encode_token("jobs:7", ""), "not issued for this listing"),
        ("jobs:7", "%%%not base64", "not valid"),
        ("jobs:7", "//79", "not valid"),
    ],
)
def test_a_token_from_elsewhere_or_garbled_is_a_400(scope, token, message):
    with APP.test_request_context(), pytest.raises(BadRequest, match=message):
        decode_token(scope, token)
