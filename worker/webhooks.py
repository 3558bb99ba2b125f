"""Call a job's callback URL when the job ends: a POST of the job signed as Standard Webhooks says,
retried with exponential backoff until WHORU_WEBHOOK_MAX_AGE after the job ended."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import requests
from celery import shared_task
from sqlalchemy.exc import OperationalError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from whoru.callback_urls import CallbackRefused, check_callback_url
from whoru.db.jobs import counts
from whoru.db.webhooks import due, give_up, record_attempt
from whoru.keys import owner_secret
from whoru.logs import get_logger
from whoru.results import job_json
from whoru.settings import Settings
from worker import state

log = get_logger("worker")
# A receiver holds a worker process that could be analysing images: it gets 10 s to answer.
TIMEOUT_S = 10


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; the task is retried."""


# A waiting retry must come due before Redis' visibility timeout (twice WHORU_TASK_TIME_LIMIT plus
# a minute), or Redis hands it to a second worker as well: hence at most 10 minutes between
# attempts. WHORU_WEBHOOK_MAX_AGE, not a count, ends the retries.
@shared_task(name="whoru.webhooks.deliver", autoretry_for=(DeliveryFailed, OperationalError), retry_backoff=1,
             retry_backoff_max=600, retry_jitter=True, max_retries=None)
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
            log.warning("job=%s webhook given up after %d attempts", job_id, job.webhook_attempts)
            return
        url, body = job.callback_url, _payload(session, job)
        # The owner's key signs; the server-wide secret stands in for keys made before keys had one.
        secret = owner_secret(session, job.api_key_id) or process.settings.webhook_secret
    status, error = _post(url, f"msg_{job_id}", body, secret, process.settings)
    with process.sessions() as session:
        record_attempt(session, job_id, status, error)
        session.commit()
    log.info("job=%s webhook status=%s%s", job_id, status, f" error={error}" if error else "")
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
        check_callback_url(url, settings.webhook_allow_private)
        now = datetime.now(timezone.utc)
        headers = {"content-type": "application/json", "user-agent": "whoru-webhooks",
                   "webhook-id": message_id, "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(secret).sign(message_id, now, body)}
        response = requests.post(url, data=body.encode(), headers=headers, timeout=TIMEOUT_S, allow_redirects=False)
    except EmptyWebhookSecretError:
        # Retried rather than given up: once the setting is fixed, the delivery goes through.
        return None, "neither the job's key nor WHORU_WEBHOOK_SECRET gives a secret to sign with"
    except (CallbackRefused, requests.RequestException) as error:
        return None, f"{type(error).__name__}: {error}"[:500]
    return response.status_code, None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


def _age_s(moment: datetime) -> float:
    """Return seconds since a moment (SQLite hands back naive UTC datetimes)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return (datetime.now(timezone.utc) - moment).total_seconds()
