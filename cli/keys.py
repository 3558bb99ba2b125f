"""`whoru keys create|list|revoke|rotate-webhook-secret|path`."""

from __future__ import annotations

import click

from whoru.cli.db import open_session
from whoru.keys import create_key, list_keys, revoke_key, rotate_webhook_secret, webhook_secret
from whoru.settings import Settings


def _session():
    """Return a session on the configured database, or say clearly why there is none."""
    return open_session()


@click.group("keys")
def keys() -> None:
    """Manage API keys (every /v1 request needs `Authorization: Bearer KEY`)."""


@keys.command("create")
@click.argument("name")
def create(name: str) -> None:
    """Create a key and print it, with the secret that signs its jobs' webhooks; both are shown only this once."""
    with _session() as session:
        try:
            key = create_key(session, name)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        session.commit()
        secret = webhook_secret(session, name)
    click.echo(key)
    click.echo(f"webhook signing secret: {secret}", err=True)


@keys.command("rotate-webhook-secret")
@click.argument("name")
def rotate(name: str) -> None:
    """Replace a key's webhook signing secret and print the new one (shown only this once)."""
    with _session() as session:
        try:
            secret = rotate_webhook_secret(session, name)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        session.commit()
    click.echo(secret)


@keys.command("list")
def list_command() -> None:
    """List key names, creation times and whether they are revoked."""
    with _session() as session:
        for record in list_keys(session):
            state = f"revoked {record.revoked_at.isoformat()}" if record.revoked_at else "active"
            click.echo(f"{record.name}\t{record.created_at.isoformat()}\t{state}")


@keys.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke a key by name."""
    with _session() as session:
        try:
            revoke_key(session, name)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        session.commit()
    click.echo(f"revoked {name}")


@keys.command("path")
def path() -> None:
    """Print where `whoru serve` keeps this machine's key, which the CLI uses when given none ($WHORU_HOME/api-key)."""
    click.echo(Settings.from_env().local_key_file)
