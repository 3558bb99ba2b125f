"""Callback URLs: only http(s) to public addresses, unless private ones are allowed."""

from __future__ import annotations

import pytest

from whoru.callback_urls import CallbackRefused, check_callback_url

REFUSED = [
    "http://127.0.0.1/hook",
    "http://localhost:8080/",
    "http://10.1.2.3/",
    "http://192.168.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fd00:ec2::254]/",
    "http://0.0.0.0/",
    "http://100.64.0.1/",
    # IPv6 addresses that carry a private IPv4 one: NAT64, 6to4, Teredo.
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[64:ff9b:1::a00:1]/",
    "http://[2002:a00:1::1]/",
    "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused(url):
    with pytest.raises(CallbackRefused, match="non-public"):
        check_callback_url(url, allow_private=False)


@pytest.mark.parametrize("url", REFUSED)
def test_the_setting_allows_private_addresses(url):
    check_callback_url(url, allow_private=True)


def test_a_public_address_is_allowed_and_named_for_the_connection():
    assert str(check_callback_url("https://93.184.215.14/hook", allow_private=False)) == "93.184.215.14"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "http:///nohost",
        "http://x:99999/",
        "https://" + "a" * 2000 + ".com/",
    ],
)
def test_other_urls_are_refused(url):
    with pytest.raises(CallbackRefused):
        check_callback_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://[::1]:8000/", "http://localhost/"])
def test_loopback_may_be_allowed_alone(url):
    check_callback_url(url, allow_private=False, allow_loopback=True)


@pytest.mark.parametrize("url", ["http://10.1.2.3/", "http://169.254.169.254/", "http://[64:ff9b::7f00:1]/"])
def test_allowing_loopback_allows_nothing_else(url):
    with pytest.raises(CallbackRefused, match="non-public"):
        check_callback_url(url, allow_private=False, allow_loopback=True)


def test_an_address_that_carries_a_public_ipv4_is_judged_by_it():
    assert str(check_callback_url("http://[64:ff9b::5db8:d70e]/", allow_private=False)) == "64:ff9b::5db8:d70e"
