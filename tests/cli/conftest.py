"""Running `itsm` in-process against the test stores, and snapshots to prove nothing changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from itsm_tui.cli import cli
from itsm_tui.data.models import (
    AuditEvent,
    Change,
    Comment,
    Complaint,
    FulfilmentTask,
    Notification,
    NumberSequence,
    Outage,
    Requester,
    Survey,
    Ticket,
    TimeEntry,
)
from itsm_tui.data.store import Store
from tests.factories import NOW, Desk, build_desk

NOW_ISO = NOW.isoformat().replace("+00:00", "Z")


@pytest.fixture(autouse=True)
def login_is_the_agent_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process, your login is whoever `--as` names: acting as yourself, not impersonating.

    Tests of impersonation set the login themselves (`Itsm(login=…)`).
    """

    def login() -> str:
        ctx = click.get_current_context(silent=True)
        return (ctx.find_root().params.get("actor") if ctx else None) or "root"

    monkeypatch.setattr("itsm_tui.cli.env.login_name", login)


@dataclass
class Itsm:
    """`itsm --db <the test store> --as <agent> --now <NOW> …` run in-process."""

    store: Store
    agent: str = "alice"

    def __call__(
        self,
        *args: str,
        agent: str | None = None,
        input: str | bytes | None = None,
        login: str | None = None,
    ) -> Result:
        """`login`: run as this operating-system account (default: the agent itself)."""
        # The command runs as if alone, as it does from a shell: no pooled test connections.
        self.store.engine.dispose()
        argv = ["--db", self.store.url, "--as", agent or self.agent, "--now", NOW_ISO, *args]
        if login is None:
            return CliRunner().invoke(cli, argv, input=input, catch_exceptions=False)
        with mock.patch("itsm_tui.cli.env.login_name", return_value=login):
            return CliRunner().invoke(cli, argv, input=input, catch_exceptions=False)

    def ok(self, *args: str, agent: str | None = None, login: str | None = None) -> Result:
        result = self(*args, agent=agent, login=login)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str, agent: str | None = None, login: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", agent=agent, login=login).stdout)


@pytest.fixture
def itsm(desk: Desk) -> Itsm:
    return Itsm(desk.store)


@pytest.fixture
def itsm_sqlite(sqlite_store: Store) -> Itsm:
    """For what never reaches the database (usage errors): one backend is enough."""
    return Itsm(build_desk(sqlite_store).store)


def snapshot(store: Store) -> dict[str, Any]:
    """Every ticket row in full and the row count of every table a command writes."""
    with store.read() as session:
        tickets = [
            {c.name: getattr(t, c.key) for c in Ticket.__table__.columns}
            for t in session.scalars(select(Ticket).order_by(Ticket.id))
        ]
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (
                AuditEvent,
                Comment,
                Notification,
                Requester,
                Outage,
                Complaint,
                Survey,
                TimeEntry,
                Change,
                FulfilmentTask,
            )
        }
        sequences = {
            prefix: value
            for prefix, value in session.execute(
                select(NumberSequence.prefix, NumberSequence.last_value)
            )
        }
    return {"tickets": tickets, "counts": counts, "sequences": sequences}


def assert_refused(result: Result, code: int = 1, *, says: str = "") -> str:
    """Exit `code`, nothing on stdout, exactly one `itsm: …` line on stderr; returns it."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("itsm: "), lines[0]
    assert "Traceback" not in result.stderr
    assert says in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


Snapshot = Callable[[Store], dict[str, Any]]
