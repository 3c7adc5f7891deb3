"""The page chain on both databases: an escalation pages whoever is on call, the sweep
pages the next when nobody acknowledges in time, and an acknowledgement (CLI, link token)
stops it, audited. Time is a fake clock: each sweep is given its instant."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from itsm_tui.cli import cli
from itsm_tui.data.models import Agent, AuditEvent, Notification, Page, Team
from itsm_tui.data.store import Store
from itsm_tui.desk import paging
from itsm_tui.desk.errors import InvalidInput, NotFound
from itsm_tui.desk.records import get_agent
from tests.sla_desk import build_sla_desk, create, desk_text, local, run_sweep

# Desktop Support takes a P1 at its level-1 escalation (the default desk reassigns it
# there and pages on-call). Weekly shifts from Monday 2 November, 09:00 Shanghai:
# eve, fay, eve, fay → fay holds the week of Monday 23 November.
ROTA = """
[[agents]]
username = "ada"
name = "Ada Admin"
roles = ["admin"]

[[agents]]
username = "fay"
name = "Fay Field"
team = "Desktop Support"
roles = ["agent"]

[[rotations]]
team = "Desktop Support"
members = ["eve", "fay"]
starts = 2026-11-02
handover_day = "mon"
handover = "09:00"
shift_days = 7
timezone = "Asia/Shanghai"
ack_timeout_minutes = 15
"""


def rota_desk(*extra: str) -> str:
    """The SLA tests' desk with the rota (its empty `rotations = []` taken out)."""
    base = desk_text().replace("\nrotations = []\n", "\n", 1)
    assert "\nrotations = []\n" not in base
    return base + ROTA + "".join(extra)


OPENED = local(2026, 11, 24, 2, 45)  # a P1 on the 24x7 calendar: breached at 03:00
BREACH = local(2026, 11, 24, 3, 0)


@pytest.fixture
def rota_store(store: Store) -> Iterator[Store]:
    build_sla_desk(store, rota_desk())
    yield store


def breached_p1(store: Store) -> str:
    number = create(store, OPENED, impact=1, urgency=1, assignee="tia")
    done = run_sweep(store, BREACH)
    assert done.breached == [{"number": number, "kind": "response"}]
    return number


def pages(store: Store) -> list[tuple[str, int, bool, bool]]:
    """(agent, level, waiting for an answer, acknowledged) of every page, in order."""
    with store.read() as session:
        rows = session.scalars(select(Page).order_by(Page.id)).all()
        return [
            (p.agent.username, p.level, p.answer_due_at is not None, p.acknowledged_at is not None)
            for p in rows
        ]


def page_notices(store: Store) -> list[tuple[str | None, str | None, datetime]]:
    with store.read() as session:
        rows = session.execute(
            select(Agent.username, Team.name, Notification.deliver_at)
            .select_from(Notification)
            .outerjoin(Agent, Agent.id == Notification.agent_id)
            .outerjoin(Team, Team.id == Notification.team_id)
            .where(Notification.kind == "page")
            .order_by(Notification.id)
        ).all()
        return [tuple(r) for r in rows]


def token_of(store: Store, agent: str) -> str:
    with store.read() as session:
        message = session.scalars(
            select(Notification.message)
            .where(
                Notification.kind == "page", Notification.agent_id == get_agent(session, agent).id
            )
            .order_by(Notification.id.desc())
        ).first()
    assert message is not None
    found = re.search(r"/ack/(\S+)$", message)
    assert found, message
    return found.group(1)


def audit(store: Store, number: str) -> list[tuple[str, str | None, str | None]]:
    """(action, new value, actor) of the ticket's page events, in order."""
    with store.read() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.new_value, Agent.username)
            .outerjoin(Agent, Agent.id == AuditEvent.actor_id)
            .where(AuditEvent.record_number == number, AuditEvent.field == "page")
            .order_by(AuditEvent.id)
        ).all()
        return [tuple(r) for r in rows]


