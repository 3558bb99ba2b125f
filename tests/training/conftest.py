"""A model trained for one epoch on the committed fixture chips, shared by the training tests."""

from __future__ import annotations

import pytest

from tests.utils.jobs import FIXTURES
from whoru.runtime import configure_tensorflow


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """Train both architectures for one epoch; return their model directories."""
    configure_tensorflow()
    from whoru.training.train import train

    root = tmp_path_factory.mktemp("models")
    return {arch: _train(train, root, arch) for arch in ("default", "seed")}


def _train(train, root, arch):
    """Train one architecture and return its directory."""
    out = root / f"smoke-{arch}"
    train(FIXTURES / "utkface", arch, out, epochs=1, resume=False, cache_dir=root / "cache")
    return out
