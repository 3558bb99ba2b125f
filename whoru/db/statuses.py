"""The statuses of jobs, images and webhook deliveries as the database stores them; only `lifecycle` changes a job's."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """Where a job stands; `open` is a separate flag, true until the job is closed."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class ImageStatus(StrEnum):
    """Where one image stands."""

    PENDING = "pending"
    DONE = "done"
    NO_FACE = "no_face"
    FAILED = "failed"


class WebhookStatus(StrEnum):
    """Where the delivery of a job's webhook stands: pending until its callback URL answers 2xx."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class PeopleStatus(StrEnum):
    """Where grouping a people job's faces stands; a people job succeeds only once they are grouped."""

    PENDING = "pending"
    GROUPING = "grouping"
    DONE = "done"


class ClosedBy(StrEnum):
    """Who closed a job."""

    CLIENT = "client"
    TIMEOUT = "timeout"


IN_FLIGHT = (JobStatus.QUEUED, JobStatus.RUNNING)
ENDED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)
