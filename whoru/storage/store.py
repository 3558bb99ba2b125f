"""The interface of a store: a flat namespace of immutable objects under string keys."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


class Store(ABC):
    """A flat namespace of immutable objects under string keys."""

    incoming: Path

    def location(self, key: str) -> str:
        """Return the name of an object that the database keeps (and every method here accepts)."""
        return key

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Store a finished local file under key; the local file is gone afterwards."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Store bytes under key, replacing any earlier object; readers never see half of it."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Return a seekable binary reader of an object; FileNotFoundError if there is none."""

    def read(self, key: str) -> bytes | None:
        """Return an object's bytes, or None if there is none."""
        try:
            with self.open(key) as file:
                return file.read()
        except FileNotFoundError:
            return None

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete one object, if it exists."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None:
        """Delete every object whose key starts with prefix."""

    @contextmanager
    def kept_if_committed(self, prefix: str):
        """Delete what the block stored under prefix unless the block (which records it in the database) succeeds."""
        try:
            yield
        except BaseException:
            self.delete_prefix(prefix)
            raise
