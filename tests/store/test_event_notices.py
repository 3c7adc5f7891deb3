"""The notices of two events that have no clock: a change's window starting (the escalation
sweep tells it once per change) and an incident becoming a major incident (a person linking
under it, or the intake gathering a group). Routed by [notifications] like the others."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import itsm_tui.desk as d
from itsm_tui.config.load import load_desk_text
from itsm_tui.config.plan import apply_config
from itsm_tui.data.models import Agent, Change, Notification, OutboxMessage, Team
from itsm_tui.data.store import Store
from itsm_tui.escalation.sweep import sweep
from tests.change_desk import build_change_desk, write
from tests.factories import NOW, Desk

ROUTES = """
[notifications]

[[notifications.agents]]
username = "alice"
webhook = "https://hooks.example.org/alice"

[[notifications.teams]]
name = "Network"
webhook = "https://hooks.example.org/network"

[notifications.events]
change_starting = { to = ["agent", "team"], channels = ["webhook"] }
major_incident = { to = ["team"], channels = ["webhook"] }
"""


@pytest.fixture
def cdesk(store: Store) -> Desk:
    desk = build_change_desk(store)
    with store.write() as session:
        apply_config(session, load_desk_text(ROUTES, "notify.toml"), now=NOW)
    return desk


def notices(store: Store, kind: str) -> list[tuple[str | None, str | None, str]]:
    """(agent, team, message) of each notice of `kind`, oldest first."""
    with store.read() as session:
        rows = session.execute(
            select(Agent.username, Team.name, Notification.message)
            .select_from(Notification)
            .outerjoin(Agent, Agent.id == Notification.agent_id)
            .outerjoin(Team, Team.id == Notification.team_id)
            .where(Notification.kind == kind)
            .order_by(Notification.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def outbox(store: Store) -> list[tuple[str | None, str | None, str]]:
    with store.read() as session:
        rows = session.execute(
            select(OutboxMessage.recipient, OutboxMessage.team, OutboxMessage.address).order_by(
                OutboxMessage.id
            )
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def sweep_at(store: Store, at: object) -> list[str]:
    with store.write() as session:
        return sweep(session, at).changes_starting  # type: ignore[arg-type]


def scheduled_change(desk: Desk, start: object) -> str:
    """alice's standard change (a template: authorized at once) in the Network team."""
    record = write(
        desk,
        "alice",
        d.create_change,
        change_type="standard",
        template="mail-restart",
        planned_start=start,
        team="Network",
    )
    assert write(desk, "alice", d.submit_change, record["number"])["status"] == "scheduled"
    return record["number"]


def test_a_change_starting_is_told_once_when_its_window_begins(cdesk: Desk) -> None:
    start = NOW + timedelta(hours=2)
    number = scheduled_change(cdesk, start)
    assert sweep_at(cdesk.store, start - timedelta(minutes=1)) == []
    assert notices(cdesk.store, "change_starting") == []
    assert sweep_at(cdesk.store, start + timedelta(seconds=30)) == [number]
    told = f"{number} starts now: Rolling restart of the mail servers (window until "
    [(agent, none, to_agent), (no_agent, team, to_team)] = notices(cdesk.store, "change_starting")
    assert (agent, none, no_agent, team) == ("alice", None, None, "Network")
    assert to_agent.startswith(told) and to_team == to_agent
    # Routed like every notice: the owner's and the team's webhooks, in the same transaction.
    assert outbox(cdesk.store) == [
        ("alice", None, "https://hooks.example.org/alice"),
        (None, "Network", "https://hooks.example.org/network"),
    ]
    # Once per change: later sweeps tell nothing more.
    assert sweep_at(cdesk.store, start + timedelta(minutes=5)) == []
    assert len(notices(cdesk.store, "change_starting")) == 2
    with cdesk.store.read() as session:
        change = session.scalars(select(Change).where(Change.number == number)).one()
        assert change.start_noticed_at == start + timedelta(seconds=30)


def test_a_window_that_ended_before_any_sweep_is_not_announced(cdesk: Desk) -> None:
    start = NOW + timedelta(hours=2)
    scheduled_change(cdesk, start)
    # The template's window is 90 minutes: the first sweep comes after it.
    assert sweep_at(cdesk.store, start + timedelta(hours=3)) == []
    assert notices(cdesk.store, "change_starting") == []


def test_a_draft_change_whose_start_passes_is_not_announced(cdesk: Desk) -> None:
    start = NOW + timedelta(hours=2)
    write(
        cdesk,
        "alice",
        d.create_change,
        change_type="standard",
        template="mail-restart",
        planned_start=start,
    )
    assert sweep_at(cdesk.store, start + timedelta(minutes=1)) == []
    assert notices(cdesk.store, "change_starting") == []


def test_an_incident_becoming_major_is_told_to_its_team_once(cdesk: Desk) -> None:
    with cdesk.store.write() as session:
        alice = session.scalars(select(Agent).where(Agent.username == "alice")).one()

        def incident(title: str) -> str:
            return d.create_ticket(
                session,
                alice,
                type="incident",
                title=title,
                impact=1,
                urgency=1,
                team="Network",
                now=NOW,
            ).number

        major, first, second = incident("Core down"), incident("VPN down"), incident("Mail down")
        d.link_ticket(session, alice, first, parent=major, now=NOW)
        # The second link finds it major already: nothing more is told.
        d.link_ticket(session, alice, second, parent=major, now=NOW)
    assert notices(cdesk.store, "major_incident") == [
        (None, "Network", f"{major} is a major incident: Core down")
    ]
    assert outbox(cdesk.store) == [(None, "Network", "https://hooks.example.org/network")]
