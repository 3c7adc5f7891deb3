"""The bulk path (itsm_tui/desk/bulk_incidents.py) writes what the one-at-a-time desk
functions write: an incident opened in a batch equals one opened by `create_ticket`, field
by field, with its SLA clocks and audit events; linking under a major incident and
recording outages likewise (both databases)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    AuditEvent,
    Notification,
    Outage,
    SlaClock,
    Ticket,
)
from itsm_tui.data.store import Store
from itsm_tui.desk import InvalidInput, NotFound, PermissionDenied, create_ticket, link_ticket
from itsm_tui.desk.bulk_incidents import (
    IncidentDraft,
    OutageDraft,
    link_under,
    open_incidents,
    record_outages,
)
from itsm_tui.desk.measures import record_outage
from itsm_tui.desk.records import get_agent
from tests.conftest import BACKENDS
from tests.sla_desk import desk_store, local

NOW = local(2026, 11, 24, 10, 0)
OPENED = local(2026, 11, 24, 9, 58)

DRAFTS = [
    IncidentDraft(
        title="host1 is down",
        impact=1,
        urgency=1,
        description="Alert HostDown\nLabels:\n  env=prod",
        category="monitoring",
        service="Email and Calendar",
        team="Network",
        opened_at=OPENED,
    ),
    IncidentDraft(title="disk full", impact=3, urgency=2, category="monitoring"),
    IncidentDraft(title="VPN flaps", impact=2, urgency=2, service="erp"),
]


@pytest.fixture(params=BACKENDS)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from desk_store(request, tmp_path)


def _columns(record: Any, *skip: str) -> dict[str, Any]:
    return {
        c.key: getattr(record, c.key)
        for c in inspect(type(record)).column_attrs
        if c.key not in skip
    }


def _unnumbered(text: str | None) -> str | None:
    """Numbers differ between the two ways (INC0000001 / INC0000004): the rest must not."""
    return None if text is None else re.sub(r"INC\d+", "#", text)


def picture(session: Session, number: str) -> dict[str, Any]:
    """Everything the desk wrote for one ticket, without its ids and number."""
    ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
    clocks = session.scalars(
        select(SlaClock).where(SlaClock.ticket_id == ticket.id).order_by(SlaClock.kind)
    ).all()
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "ticket", AuditEvent.record_id == ticket.id)
        .order_by(AuditEvent.id)
    ).all()
    notices = session.scalars(
        select(Notification).where(Notification.ticket_id == ticket.id).order_by(Notification.id)
    ).all()
    return {
        "ticket": _columns(ticket, "id", "number", "parent_id"),
        "clocks": [_columns(c, "id", "ticket_id") for c in clocks],
        "events": [
            _columns(e, "id", "record_id", "record_number", "new_value", "old_value")
            | {"new": _unnumbered(e.new_value), "old": _unnumbered(e.old_value)}
            for e in events
        ],
        "notices": [
            _columns(n, "id", "ticket_id", "message") | {"message": _unnumbered(n.message)}
            for n in notices
        ],
    }


def test_an_incident_opened_in_bulk_equals_one_opened_singly(desk: Store) -> None:
    with desk.write() as session:
        sue = get_agent(session, "sue")
        single = [
            create_ticket(
                session,
                sue,
                type="incident",
                title=d.title,
                impact=d.impact,
                urgency=d.urgency,
                description=d.description,
                category=d.category,
                service=d.service,
                team=d.team,
                opened_at=d.opened_at,
                now=NOW,
            ).number
            for d in DRAFTS
        ]
        bulk = open_incidents(session, sue, DRAFTS, now=NOW)
    numbers = [t.number for t in bulk if isinstance(t, Ticket)]
    # Numbered in draft order, after the single ones.
    assert single == ["INC0000001", "INC0000002", "INC0000003"]
    assert numbers == ["INC0000004", "INC0000005", "INC0000006"]
    with desk.read() as session:
        for one, many in zip(single, numbers, strict=True):
            expected = picture(session, one)
            assert expected["clocks"], "the desk's policies start clocks"
            assert expected["ticket"]["sla_due_at"] == min(c["due_at"] for c in expected["clocks"])
            assert picture(session, many) == expected


def test_a_refused_draft_comes_back_as_its_error_and_the_others_open(desk: Store) -> None:
    drafts = [
        DRAFTS[1],
        IncidentDraft(title="", impact=2, urgency=2),
        IncidentDraft(title="x", impact=9, urgency=2),
        IncidentDraft(title="y", impact=2, urgency=2, service="Nope"),
        DRAFTS[2],
    ]
    with desk.write() as session:
        results = open_incidents(session, get_agent(session, "sue"), drafts, now=NOW)
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Ticket", "InvalidInput", "InvalidInput", "NotFound", "Ticket"]
    assert isinstance(results[3], NotFound) and "unknown service 'Nope'" in str(results[3])
    # Numbers are only taken for what opens: no gap.
    assert [r.number for r in results if isinstance(r, Ticket)] == ["INC0000001", "INC0000002"]


def test_the_bulk_path_checks_the_actors_role(desk: Store) -> None:
    with desk.write() as session:
        nobody = get_agent(session, "sue")
        nobody.active = False
        with pytest.raises(PermissionDenied):
            open_incidents(session, nobody, DRAFTS, now=NOW)


def test_linking_in_bulk_equals_linking_singly(desk: Store) -> None:
    with desk.write() as session:
        sue = get_agent(session, "sue")
        tickets = [t for t in open_incidents(session, sue, DRAFTS * 2, now=NOW)]
        major_a, a1, a2, major_b, b1, b2 = tickets  # type: ignore[misc]
        link_ticket(session, sue, a1.number, parent=major_a.number, now=NOW)
        link_ticket(session, sue, a2.number, parent=major_a.number, now=NOW)
        link_under(session, sue, [b1, b2], major_b, now=NOW)  # type: ignore[list-item]
        with pytest.raises(InvalidInput, match="own parent"):
            link_under(session, sue, [major_a], a1, now=NOW)  # type: ignore[arg-type]
    with desk.read() as session:
        for one, many in ((major_a, major_b), (a1, b1), (a2, b2)):
            got = picture(session, many.number)
            want = picture(session, one.number)
            assert got == want
        parents = session.scalars(select(Ticket.parent_id).where(Ticket.id.in_([b1.id, b2.id])))
        assert set(parents) == {major_b.id}
        assert len(picture(session, major_b.number)["notices"]) == 1


def test_outages_recorded_in_bulk_equal_those_recorded_singly(desk: Store) -> None:
    with desk.write() as session:
        sue = get_agent(session, "sue")
        [ticket] = open_incidents(session, sue, DRAFTS[:1], now=NOW)
        assert isinstance(ticket, Ticket)
        one = record_outage(
            session,
            sue,
            service="Email and Calendar",
            started_at=OPENED,
            number=ticket.number,
            notes="alert HostDown (f1)",
            now=NOW,
        )
        many = record_outages(
            session,
            sue,
            [
                OutageDraft("Email and Calendar", OPENED, ticket, "alert HostDown (f1)"),
                OutageDraft("Nope", OPENED),
            ],
            now=NOW,
        )
        assert isinstance(many[1], NotFound)
        other = many[0]
        assert isinstance(other, Outage)
        assert _columns(other, "id") == _columns(one, "id")
        audits = [
            _columns(e, "id", "record_id")
            for e in session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.record_type == "outage", AuditEvent.record_id.in_([one.id, other.id])
                )
                .order_by(AuditEvent.record_id)
            )
        ]
        assert len(audits) == 2 and audits[0] == audits[1]