def test_breach_pages_whoever_is_on_call_then_the_next_then_the_supervisor(
    rota_store: Store,
) -> None:
    number = breached_p1(rota_store)
    assert pages(rota_store) == [("fay", 1, True, False)]
    # One page, to fay, at once: no team-wide page notice when a rota holds the team.
    assert page_notices(rota_store) == [("fay", None, BREACH)]
    assert run_sweep(rota_store, BREACH + timedelta(minutes=14, seconds=59)).paged == []
    passed = run_sweep(rota_store, BREACH + timedelta(minutes=15))
    assert [(p["agent"], p["level"]) for p in passed.paged] == [("eve", 2)]
    assert pages(rota_store) == [("fay", 1, False, False), ("eve", 2, True, False)]
    # A second sweep at the same instant pages nobody twice.
    assert run_sweep(rota_store, BREACH + timedelta(minutes=15)).paged == []
    third = run_sweep(rota_store, BREACH + timedelta(minutes=30))
    assert [(p["agent"], p["level"]) for p in third.paged] == [("dan", 3)]  # the supervisor
    ended = run_sweep(rota_store, BREACH + timedelta(minutes=45))
    assert ended.paged == []
    assert [w for _a, _b, w, _c in pages(rota_store)] == [False, False, False]
    assert page_notices(rota_store)[-1][:2] == (None, "Desktop Support")  # nobody answered
    assert [a[:2] for a in audit(rota_store, number)] == [
        ("paged", "level 1 (fay)"),
        ("paged", "level 2 (eve)"),
        ("paged", "level 3 (dan)"),
        ("page_unanswered", None),
    ]
    # The level-2 rule also pages, at 150 % (03:07:30): a chain was running, so nobody twice.
    assert run_sweep(rota_store, BREACH + timedelta(hours=1)).paged == []
    # The resolution clock's breach (04:45) is a new escalation: a new chain.
    again = run_sweep(rota_store, OPENED + timedelta(hours=2))
    assert [(p["agent"], p["level"]) for p in again.paged] == [("fay", 1)]


def test_link_token_acknowledges_once_and_stops_the_chain(rota_store: Store) -> None:
    number = breached_p1(rota_store)
    token = token_of(rota_store, "fay")
    with rota_store.read() as session:
        # The store keeps the token's hash, never the token.
        assert session.scalar(select(Page.token_hash)) == paging.token_hash(token) != token
    with rota_store.write() as session:
        done = paging.acknowledge_page_by_token(session, token, BREACH + timedelta(minutes=4))
    assert (done.number, done.agent, done.acknowledged_by, done.via) == (
        number,
        "fay",
        "fay",
        "link",
    )
    assert pages(rota_store) == [("fay", 1, False, True)]
    # Nobody next: the only page after is the level-2 escalation's (03:07:30), a new chain.
    later = run_sweep(rota_store, BREACH + timedelta(hours=1)).paged
    assert [(p["agent"], p["level"]) for p in later] == [("fay", 1)]
    with rota_store.write() as session, pytest.raises(InvalidInput, match="already acknowledged"):
        paging.acknowledge_page_by_token(session, token, BREACH + timedelta(minutes=5))
    with rota_store.write() as session, pytest.raises(NotFound, match="not valid"):
        paging.acknowledge_page_by_token(session, token[:-2] + "xx", BREACH)
    assert audit(rota_store, number)[:2] == [
        ("paged", "level 1 (fay)", None),
        ("page_acknowledged", "level 1 (fay)", "fay"),
    ]


def test_acknowledging_a_later_page_stops_the_chain_and_an_earlier_token_is_refused(
    rota_store: Store,
) -> None:
    breached_p1(rota_store)
    first = token_of(rota_store, "fay")
    run_sweep(rota_store, BREACH + timedelta(minutes=15))
    with rota_store.write() as session:
        paging.acknowledge_page_by_token(
            session, token_of(rota_store, "eve"), BREACH + timedelta(minutes=16)
        )
    assert pages(rota_store) == [("fay", 1, False, False), ("eve", 2, False, True)]
    # No level 3 (dan). (The level-2 escalation fired in the sweep at 03:15, while the
    # chain ran: it paged nobody twice.)
    assert run_sweep(rota_store, BREACH + timedelta(minutes=45)).paged == []
    with rota_store.write() as session, pytest.raises(InvalidInput, match="by eve"):
        paging.acknowledge_page_by_token(session, first, BREACH + timedelta(minutes=17))


