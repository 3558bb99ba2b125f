"""Call a job's callback URL when the job ends: a POST of the job signed as Standard Webhooks says,
retried with exponential backoff until WHORU_WEBHOOK_MAX_AGE after the job ended."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

import urllib3
from celery import shared_task
from sqlalchemy.exc import OperationalError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from whoru.callback_urls import Address, CallbackRefused, check_callback_url
from whoru.db.jobs import counts
from whoru.db.webhooks import due, give_up, record_attempt
from whoru.keys import owner_secret
from whoru.logs import get_logger, job_field
from whoru.results import job_json
from whoru.settings import Settings
from whoru.worker import state

log = get_logger("worker")
# A receiver holds a worker process that could be analysing images: it gets 10 s to answer.
TIMEOUT_S = 10


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; the task is retried."""


# A waiting retry must come due before Redis' visibility timeout (twice WHORU_TASK_TIME_LIMIT plus
# a minute), or Redis hands it to a second worker as well: hence at most 10 minutes between
# attempts. WHORU_WEBHOOK_MAX_AGE, not a count, ends the retries. No jitter: Celery's draws each
# wait anywhere from 0 to the backoff, so attempts came milliseconds apart; 1, 2, 4 ... s is what
# receivers are promised.
@shared_task(
    name="whoru.webhooks.deliver",
    autoretry_for=(DeliveryFailed, OperationalError),
    retry_backoff=1,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=None,
)
def deliver_webhook(job_id: str) -> None:
    """POST an ended job to its callback URL, once it answers 2xx; the webhook-id is the same on every attempt."""
    process = state.get()
    with process.sessions() as session:
        job = due(session, job_id)
        if job is None:
            return
        if _age_s(job.finished_at) > process.settings.webhook_max_age:
            give_up(session, job_id, "not delivered within WHORU_WEBHOOK_MAX_AGE")
            session.commit()
            log.warning("webhook given up after %d attempts", job.webhook_attempts, extra=job_field(job_id))
            return
        url, body = job.callback_url, _payload(session, job)
        # The owner's key signs; the server-wide secret stands in for keys made before keys had one.
        secret = owner_secret(session, job.api_key_id) or process.settings.webhook_secret
    status, error = _post(url, f"msg_{job_id}", body, secret, process.settings)
    with process.sessions() as session:
        record_attempt(session, job_id, status, error)
        session.commit()
    log.info("webhook status=%s%s", status, f" error={error}" if error else "", extra=job_field(job_id))
    if error is not None:
        raise DeliveryFailed(error)


def _payload(session, job) -> str:
    """Return the job object as JSON, without its delivery state, so every attempt sends the same body."""
    view = job_json(job, counts(session, job.id))
    view.pop("webhook")
    return json.dumps(view, separators=(",", ":"))


def _post(url: str, message_id: str, body: str, secret: str, settings: Settings) -> tuple[int | None, str | None]:
    """POST a signed body; return the receiver's status and an error unless it answered 2xx."""
    try:
        # Checked again at each attempt: the host may have been pointed at a private address since.
        address = check_callback_url(url, settings.webhook_allow_private, settings.webhook_allow_loopback)
        now = datetime.now(timezone.utc)
        headers = {
            "content-type": "application/json",
            "user-agent": "whoru-webhooks",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, now, body),
        }
        status = post_to(url, address, body.encode(), headers)
    except EmptyWebhookSecretError:
        # Retried rather than given up: once the setting is fixed, the delivery goes through.
        return None, "neither the job's key nor WHORU_WEBHOOK_SECRET gives a secret to sign with"
    except (CallbackRefused, urllib3.exceptions.HTTPError) as error:
        return None, f"{type(error).__name__}: {error}"[:500]
    return status, None if 200 <= status < 300 else f"HTTP {status}"


def post_to(url: str, address: Address | None, body: bytes, headers: dict[str, str]) -> int:
    """POST to url through the given address (by its name when None), no redirects, no retries; return the status.

    TLS still checks the certificate against the URL's host name, and Host names it too.
    """
    parts = urlsplit(url)
    https = parts.scheme == "https"
    tls = {"server_hostname": parts.hostname, "assert_hostname": parts.hostname} if https else {}
    pool_class = urllib3.HTTPSConnectionPool if https else urllib3.HTTPConnectionPool
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {**headers, "host": parts.netloc.rpartition("@")[2]}
    if parts.username is not None:
        headers.update(
            urllib3.util.make_headers(basic_auth=f"{unquote(parts.username)}:{unquote(parts.password or '')}")
        )
    with pool_class(str(address or parts.hostname), parts.port, timeout=TIMEOUT_S, retries=False, **tls) as pool:
        return pool.urlopen("POST", target, body=body, headers=headers, redirect=False, assert_same_host=False).status


def _age_s(moment: datetime) -> float:
    """Return seconds since a moment."""
    return (datetime.now(timezone.utc) - moment).total_seconds()
