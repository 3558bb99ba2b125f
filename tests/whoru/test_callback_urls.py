"""Callback URLs: only http(s) to public addresses, unless private ones are allowed."""

from __future__ import annotations

import pytest

from whoru.callback_urls import CallbackRefused, check_callback_url

REFUSED = ["http://127.0.0.1/hook", "http://localhost:8080/", "http://10.1.2.3/", "http://192.168.0.1/",
           "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
           "http://[fd00:ec2::254]/", "http://0.0.0.0/", "http://100.64.0.1/"]


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused(url):
    with pytest.raises(CallbackRefused, match="non-public"):
        check_callback_url(url, allow_private=False)


@pytest.mark.parametrize("url", REFUSED)
def test_the_setting_allows_private_addresses(url):
    check_callback_url(url, allow_private=True)


def test_a_public_address_is_allowed_and_named_for_the_connection():
    assert str(check_callback_url("https://93.184.215.14/hook", allow_private=False)) == "93.184.215.14"


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "http:///nohost", "http://x:99999/",
                                 "https://" + "a" * 2000 + ".com/"])
def test_other_urls_are_refused(url):
    with pytest.raises(CallbackRefused):
        check_callback_url(url, allow_private=True)
