"""Which callback URLs the workers may call: http(s), and only public addresses unless settings allow others."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

MAX_LENGTH = 2000


class CallbackRefused(ValueError):
    """A callback URL that must not be called."""


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 and RFC 8215):
# a gateway delivers to that IPv4 address, so it is the one judged.
NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def check_callback_url(url: str, allow_private: bool, allow_loopback: bool = False) -> Address | None:
    """Raise CallbackRefused unless url is http(s) and its host resolves only to public (or allowed loopback) addresses.

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
        # Loopback means this machine: an IPv4 loopback address carried in IPv6 is some gateway's own.
        if not (allow_loopback and address.is_loopback or all(reached.is_global for reached in _reached(address))):
            raise CallbackRefused(f"callback_url resolves to a non-public address ({address})")
    return addresses[0]


def _reached(address: Address) -> list[Address]:
    """Return the address with every IPv4 address it carries (6to4, Teredo, NAT64): a connection may end at any."""
    if address.version == 4:
        return [address]
    carried = [address.sixtofour, *(address.teredo or ())]
    carried += [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) for network in NAT64 if address in network]
    return [address, *(a for a in carried if a is not None)]


def _addresses(host: str, port: int) -> list[Address]:
    """Return every address a host resolves to, IPv4-mapped IPv6 addresses unwrapped."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise CallbackRefused(f"callback_url host {host!r} does not resolve") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    # ::ffff:127.0.0.1 reaches 127.0.0.1; judge it as the IPv4 address it stands for.
    return [getattr(a, "ipv4_mapped", None) or a for a in addresses]
