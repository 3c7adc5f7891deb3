"""The desk the SLA tests run on: the shipped default desk plus four agents.

- tia: tier-1 agent in "Service Desk";
- sue: supervisor of "Service Desk" (the lowest tier, so also the desk manager);
- eve: agent in "Desktop Support", the escalation team of "Service Desk";
- dan: supervisor of "Desktop Support".

Times are built in the desk's zone (Asia/Shanghai, UTC+8, no DST) and passed as
`now=`; nothing here reads the wall clock. The default business calendar works
Mon–Fri 09:00–12:00 and 13:30–18:00 (450 minutes a day).

`sweep_worker` is the body of one sweeper process of the concurrency tests; it
lives here, not in the test module, so that a spawned child imports little.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.config import apply_config, default_desk_text, load_desk_text
from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    DeskSetting,
    Escalation,
    Notification,
    SlaClock,
    Team,
    Ticket,
)
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import create_ticket
from itsm_tui.desk.records import get_agent, get_ticket
from itsm_tui.escalation.sweep import SweepResult, sweep

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock instant in Shanghai, as the UTC datetime the store gives back."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


# Configuration is applied before any ticket exists.
SETUP = local(2026, 11, 2, 8, 0)

AGENTS = """
[[agents]]
username = "tia"
name = "Tia Tier-one"
team = "Service Desk"
roles = ["agent"]

[[agents]]
username = "sue"
name = "Sue Supervisor"
team = "Service Desk"
roles = ["agent", "supervisor"]

[[agents]]
username = "eve"
name = "Eve Escalation"
team = "Desktop Support"
roles = ["agent"]

