"""The S3 store (AWS, MinIO, Ceph...): multipart uploads streamed from the spooled file, and reads
by ranged GETs through a seekable reader, so a zip's members are read without fetching the zip."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from whoru.storage.store import Store

MIB = 1024**2
# Parts of 16 MiB from 16 MiB up: a 20 GiB request is 1,280 parts, under S3's 10,000.
TRANSFER = TransferConfig(multipart_threshold=16 * MIB, multipart_chunksize=16 * MIB, max_concurrency=4)
# Each GET fetches at least this much: zip members are read in small pieces, in order.
READ_BUFFER = 1 * MIB


class S3Store(Store):
    """Objects in a bucket under a key prefix; credentials come the standard AWS way."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None, incoming: Path):
        self.bucket, self.prefix, self.incoming = bucket, f"{prefix}/" if prefix else "", incoming
        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def put_file(self, key: str, path: Path) -> None:
        """Upload a local file (in parts once it is large), then delete it."""
        self.client.upload_file(str(path), self.bucket, self.prefix + key, Config=TRANSFER)
        path.unlink()

    def put_bytes(self, key: str, data: bytes) -> None:
        """Put a small object in one request (S3 never shows half of it)."""
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def open(self, key: str) -> BinaryIO:
        """Return a buffered, seekable reader over the object."""
        return io.BufferedReader(RangedReader(self.client, self.bucket, self.prefix + key), READ_BUFFER)

    def read(self, key: str) -> bytes | None:
        """Return a small object's bytes in one GET, or None if there is none."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def delete(self, key: str) -> None:
        """Delete one object (S3 answers the same whether it existed or not)."""
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def delete_prefix(self, prefix: str) -> None:
        """Delete the objects under a prefix, a listing page (up to 1,000) per request."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})


class RangedReader(io.RawIOBase):
    """A seekable raw reader of one object: each read is a ranged GET."""

    def __init__(self, client, bucket: str, key: str):
        super().__init__()
        self.client, self.bucket, self.key, self.position = client, bucket, key, 0
        try:
            self.size = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(f"no object {key}") from error
            raise

    def readable(self) -> bool:
        """Say the object can be read."""
        return True

    def seekable(self) -> bool:
        """Say the reader can seek (zipfile needs it)."""
        return True

    def tell(self) -> int:
        """Return the position."""
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the position; no request is made until the next read."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:
        """Fill buffer from the position with one ranged GET; 0 at the end."""
        if self.position >= self.size or len(buffer) == 0:
            return 0
        last = min(self.position + len(buffer), self.size) - 1
        body = self.client.get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={self.position}-{last}")["Body"]
        data = body.read()
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)
