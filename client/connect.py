"""Which service and key a client uses: those given, else WHORU_SERVER and WHORU_API_KEY, else the key
`whoru serve` saved in WHORU_HOME. The CLI and `whoru.Client` both connect here."""

from __future__ import annotations

from whoru.client.http import Client, ClientError
from whoru.settings import Settings


def connect(server: str | None = None, api_key: str | None = None) -> Client:
    """Return a client of the server and key given, or of those the environment and home folder name."""
    settings = Settings.from_env()
    return Client(server or settings.server, api_key or settings.api_key or _saved_key(settings))


def _saved_key(settings: Settings) -> str:
    """Return the key `whoru serve` saved; say where it looked if there is none."""
    path = settings.local_key_file
    if not path.exists():
        raise ClientError(
            f"no API key: none given with --api-key or WHORU_API_KEY, and none at {path}, "
            "where `whoru serve` keeps one (set WHORU_HOME if the service uses another folder)"
        )
    return path.read_text().strip()