def test_an_override_puts_its_agent_first_in_the_chain(store: Store) -> None:
    holiday = """
[[rotations.overrides]]
agent = "eve"
covers = "fay"
starts_at = 2026-11-23T09:00:00+08:00
ends_at = 2026-11-30T09:00:00+08:00
reason = "fay on leave"
"""
    build_sla_desk(store, rota_desk(holiday))
    breached_p1(store)
    assert pages(store) == [("eve", 1, True, False)]
    # Fay is away: after eve, the supervisor.
    passed = run_sweep(store, BREACH + timedelta(minutes=15))
    assert [(p["agent"], p["level"]) for p in passed.paged] == [("dan", 2)]


def itsm(store: Store, *args: str, agent: str = "eve", now: datetime = BREACH) -> Any:
    """`itsm …` in-process, signed in as `agent` itself."""
    store.engine.dispose()
    stamp = now.isoformat().replace("+00:00", "Z")
    with mock.patch("itsm_tui.cli.env.login_name", return_value=agent):
        return CliRunner().invoke(cli, ["--db", store.url, "--as", agent, "--now", stamp, *args])


def test_cli_acknowledges_by_ticket_then_refuses_again_and_shows_the_rota(
    rota_store: Store,
) -> None:
    number = breached_p1(rota_store)
    later = BREACH + timedelta(minutes=5)
    done = itsm(rota_store, "oncall", "ack", number.lower(), "--json", now=later)
    assert done.exit_code == 0, done.output
    assert {k: v for k, v in json.loads(done.stdout).items() if k != "page"} == {
        "number": number,
        "agent": "fay",
        "level": 1,
        "acknowledged_by": "eve",
        "acknowledged_at": later.isoformat(),
        "via": "cli",
    }
    again = itsm(rota_store, "oncall", "ack", number, now=later)
    assert again.exit_code == 1
    assert "already acknowledged by eve" in again.stderr
    assert audit(rota_store, number)[-1] == ("page_acknowledged", "level 1 (fay)", "eve")
    # Nobody next: the only page after is the level-2 escalation's (03:07:30), a new chain.
    later = run_sweep(rota_store, BREACH + timedelta(hours=1)).paged
    assert [(p["agent"], p["level"]) for p in later] == [("fay", 1)]

    now = json.loads(itsm(rota_store, "oncall", "now", "--json").stdout)
    assert [(r["team"], r["agent"], r["to"]) for r in now] == [
        ("Desktop Support", "fay", local(2026, 11, 30, 9, 0).isoformat())
    ]
    shown = itsm(
        rota_store,
        "oncall",
        "show",
        "--from",
        "2026-11-20T00:00:00+08:00",
        "--to",
        "2026-12-08T00:00:00+08:00",
        "--team",
        "desktop support",
        "--json",
    )
    assert [(r["agent"], r["from"]) for r in json.loads(shown.stdout)] == [
        ("eve", local(2026, 11, 20, 0, 0).isoformat()),
        ("fay", local(2026, 11, 23, 9, 0).isoformat()),
        ("eve", local(2026, 11, 30, 9, 0).isoformat()),
        ("fay", local(2026, 12, 7, 9, 0).isoformat()),
    ]
    none = itsm(rota_store, "oncall", "now", "--team", "Network")
    assert none.exit_code == 1
    assert "Network has no on-call rota" in none.stderr
    backwards = itsm(
        rota_store, "oncall", "show", "--from", "2026-12-08T00:00:00Z", "--to", "2026-12-01T00:00Z"
    )
    assert backwards.exit_code == 1 and "--to must be after --from" in backwards.stderr


def test_config_show_then_dry_run_plans_no_change_with_rotas(
    rota_store: Store, tmp_path: Path
) -> None:
    holiday = """
[[rotations.overrides]]
agent = "eve"
starts_at = 2026-12-24T18:00:00+08:00
ends_at = 2026-12-26T09:00:00+08:00
reason = "Christmas"
"""
    path = tmp_path / "desk.toml"
    path.write_text(rota_desk(holiday), encoding="utf-8")
    applied = itsm(rota_store, "config", "apply", str(path), agent="ada")
    shown = itsm(rota_store, "config", "show", agent="ada")
    assert shown.exit_code == 0, shown.output
    assert "[[rotations.overrides]]" in shown.stdout, applied.output
    (tmp_path / "shown.toml").write_text(shown.stdout, encoding="utf-8")
    dry = itsm(
        rota_store, "config", "apply", str(tmp_path / "shown.toml"), "--dry-run", agent="ada"
    )
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith("Nothing to change"), dry.stdout
