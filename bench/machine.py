"""What the machine was doing while a bench ran: figures from a shared machine need it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def load_avg() -> float:
    """The 1-minute load average: how many processes wanted a core, besides the bench."""
    return round(os.getloadavg()[0], 2)


@contextlib.contextmanager
def database(db: str | None, store: str | None, tmp: Path, name: str) -> Iterator[str]:
    """The database URL a bench runs on: `db` 'pg' starts a throwaway PostgreSQL server
    (tests/pg_server.py) with a database `name`, stopped after; another `db` is a URL used
    as it is; else the SQLite file `store`, or `name`.db in `tmp`."""
    if db == "pg":
        from tests.pg_server import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            yield server.create_database(f"{name}_{os.getpid()}")
        finally:
            server.stop()
    elif db:
        yield db
    else:
        from itsm_tui.data.store import sqlite_url

        yield sqlite_url(Path(store) if store else tmp / f"{name}.db")