[[agents]]
username = "dan"
name = "Dan Desktop-supervisor"
team = "Desktop Support"
roles = ["agent", "supervisor"]
"""


def desk_text(base: str | None = None) -> str:
    """The default desk file with supervisors for the first two tiers and the agents above."""
    text = default_desk_text() if base is None else base
    text = text.replace(
        'escalation_team = "Desktop Support"',
        'escalation_team = "Desktop Support"\nsupervisor = "sue"',
        1,
    )
    text = text.replace(
        'escalation_team = "Infrastructure Engineering"',
        'escalation_team = "Infrastructure Engineering"\nsupervisor = "dan"',
        1,
    )
    assert 'supervisor = "sue"' in text and 'supervisor = "dan"' in text
    return text + AGENTS


def build_sla_desk(store: Store, text: str | None = None) -> None:
    """Apply `text` (default: `desk_text()`) to the empty store."""
    config = load_desk_text(text if text is not None else desk_text(), "desk.toml")
    with store.write() as session:
        apply_config(session, config, now=SETUP)


# One desk per backend is built per test run, then copied for each test: a SQLite file
# copy, a PostgreSQL `CREATE DATABASE … TEMPLATE`. Same content as building it anew.
_templates: dict[str, str] = {}
_copies = itertools.count()


def desk_store(request: Any, tmp_path: Path) -> Iterator[Store]:
    """Body of a fixture parametrised over the backends: a fresh store holding the desk."""
    backend = request.param
    if backend == "sqlite":
        if backend not in _templates:
            folder = request.getfixturevalue("tmp_path_factory").mktemp("sla-desk")
            template = open_store(sqlite_url(folder / "desk.db"))
            build_sla_desk(template)
            template.dispose()  # the last connection checkpoints the WAL into the file
            _templates[backend] = str(folder / "desk.db")
        shutil.copyfile(_templates[backend], tmp_path / "desk.db")
        url = sqlite_url(tmp_path / "desk.db")
    else:
        server = request.getfixturevalue("pg_server")
        if backend not in _templates:
            name = f"itsm_sla_template_{os.getpid()}"
            template = open_store(server.create_database(name))
            build_sla_desk(template)
            template.dispose()  # a template database must have no connections
            _templates[backend] = name
        name = f"itsm_sla_{os.getpid()}_{next(_copies)}"
        url = server.create_database(name, template=_templates[backend])
    store = open_store(url, upgrade=False)
    try:
        yield store
    finally:
        store.dispose()


def set_response_met_by(store: Store, *ways: str) -> None:
    with store.write() as session:
        session.merge(DeskSetting(key="sla", value={"response_met_by": list(ways)}))


def create(
    store: Store,
    at: datetime,
    *,
    impact: int,
    urgency: int,
    type: str = "incident",
    actor: str = "tia",
    **kwargs: Any,
) -> str:
    """Open a ticket at `at`; its number."""
    with store.write() as session:
        ticket = create_ticket(
            session,
            get_agent(session, actor),
            type=type,
            title=f"{type} opened {at.isoformat()}",
            impact=impact,
            urgency=urgency,
            now=at,
            **kwargs,
        )
        return ticket.number


def clocks(store: Store, number: str) -> dict[str, SlaClock]:
    with store.read() as session:
        ticket = get_ticket(session, number)
        rows = session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id)).all()
        for row in rows:
            _ = row.policy and row.policy.calendar  # loaded for clock_view after the session
        return {row.kind: row for row in rows}


def ticket(store: Store, number: str) -> Ticket:
    with store.read() as session:
        row = get_ticket(session, number)
        _ = row.team, row.assignee
        return row


def run_sweep(store: Store, now: datetime) -> SweepResult:
    with store.write() as session:
        return sweep(session, now)


def agent_id(session: Session, username: str) -> int:
    return get_agent(session, username).id


def team_id(session: Session, name: str) -> int:
    found = session.scalar(select(Team.id).where(Team.name == name))
    assert found is not None
    return found


def escalation_rows(session: Session) -> list[tuple[str, str, str, int]]:
    """(ticket number, clock kind, event kind, level) of every escalation row, in id order."""
    return [
        tuple(r)  # type: ignore[misc]
        for r in session.execute(
            select(Ticket.number, SlaClock.kind, Escalation.kind, Escalation.level)
            .join(SlaClock, SlaClock.id == Escalation.clock_id)
            .join(Ticket, Ticket.id == Escalation.ticket_id)
            .order_by(Escalation.id)
        )
    ]


def notification_rows(session: Session) -> list[tuple[str | None, str | None, str, str, datetime]]:
    """(agent, team, kind, ticket number, deliver_at) of every sweep notice, sorted."""
    rows = session.execute(
        select(Agent.username, Team.name, Notification.kind, Ticket.number, Notification.deliver_at)
        .select_from(Notification)
        .outerjoin(Agent, Agent.id == Notification.agent_id)
        .outerjoin(Team, Team.id == Notification.team_id)
        .join(Ticket, Ticket.id == Notification.ticket_id)
        .where(Notification.kind.in_(("warning", "breach", "escalation", "page")))
    ).all()
    return sorted((tuple(r) for r in rows), key=repr)  # type: ignore[misc]


def ticket_states(session: Session) -> list[tuple[Any, ...]]:
    """What a sweep may change on tickets: team, assignee, status, priority, level, version."""
    rows = session.execute(
        select(
            Ticket.number,
            Team.name,
            Ticket.assignee_id,
            Ticket.status,
            Ticket.priority,
            Ticket.escalation_level,
            Ticket.version,
        )
        .outerjoin(Team, Team.id == Ticket.team_id)
        .order_by(Ticket.number)
    ).all()
    return [tuple(r) for r in rows]


def sweep_audit(session: Session) -> list[tuple[Any, ...]]:
    rows = session.execute(
        select(
            AuditEvent.record_number,
            AuditEvent.field,
            AuditEvent.old_value,
            AuditEvent.new_value,
            AuditEvent.record_version,
        ).where(AuditEvent.action == "escalation")
    ).all()
    return sorted((tuple(r) for r in rows), key=repr)


def clock_states(session: Session) -> list[tuple[Any, ...]]:
    rows = session.execute(
        select(
            SlaClock.id,
            SlaClock.state,
            SlaClock.fired_percent,
            SlaClock.warnings_fired,
            SlaClock.escalation_level,
            SlaClock.breached_at,
            SlaClock.next_event_at,
        ).order_by(SlaClock.id)
    ).all()
    return [tuple(r) for r in rows]


def snapshot(session: Session) -> dict[str, Any]:
    """Everything a sweep writes, in a comparable shape."""
    return {
        "escalations": sorted(escalation_rows(session)),
        "notifications": notification_rows(session),
        "tickets": ticket_states(session),
        "audit": sweep_audit(session),
        "clocks": clock_states(session),
    }


def sweep_worker(url: str, nows: list[datetime], barrier: Any, results: Any, index: int) -> None:
    """One sweeper process: for each instant, wait for the others, sweep, commit, report."""
    store = open_store(url, upgrade=False)
    try:
        with store.read() as session:
            session.execute(select(1))  # connect before the start line, not after it
        for round_no, now in enumerate(nows):
            try:
                barrier.wait(timeout=300)
            except threading.BrokenBarrierError:
                return  # the test gave up (it failed a check): stop quietly
            try:
                with store.write() as session:
                    result = sweep(session, now)
                results.put((round_no, index, result.as_dict(), result.notifications, None))
            except Exception as exc:  # reported to the parent, which fails the test
                results.put((round_no, index, None, 0, f"{type(exc).__name__}: {exc}"))
    finally:
        store.dispose()
