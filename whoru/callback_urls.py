"""Which callback URLs the workers may call: http(s), and only public addresses unless settings allow private ones."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

MAX_LENGTH = 2000


class CallbackRefused(ValueError):
    """A callback URL that must not be called."""


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_callback_url(url: str, allow_private: bool) -> Address | None:
    """Raise CallbackRefused unless url is http(s) and its host resolves only to public addresses.

    Return the checked address the caller must connect to (None where private ones are allowed):
    resolving the name again to connect would let its DNS answer differently the second time.
    """
    if len(url) > MAX_LENGTH:
        raise CallbackRefused(f"callback_url is longer than {MAX_LENGTH} characters")
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise CallbackRefused("callback_url has a bad port") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackRefused("callback_url must be an http or https URL with a host")
    if allow_private:
        return None
    addresses = _addresses(parts.hostname, port)
    for address in addresses:
        if not address.is_global:
            raise CallbackRefused(f"callback_url resolves to a non-public address ({address})")
    return addresses[0]


def _addresses(host: str, port: int) -> list[Address]:
    """Return every address a host resolves to, IPv4-mapped IPv6 addresses unwrapped."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise CallbackRefused(f"callback_url host {host!r} does not resolve") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    # ::ffff:127.0.0.1 reaches 127.0.0.1; judge it as the IPv4 address it stands for.
    return [getattr(a, "ipv4_mapped", None) or a for a in addresses]
