"""Fixtures: a real Redis, SQLite and PostgreSQL databases, a real Celery worker with the real model."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.utils.browser import chromium
from tests.utils.jobs import keyed_client
from tests.utils.services import (
    ROOT,
    Worker,
    create_postgres_database,
    drop_postgres_database,
    start_embedded_redis,
    stop_embedded_redis,
)
from whoru.api import create_app
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.db.migrate import upgrade

MODEL = Path(os.environ.get("WHORU_TEST_MODEL", ROOT / "models" / "default"))
# Fixtures that bring up part of a real stack (a server database, Redis, a worker, a server, a
# browser, an S3 server, a trained model): a test that needs one is in the slow tier.
REAL_STACK_FIXTURES = frozenset(
    {
        "database_url",
        "redis_url",
        "own_redis_url",
        "stack",
        "deployment",
        "serve",
        "browser",
        "endpoint",
        "trained",
    }
)
# Where every test runs real processes: workers, the bench's stack, whole training runs.
INTEGRATION_PATHS = ("worker/", "whoru/test_bench.py", "training/test_train_and_evaluate.py")


def pytest_collection_modifyitems(items):
    """Mark `slow` every test that uses a real-stack fixture or lives in an integration file."""
    tests = Path(__file__).parent
    for item in items:
        where = item.path.relative_to(tests).as_posix()
        if where.startswith(INTEGRATION_PATHS) or REAL_STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@dataclass
class Stack:
    """A migrated database, a broker and a running worker, with the environment that names them."""

    env: dict[str, str]
    worker: Worker
    database_url: str


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """Yield a Redis URL: WHORU_TEST_REDIS_URL if set, else an embedded redis-server of our own."""
    if os.environ.get("WHORU_TEST_REDIS_URL"):
        yield os.environ["WHORU_TEST_REDIS_URL"]
        return
    server, url = start_embedded_redis(tmp_path_factory.mktemp("redis"))
    yield url
    stop_embedded_redis(server)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request, tmp_path_factory):
    """Yield a fresh, migrated database of each kind; PostgreSQL only where WHORU_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'whoru.db'}"
        upgrade(url)
        yield url
        return
    admin = os.environ.get("WHORU_TEST_POSTGRES_URL")
    if not admin:
        pytest.skip("PostgreSQL case skipped: set WHORU_TEST_POSTGRES_URL to run it")
    url = create_postgres_database(admin)
    upgrade(url)
    yield url
    drop_postgres_database(admin, url)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """Return a SQLite file migrated once, as the app migrates it, for tests to copy."""
    path = tmp_path_factory.mktemp("migrated") / "whoru.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture()
def sessions(migrated_sqlite, tmp_path):
    """Yield a session factory on a fresh copy of the migrated SQLite database: no server, no worker."""
    path = tmp_path / "whoru.db"
    shutil.copyfile(migrated_sqlite, path)
    engine = make_engine(f"sqlite:///{path}")
    yield make_sessionmaker(engine)
    engine.dispose()


def stack_env(database_url: str, redis_url: str, storage: Path, **extra: str) -> dict[str, str]:
    """Return the process environment of a test deployment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHORU_")}
    env.update(
        {
            "WHORU_DATABASE_URL": database_url,
            "WHORU_REDIS_URL": redis_url,
            "WHORU_STORAGE_DIR": str(storage),
            "WHORU_MODEL": str(MODEL),
            "WHORU_TASK_IMAGES": "2",
            "WHORU_WORKER_CONCURRENCY": "1",
            **extra,
        }
    )
    return env


@pytest.fixture(scope="session")
def stack(database_url, redis_url, tmp_path_factory):
    """Yield a deployment with one real worker process for one database backend."""
    folder = tmp_path_factory.mktemp("stack")
    env = stack_env(database_url, redis_url, folder / "storage")
    worker = Worker(env, folder / "worker.log").start()
    yield Stack(env, worker, database_url)
    worker.stop()


@pytest.fixture(scope="session")
def app(stack):
    """Return the API app configured for the stack."""
    return create_app({"TESTING": True, "environ": stack.env})


@pytest.fixture()
def client(app, stack):
    """Return a test client of the API with an API key of its own."""
    return keyed_client(app, stack.database_url)


@pytest.fixture(scope="session")
def browser():
    """Yield one headless Chromium for every browser test: Playwright's sync API runs one per process."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """Return the folder where browser tests leave a screenshot of each page."""
    return tmp_path_factory.mktemp("screenshots")
