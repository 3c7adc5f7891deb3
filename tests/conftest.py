"""Fixtures shared by every test: stores on SQLite and on a throwaway PostgreSQL server.

`store` runs each test that uses it on both databases. A run where PostgreSQL
cannot start fails loudly under CI (CI=true); elsewhere it fails too unless
ITSM_TEST_SQLITE_ONLY=1 is set on purpose.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from itsm_tui.data.store import Store, open_store, sqlite_url
from tests.pg_server import PostgresServer, PostgresUnavailable

if TYPE_CHECKING:
    from tests.notify_servers import ChatServer, SmtpSink

SQLITE_ONLY = os.environ.get("ITSM_TEST_SQLITE_ONLY") == "1" and os.environ.get("CI") != "true"
BACKENDS = ["sqlite"] if SQLITE_ONLY else ["sqlite", "postgresql"]

# A test of what only PostgreSQL has (its functions, its planner's paths): it runs there
# alone instead of being skipped on SQLite.
postgresql_only = pytest.mark.parametrize(
    "db_url", [b for b in BACKENDS if b == "postgresql"], indirect=True
)
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL test server could not start: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database, fresh for this test, on each backend in turn."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "desk.db")
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"itsm_test_{os.getpid()}_{next(_db_counter)}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated once; tests get copies (migrating per test is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "desk.db"
    template = open_store(sqlite_url(path))
    template.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    """A PostgreSQL database migrated once; tests get CREATE DATABASE … TEMPLATE copies."""
    name = f"itsm_template_{os.getpid()}"
    template = open_store(pg_server.create_database(name))
    template.dispose()  # a template must have no open connections while it is copied
    return name


@pytest.fixture
def migrated_url(db_url: str, request: pytest.FixtureRequest) -> str:
    """Like db_url, but the database already holds the newest schema."""
    if db_url.startswith("sqlite"):
        target = Path(db_url.removeprefix("sqlite:///"))
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return db_url
    server: PostgresServer = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    name = f"itsm_test_{os.getpid()}_{next(_db_counter)}"
    return server.create_database(name, template=template)


@pytest.fixture
def sqlite_url_fresh(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "desk.db")


@pytest.fixture
def store(migrated_url: str) -> Iterator[Store]:
    """A store with the schema at the newest migration, on each backend."""
    s = open_store(migrated_url)
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture
def sqlite_store(sqlite_url_fresh: str) -> Iterator[Store]:
    s = open_store(sqlite_url_fresh)
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture
def desk(store: Store):  # type: ignore[no-untyped-def]
    """`store` with a small desk in it (tests/factories.py), on each backend."""
    from tests.factories import build_desk

    return build_desk(store)


@pytest.fixture
def fresh_desk(store: Store, tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A second store with the same small desk, on the same database as `store`
    (where an import lands, or an export is compared)."""
    from tests.factories import build_desk

    if store.is_sqlite:
        target = tmp_path / "fresh.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        url = sqlite_url(target)
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        name = f"itsm_fresh_{os.getpid()}_{next(_db_counter)}"
        url = server.create_database(name, template=request.getfixturevalue("pg_template"))
    other = open_store(url)
    try:
        yield build_desk(other)
    finally:
        other.dispose()


# The local servers notifications are delivered to (tests/notify_servers.py), one set-up for
# the store's and the CLI's notify tests; imported when asked for, so no other test loads
# aiohttp and aiosmtpd.
@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    """A local SMTP server: what it accepted, and its port."""
    from tests.notify_servers import smtp_server

    yield from smtp_server()


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    """A local server playing Slack, DingTalk, WeCom, Feishu and a webhook."""
    from tests.notify_servers import chat_server

    yield from chat_server()
