"""A real S3 endpoint on loopback for tests: moto's standalone server, a process of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3

from tests.utils.services import free_port
from tests.utils.waiting import answers, wait_until

# moto accepts any credentials; boto3 needs some, read the standard AWS way.
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def start_moto_server(log: Path, timeout: float = 30) -> tuple[subprocess.Popen, str]:
    """Start moto's S3 server on a free port; return the process and its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: answers(f"{url}/moto-api/", process),
            timeout,
            describe=lambda: f"moto server did not start:\n{log.read_text(errors='replace')[-2000:]}",
        )
    except BaseException:
        process.kill()
        raise
    return process, url


def s3_client(endpoint_url: str):
    """Return a boto3 S3 client of the endpoint."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        **{
            "aws_access_key_id": AWS_ENV["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
            "region_name": AWS_ENV["AWS_DEFAULT_REGION"],
        },
    )


def keys(endpoint_url: str, bucket: str, prefix: str = "") -> list[str]:
    """Return every key in a bucket under a prefix."""
    pages = s3_client(endpoint_url).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]
