"""Alertmanager's webhook into incidents over a real HTTP connection, on both databases:
fired, repeated, resolved, grouped, malformed, without the token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from itsm_tui.config.dump import dump_toml
from itsm_tui.config.load import load_desk_text
from itsm_tui.config.plan import apply_config, plan_config
from itsm_tui.config.store import read_config
from itsm_tui.data.models import (
    Alert,
    AlertDelivery,
    AuditEvent,
    Comment,
    Notification,
    Outage,
    Ticket,
)
from itsm_tui.data.store import Store
from itsm_tui.desk.records import get_agent
from itsm_tui.remote.intake_server import IntakeTokens, token_hash
from tests.factories import NOW
from tests.remote.intake_client import (
    TOKEN,
    Clock,
    RunningIntake,
    add_monitoring_agent,
    alert,
    alertmanager,
)

INTAKE = """
[intake]
agent = "monitoring"
major_incident_at = 3

[[intake.rules]]
match = { severity = "critical" }
impact = 1
urgency = 1
team = "Network"

[[intake.rules]]
match = { severity = ["warning", "info"] }
impact = 3
urgency = 3
"""


def apply_intake(store: Store, text: str = INTAKE) -> None:
    with store.write() as session:
        apply_config(
            session, load_desk_text(text, "desk.toml"), actor=get_agent(session, "root"), now=NOW
        )


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def intake(desk, store: Store, clock: Clock) -> Iterator[RunningIntake]:  # type: ignore[no-untyped-def]
    add_monitoring_agent(store)
    apply_intake(store)
    running = RunningIntake(store, clock)
    yield running
    running.close()


def incidents(store: Store) -> list[Ticket]:
    with store.read() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def test_firing_alert_opens_one_incident_with_rule_priority_service_team_and_outage(
    intake: RunningIntake, store: Store
) -> None:
    status, body = intake.post(
        "/alertmanager",
        alertmanager(alert("a1", instance="mx1:9100", severity="critical", service="Email")),
    )
    assert (status, body) == (202, '{"kept": 1}')
    intake.settle()
    [ticket] = incidents(store)
    with store.read() as session:
        ticket = session.get(Ticket, ticket.id)
        assert ticket is not None
        assert ticket.type == "incident" and ticket.is_open
        assert ticket.title == "mx1:9100 is down"
        assert (ticket.impact, ticket.urgency, ticket.priority) == (1, 1, 1)
        assert ticket.service is not None and ticket.service.name == "Email"
        assert ticket.team is not None and ticket.team.name == "Network"
        assert ticket.created_by_id == get_agent(session, "monitoring").id
        assert "Fingerprint: a1" in ticket.description
        [outage] = session.scalars(select(Outage)).all()
        assert outage.ticket_id == ticket.id and outage.ended_at is None
        assert outage.started_at == NOW - timedelta(minutes=5)
        [delivery] = session.scalars(select(AlertDelivery)).all()
        assert delivery.processed_at is not None and delivery.outcome == "opened 1"


def test_repeats_and_resends_add_nothing(intake: RunningIntake, store: Store, clock: Clock) -> None:
    payload = alertmanager(alert("a1", instance="db1", service="Email"))
    for _ in range(3):  # Alertmanager's repeat interval, and a resend after a 5xx
        assert intake.post("/alertmanager", payload)[0] == 202
        clock.advance(minutes=1)
    intake.settle()
    assert len(incidents(store)) == 1
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Outage)) == 1
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
        ticket = session.scalars(select(Ticket)).one()
        # The create only: a repeat writes no audit event and bumps no version.
        assert ticket.version == 1
        outcomes = session.scalars(select(AlertDelivery.outcome).order_by(AlertDelivery.id))
        assert list(outcomes) == ["opened 1", "repeat 1", "repeat 1"]


def test_resolved_alert_notes_ends_outage_and_resolves_incident(
    intake: RunningIntake, store: Store, clock: Clock
) -> None:
    starts = NOW - timedelta(minutes=5)
    intake.post("/alertmanager", alertmanager(alert("a1", starts=starts, service="Email")))
    clock.advance(minutes=10)
    ends = NOW + timedelta(minutes=8)
    cleared = alertmanager(
        alert("a1", status="resolved", starts=starts, ends=ends, service="Email")
    )
    assert intake.post("/alertmanager", cleared)[0] == 202
    assert intake.post("/alertmanager", cleared)[0] == 202  # resent
    intake.settle()
    with store.read() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.status == "resolved" and ticket.resolution_code == "fixed"
        assert "resolved at" in (ticket.resolution_notes or "")
        outage = session.scalars(select(Outage)).one()
        assert (outage.started_at, outage.ended_at) == (starts, ends)
        ended = session.scalars(select(AuditEvent).where(AuditEvent.action == "outage.end")).all()
        assert len(ended) == 1
    # The same fingerprint firing again after its incident resolved opens a new one.
    clock.advance(minutes=30)
    again = alertmanager(alert("a1", starts=clock.at - timedelta(minutes=1), service="Email"))
    intake.post("/alertmanager", again)
    intake.settle()
    assert [t.status for t in incidents(store)] == ["resolved", "new"]


def test_resolved_alert_only_notes_when_the_desk_file_says_not_to_resolve(
    intake: RunningIntake, store: Store, clock: Clock
) -> None:
    apply_intake(store, INTAKE.replace("major_incident_at = 3", "resolve_incidents = false"))
    starts = NOW - timedelta(minutes=5)
    intake.post("/alertmanager", alertmanager(alert("a1", starts=starts)))
    clock.advance(minutes=2)
    intake.post("/alertmanager", alertmanager(alert("a1", status="resolved", starts=starts)))
    clock.advance(minutes=2)
    # Flapping: firing again with a new start is the same open incident, noted.
    intake.post("/alertmanager", alertmanager(alert("a1", starts=clock.at)))
    intake.settle()
    [ticket] = incidents(store)
    assert ticket.status == "new"
    with store.read() as session:
        notes = session.scalars(select(Comment.body).order_by(Comment.id)).all()
    assert len(notes) == 2
    assert "resolved at" in notes[0] and "firing again" in notes[1]


def test_a_group_gathers_under_one_major_incident(
    intake: RunningIntake, store: Store, clock: Clock
) -> None:
    group = '{}:{alertname="Down", cluster="eu"}'
    for i in range(4):
        payload = alertmanager(alert(f"g{i}", instance=f"web{i}"), group_key=group)
        assert intake.post("/alertmanager", payload)[0] == 202
    intake.settle()
    tickets = incidents(store)
    majors = [t for t in tickets if t.is_major]
    assert len(majors) == 1 and len(tickets) == 5
    assert sorted(t.parent_id for t in tickets if not t.is_major) == [majors[0].id] * 4
    # Raising it told its team once (the `major_incident` notice, routed like the others).
    with store.read() as session:
        told = session.execute(
            select(Notification.team_id, Notification.message).where(
                Notification.kind == "major_incident"
            )
        ).all()
    assert told == [
        (majors[0].team_id, f"{majors[0].number} is a major incident: {majors[0].title}")
    ]
    # Every alert of the group resolved: the major incident resolves with the last.
    cleared = [alert(f"g{i}", status="resolved", instance=f"web{i}") for i in range(4)]
    clock.advance(minutes=5)
    intake.post("/alertmanager", alertmanager(*cleared, status="resolved", group_key=group))
    intake.settle()
    assert {t.status for t in incidents(store)} == {"resolved"}


def test_one_request_that_fires_repeats_and_clears_an_alert_opens_and_resolves_it(
    intake: RunningIntake, store: Store, clock: Clock
) -> None:
    """The batch's new incidents open together (the bulk path): an alert that clears in the
    same batch that opened it finds its incident open, and a repeat adds nothing."""
    fired, cleared = alert("b1", instance="db1"), alert("b1", status="resolved", instance="db1")
    other = alert("b2", instance="db2")
    payload = alertmanager(fired, fired, other, cleared, other)
    assert intake.post("/alertmanager", payload)[0] == 202
    intake.settle()
    [first, second] = incidents(store)
    assert (first.title, first.status) == ("db1 is down", "resolved")
    assert (second.title, second.status) == ("db2 is down", "new")
    with store.read() as session:
        [outcome] = session.scalars(select(AlertDelivery.outcome)).all()
    assert outcome == "opened 2, repeat 2, resolved 1"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "the body is not JSON"),
        (b"[]", "must be a JSON object"),
        ({"version": "3", "alerts": []}, "version '3'"),
        ({"version": "4"}, '"alerts" must be an array'),
        ({"version": "4", "alerts": [{"status": "burning"}]}, "alerts[0].status"),
        (
            alertmanager({**alert("x"), "startsAt": "yesterday"}),
            "alerts[0].startsAt 'yesterday' is not an RFC 3339 time",
        ),
        (alertmanager({**alert("x"), "fingerprint": ""}), "alerts[0].fingerprint"),
        (alertmanager({**alert("x"), "labels": {"a": 1}}), "alerts[0].labels.a must be text"),
    ],
)
def test_malformed_payloads_get_400_with_one_clear_line_and_store_nothing(
    intake: RunningIntake, store: Store, body: object, says: str
) -> None:
    status, text = intake.post("/alertmanager", body)
    assert status == 400
    assert text.startswith("not taken: ") and says in text and text.count("\n") == 1
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(AlertDelivery)) == 0


def test_without_the_token_401_and_nothing_stored(intake: RunningIntake, store: Store) -> None:
    payload = alertmanager(alert("a1"))
    assert intake.post("/alertmanager", payload, token=None)[0] == 401
    assert intake.post("/alertmanager", payload, token="wrong")[0] == 401
    assert intake.post("/alertmanager", payload, scheme="Basic")[0] == 401
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(AlertDelivery)) == 0


def test_the_desk_files_token_hash_lets_a_sender_in(desk, store: Store, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    add_monitoring_agent(store)
    hashed = f'agent = "monitoring"\ntoken_sha256 = "{token_hash("from-desk")}"'
    apply_intake(store, INTAKE.replace('agent = "monitoring"', hashed))
    running = RunningIntake(store, clock, IntakeTokens(env_token=None))
    try:
        assert running.post("/alertmanager", alertmanager(alert("a1")), token=TOKEN)[0] == 401
        assert running.post("/alertmanager", alertmanager(alert("a1")), token="from-desk")[0] == 202
    finally:
        running.close()


def test_generic_shape_opens_and_resolves(
    intake: RunningIntake, store: Store, clock: Clock
) -> None:
    fired = {
        "alerts": [
            {
                "key": "backup-db1",
                "status": "firing",
                "summary": "Backup failed",
                "labels": {"severity": "warning", "service": "VPN"},
            }
        ]
    }
    assert intake.post("/alerts", fired)[0] == 202
    clock.advance(minutes=3)
    assert (
        intake.post("/alerts", {"alerts": [{"key": "backup-db1", "status": "resolved"}]})[0] == 202
    )
    bad = {"alerts": [{"key": "k", "status": "firing", "severity": "high"}]}
    status, text = intake.post("/alerts", bad)
    assert status == 400 and "has no field 'severity'" in text
    intake.settle()
    [ticket] = incidents(store)
    assert (ticket.title, ticket.priority, ticket.status) == ("Backup failed", 4, "resolved")


def test_alert_text_is_kept_as_data(intake: RunningIntake, store: Store) -> None:
    hostile = alert("esc", instance="[bold red]x[/]\x1b]0;pwned\x07")
    hostile["annotations"] = {"summary": "\x1b[2J[link=file:///etc]boom[/link]\x00"}
    assert intake.post("/alertmanager", alertmanager(hostile))[0] == 202
    intake.settle()
    [ticket] = incidents(store)
    # Byte for byte, but a NUL (which PostgreSQL cannot hold) became U+FFFD.
    assert ticket.title == "\x1b[2J[link=file:///etc]boom[/link]\ufffd"


def test_desk_file_intake_round_trips_without_a_planned_change(desk, store: Store) -> None:  # type: ignore[no-untyped-def]
    add_monitoring_agent(store)
    apply_intake(store)
    with store.read() as session:
        shown = dump_toml(read_config(session))
        assert "[[intake.rules]]" in shown
        plan = plan_config(session, load_desk_text(shown, "shown.toml"))
    assert plan.section("intake") == ()
