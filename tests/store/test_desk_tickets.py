"""The one write path on both databases: validation, roles, state machines, audit, versions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui import desk as d
from itsm_tui.data.models import AuditEvent, Comment, Notification, Ticket, TimeEntry
from itsm_tui.desk.records import get_ticket
from tests.factories import NOW, Desk

LATER = NOW + timedelta(minutes=20)


def write(desk: Desk, username: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one desk function as `username` in its own transaction."""
    with desk.store.write() as session:
        kwargs.setdefault("now", NOW)
        result = fn(session, desk.actor(session, username), *args, **kwargs)
        if isinstance(result, Ticket):
            # Load what the tests read before the session closes.
            _ = (result.team, result.assignee, result.parent, result.problem, result.change)
        return result


def incident(desk: Desk, **kwargs: Any) -> str:
    fields: dict[str, Any] = {
        "type": "incident",
        "title": "VPN drops every hour",
        "impact": 2,
        "urgency": 2,
    }
    fields.update(kwargs)
    return write(desk, "alice", d.create_ticket, **fields).number


def snapshot(desk: Desk) -> tuple[Any, ...]:
    """Everything a refused write must leave untouched."""
    with desk.store.read() as s:
        tickets = s.execute(
            select(
                Ticket.number,
                Ticket.status,
                Ticket.title,
                Ticket.priority,
                Ticket.version,
                Ticket.team_id,
                Ticket.assignee_id,
            ).order_by(Ticket.id)
        ).all()
        counts = tuple(
            s.scalar(select(func.count()).select_from(model))
            for model in (AuditEvent, Comment, Notification, TimeEntry)
        )
    return (tuple(tuple(row) for row in tickets), counts)


def ticket(desk: Desk, number: str) -> Ticket:
    with desk.store.read() as s:
        t = get_ticket(s, number)
        _ = (t.team, t.assignee, t.service, t.requester)
        return t


def audit_of(desk: Desk, number: str) -> list[AuditEvent]:
    with desk.store.read() as s:
        return list(
            s.scalars(
                select(AuditEvent).where(AuditEvent.record_number == number).order_by(AuditEvent.id)
            )
        )


# --- create -----------------------------------------------------------------


def test_create_derives_priority_routes_to_first_line_and_audits(desk: Desk) -> None:
    number = incident(desk, impact=1, urgency=1, service="VPN", requester="Wei.Zhang@example.com")
    t = ticket(desk, number)
    assert number == "INC0000001"
    assert (t.priority, t.status, t.is_open, t.version) == (1, "new", True, 1)
    assert t.team.name == "Service Desk"
    assert t.service.name == "VPN"
    assert t.requester.email == "Wei.Zhang@example.com"
    assert t.opened_at == NOW
    [event] = audit_of(desk, number)
    assert (event.action, event.record_version) == ("create", 1)


def test_numbers_count_per_type(desk: Desk) -> None:
    assert incident(desk) == "INC0000001"
    assert (
        write(desk, "alice", d.create_ticket, type="problem", title="p", impact=2, urgency=2).number
        == "PRB0000001"
    )
    assert incident(desk) == "INC0000002"
    change = write(desk, "alice", d.create_change, title="Patch VPN concentrators")
    assert change.number == "CHG0000001"


def test_create_with_assignee_starts_assigned_and_notifies_them(desk: Desk) -> None:
    number = incident(desk, assignee="bob")
    t = ticket(desk, number)
    assert (t.status, t.assignee.username) == ("assigned", "bob")
    with desk.store.read() as s:
        note = s.scalars(select(Notification)).one()
        assert note.kind == "assignment" and number in note.message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"impact": 9}, "impact must be 1 (high), 2 (medium) or 3 (low), not 9"),
        ({"urgency": 0}, "urgency must be 1"),
        ({"title": "   "}, "title must not be empty"),
        ({"title": "x" * 501}, "title is 501 characters long; the limit is 500"),
        ({"service": "Fax"}, "unknown service 'Fax'; services: Email, VPN"),
        ({"team": "Catering"}, "unknown team 'Catering'"),
        ({"assignee": "zed"}, "no agent 'zed'"),
        ({"assignee": "nina"}, "nina is not a member of team Service Desk"),
        ({"requester": "not-an-email"}, "is not an e-mail address"),
        ({"type": "bug"}, "unknown ticket type 'bug'"),
        ({"description": "a\x00b"}, "description contains a NUL character"),
        ({"opened_at": NOW + timedelta(hours=1)}, "is in the future"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    desk: Desk, fields: dict[str, Any], message: str
) -> None:
    before = snapshot(desk)
    with pytest.raises(d.DeskError, match=message.replace("(", r"\(").replace(")", r"\)")):
        incident(desk, **fields)
    assert snapshot(desk) == before
    # The failed create did not burn a number either.
    assert incident(desk) == "INC0000001"


def test_naive_opened_at_is_refused_with_advice(desk: Desk) -> None:
    with pytest.raises(d.InvalidInput, match="has no time zone"):
        incident(desk, opened_at=NOW.replace(tzinfo=None))


def test_text_is_stored_byte_for_byte(desk: Desk) -> None:
    title = "[bold red]VPN[/] \x1b[31mdown\x1b[0m \t 中文 🚀 \u202eRTL"
    body = "line1\r\nline2\x07\x1b]0;pwned\x07" + "字" * 50_000
    number = incident(desk, title=title, description=body)
    write(desk, "alice", d.add_comment, number, body, kind="work_note")
    t = ticket(desk, number)
    assert t.title == title and t.description == body
    with desk.store.read() as s:
        assert s.scalars(select(Comment.body)).one() == body


def test_request_from_catalogue_needs_its_form_and_waits_for_approval(desk: Desk) -> None:
    with pytest.raises(d.InvalidInput, match="Model is required"):
        write(
            desk,
            "alice",
            d.create_ticket,
            type="request",
            title="Laptop for new hire",
            impact=3,
            urgency=3,
            catalogue_item="laptop",
        )
    req = write(
        desk,
        "alice",
        d.create_ticket,
        type="request",
        title="Laptop for new hire",
        impact=3,
        urgency=3,
        catalogue_item="laptop",
        form_data={"model": "T14"},
    )
    assert (req.number, req.status) == ("REQ0000001", "awaiting_approval")
    with pytest.raises(d.PermissionDenied, match="approve or reject requests"):
        write(desk, "alice", d.transition_ticket, req.number, "approved")
    approved = write(desk, "sam", d.transition_ticket, req.number, "approved")
    assert approved.status == "approved" and approved.approved_at == NOW


# --- transitions ------------------------------------------------------------


def test_refused_move_says_what_is_allowed_from_here(desk: Desk) -> None:
    number = incident(desk)
    before = snapshot(desk)
    with pytest.raises(d.TransitionRefused) as err:
        write(desk, "alice", d.transition_ticket, number, "closed")
    assert str(err.value) == (
        "INC0000001 cannot move from new to closed; from new it can go to: "
        "assigned, in_progress, pending, resolved, cancelled"
    )
    assert snapshot(desk) == before


def test_unknown_status_lists_the_statuses_of_the_type(desk: Desk) -> None:
    number = incident(desk)
    with pytest.raises(d.TransitionRefused, match="'fulfilled' is not a status of an incident"):
        write(desk, "alice", d.transition_ticket, number, "fulfilled")


def test_in_progress_takes_the_ticket_and_marks_first_response(desk: Desk) -> None:
    number = incident(desk)
    write(desk, "bob", d.transition_ticket, number, "in_progress", now=LATER)
    t = ticket(desk, number)
    assert t.assignee.username == "bob"
    assert t.first_response_at == LATER


def test_first_public_reply_is_the_first_response_but_a_work_note_is_not(desk: Desk) -> None:
    number = incident(desk)
    write(desk, "alice", d.add_comment, number, "looking", kind="work_note", now=LATER)
    assert ticket(desk, number).first_response_at is None
    write(desk, "alice", d.add_comment, number, "We are on it", kind="reply", now=LATER)
    write(
        desk,
        "alice",
        d.add_comment,
        number,
        "Still on it",
        kind="reply",
        now=LATER + timedelta(hours=1),
    )
    assert ticket(desk, number).first_response_at == LATER


def test_resolve_needs_code_and_notes(desk: Desk) -> None:
    number = incident(desk)
    with pytest.raises(d.InvalidInput, match="needs a resolution code and notes"):
        write(desk, "alice", d.transition_ticket, number, "resolved")
    with pytest.raises(d.InvalidInput, match="unknown resolution code 'magic'"):
        write(desk, "alice", d.resolve_ticket, number, code="magic", notes="x")
    with pytest.raises(d.InvalidInput, match="resolution notes must not be empty"):
        write(desk, "alice", d.resolve_ticket, number, code="fixed", notes=" ")
    t = write(
        desk,
        "alice",
        d.resolve_ticket,
        number,
        code="fixed",
        notes="Replaced the tunnel cert",
        now=LATER,
    )
    assert (t.status, t.is_open, t.resolved_at, t.resolution_code) == (
        "resolved",
        False,
        LATER,
        "fixed",
    )


def test_reopen_is_explicit_keeps_history_and_closed_is_final(desk: Desk) -> None:
    number = incident(desk)
    write(desk, "alice", d.resolve_ticket, number, code="fixed", notes="done")
    with pytest.raises(d.TransitionRefused, match="reopen"):
        write(desk, "alice", d.transition_ticket, number, "in_progress")
    with pytest.raises(d.InvalidInput, match="reason must not be empty"):
        write(desk, "alice", d.reopen_ticket, number, reason="")
    t = write(desk, "alice", d.reopen_ticket, number, reason="User says it is back")
    assert (t.status, t.is_open, t.reopen_count, t.resolved_at) == ("in_progress", True, 1, None)
    assert any(
        e.action == "reopen" and e.reason == "User says it is back" for e in audit_of(desk, number)
    )
    write(desk, "alice", d.resolve_ticket, number, code="fixed", notes="again")
    closed = write(desk, "alice", d.close_ticket, number, now=LATER)
    assert closed.closed_at == LATER
    with pytest.raises(d.TransitionRefused, match="closed, which is final"):
        write(desk, "alice", d.reopen_ticket, number, reason="again?")
    with pytest.raises(d.TransitionRefused, match="you cannot change it"):
        write(desk, "alice", d.update_ticket, number, title="new title")


def test_resolved_tickets_must_be_reopened_before_edits(desk: Desk) -> None:
    number = incident(desk)
    write(desk, "alice", d.resolve_ticket, number, code="fixed", notes="done")
    with pytest.raises(d.TransitionRefused, match="reopen it before you change it"):
        write(desk, "alice", d.update_ticket, number, impact=1)


# --- assignment and roles ---------------------------------------------------


def test_take_assigns_to_me_and_moves_new_to_assigned(desk: Desk) -> None:
    number = incident(desk)
    t = write(desk, "alice", d.assign_ticket, number, assignee="alice")
    assert (t.assignee.username, t.status) == ("alice", "assigned")
    events = {(e.field, e.old_value, e.new_value) for e in audit_of(desk, number)}
    assert ("assignee", None, "alice") in events
    assert ("status", "new", "assigned") in events


def test_assigning_someone_else_notifies_them_not_me(desk: Desk) -> None:
    number = incident(desk)
    write(desk, "alice", d.assign_ticket, number, assignee="alice")
    write(desk, "alice", d.assign_ticket, number, assignee="bob")
    with desk.store.read() as s:
        recipients = [n.agent_id for n in s.scalars(select(Notification))]
        bob = desk.actor(s, "bob")
    assert recipients == [bob.id]


def test_only_supervisors_move_tickets_across_tiers(desk: Desk) -> None:
    number = incident(desk)
    before = snapshot(desk)
    with pytest.raises(d.PermissionDenied, match="alice cannot move a ticket across support tiers"):
        write(desk, "alice", d.assign_ticket, number, team="Network")
    assert snapshot(desk) == before
    t = write(desk, "sam", d.assign_ticket, number, assignee="nina")
    assert (t.team.name, t.assignee.username) == ("Network", "nina")


def test_moving_team_drops_an_assignee_from_another_team(desk: Desk) -> None:
    number = incident(desk, assignee="alice")
    t = write(desk, "sam", d.assign_ticket, number, team="Network")
    assert t.assignee is None and t.status == "new"


def test_priority_override_needs_a_supervisor_and_a_reason(desk: Desk) -> None:
    number = incident(desk)  # P3
    with pytest.raises(d.PermissionDenied, match="needs the role supervisor or admin"):
        write(desk, "alice", d.override_priority, number, 1, reason="CEO")
    with pytest.raises(d.InvalidInput, match="reason must not be empty"):
        write(desk, "sam", d.override_priority, number, 1, reason="")
    t = write(desk, "sam", d.override_priority, number, 1, reason="Board meeting at 10")
    assert (t.priority, t.priority_overridden) == (1, True)
    [event] = [e for e in audit_of(desk, number) if e.field == "priority"]
    assert (event.old_value, event.new_value, event.reason) == ("P3", "P1", "Board meeting at 10")
    # The override stands when impact changes later.
    assert write(desk, "alice", d.update_ticket, number, impact=3).priority == 1


def test_changing_impact_re_derives_priority(desk: Desk) -> None:
    number = incident(desk)  # 2×2 → P3
    assert write(desk, "alice", d.update_ticket, number, impact=1, urgency=1).priority == 1


def test_inactive_agent_cannot_write(desk: Desk) -> None:
    with desk.store.write() as s:
        desk.actor(s, "bob").active = False
    with pytest.raises(d.PermissionDenied, match="bob is inactive"):
        write(desk, "bob", d.create_ticket, type="incident", title="x", impact=1, urgency=1)


# --- versions and conflicts -------------------------------------------------


def test_every_write_bumps_the_version_once_and_audits_it(desk: Desk) -> None:
    number = incident(desk)
    assert write(desk, "alice", d.assign_ticket, number, assignee="alice").version == 2
    assert write(desk, "alice", d.update_ticket, number, title="t2", description="d2").version == 3
    write(desk, "alice", d.add_comment, number, "hi")
    assert ticket(desk, number).version == 4
    versions = [e.record_version for e in audit_of(desk, number)]
    assert versions == sorted(versions) and set(versions) == {1, 2, 3, 4}


def test_a_write_that_changes_nothing_does_not_bump(desk: Desk) -> None:
    number = incident(desk)
    t = write(desk, "alice", d.update_ticket, number, title="VPN drops every hour")
    assert t.version == 1


def test_stale_version_is_refused_naming_who_changed_what(desk: Desk) -> None:
    number = incident(desk)
    write(
        desk,
        "bob",
        d.update_ticket,
        number,
        title="VPN drops for the whole floor",
        expected_version=1,
    )
    before = snapshot(desk)
    with pytest.raises(d.Conflict) as err:
        write(desk, "alice", d.update_ticket, number, title="mine", expected_version=1)
    assert err.value.exit_code == 3
    assert err.value.current_version == 2
    [change] = err.value.changes
    assert (change.actor, change.field, change.new) == (
        "bob",
        "title",
        "VPN drops for the whole floor",
    )
    assert "bob set title" in str(err.value) and "Nothing was written" in str(err.value)
    assert snapshot(desk) == before


def test_concurrent_orm_writers_never_overwrite_each_other(desk: Desk) -> None:
    """Two sessions hold version 1; the database stops the second from writing.

    PostgreSQL: reads are REPEATABLE READ (the KPI rollups need one snapshot, docs/kpi.md),
    so the row changed since the second session's snapshot refuses the UPDATE
    (SerializationFailure); in READ COMMITTED its version would match no row (StaleDataError).
    SQLite: the second session's read snapshot cannot become a write transaction
    after the first committed. The desk's own writes avoid both by locking first.
    """
    number = incident(desk)
    first: Session
    with desk.store.read() as first, desk.store.read() as second:
        a = first.scalars(select(Ticket).where(Ticket.number == number)).one()
        b = second.scalars(select(Ticket).where(Ticket.number == number)).one()
        a.title, a.version = "first", 2
        first.commit()
        b.title, b.version = "second", 2
        refused = r"(?i)stale|expected to update|database is locked|could not serialize"
        with pytest.raises(Exception, match=refused):
            second.commit()
    assert ticket(desk, number).title == "first"


# --- links, time, surveys, outages ------------------------------------------


def test_links_to_major_incident_problem_and_change(desk: Desk) -> None:
    major = incident(desk, title="Whole site offline")
    child = incident(desk)
    problem = write(
        desk,
        "alice",
        d.create_ticket,
        type="problem",
        title="Flaky core switch",
        impact=1,
        urgency=2,
    ).number
    change = write(desk, "alice", d.create_change, title="Replace switch", problem=problem).number
    t = write(desk, "alice", d.link_ticket, child, parent=major, problem=problem, change=change)
    assert (t.parent.number, t.problem.number, t.change.number) == (major, problem, change)
    assert ticket(desk, major).is_major
    with pytest.raises(d.InvalidInput, match="cannot be its own parent"):
        write(desk, "alice", d.link_ticket, major, parent=child)
    with pytest.raises(d.InvalidInput, match="is not a problem"):
        write(desk, "alice", d.link_ticket, child, problem=major)
    with pytest.raises(d.NotFound, match="no change CHG0000099"):
        write(desk, "alice", d.link_ticket, child, change="CHG0000099")


def test_time_is_costed_at_the_agents_rate(desk: Desk) -> None:
    number = incident(desk)
    entry = write(desk, "alice", d.log_time, number, 45, note="remote session")
    assert (entry.minutes, str(entry.cost)) == (45, "45.00")  # 60/h
    for bad in (0, -5, 24 * 60 + 1):
        with pytest.raises(d.InvalidInput, match="minutes must be a whole number"):
            write(desk, "alice", d.log_time, number, bad)


def test_survey_follows_resolution_once(desk: Desk) -> None:
    number = incident(desk)
    with pytest.raises(d.InvalidInput, match="is not resolved"):
        write(desk, "alice", d.record_survey, number, 5)
    write(desk, "alice", d.resolve_ticket, number, code="fixed", notes="ok")
    with pytest.raises(d.InvalidInput, match="a rating is 1 to 5, not 6"):
        write(desk, "alice", d.record_survey, number, 6)
    assert write(desk, "alice", d.record_survey, number, 4, comment="quick").rating == 4
    with pytest.raises(d.InvalidInput, match="already has a survey"):
        write(desk, "alice", d.record_survey, number, 5)


def test_outage_must_end_after_it_starts_and_is_audited(desk: Desk) -> None:
    with pytest.raises(d.InvalidInput, match="must end after it starts"):
        write(
            desk,
            "alice",
            d.record_outage,
            service="VPN",
            started_at=NOW,
            ended_at=NOW - timedelta(minutes=1),
        )
    outage = write(
        desk,
        "alice",
        d.record_outage,
        service="VPN",
        started_at=NOW - timedelta(minutes=30),
        ended_at=NOW,
    )
    with desk.store.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.record_type == "outage")).one()
    assert event.record_id == outage.id and event.actor_id is not None


def test_complaint_about_a_ticket_is_audited_on_it(desk: Desk) -> None:
    number = incident(desk, requester="angry@example.com")
    complaint = write(
        desk, "alice", d.record_complaint, summary="Nobody called back", number=number
    )
    assert complaint.requester_id is not None
    assert any(e.action == "complaint" for e in audit_of(desk, number))


def test_a_reply_after_the_ticket_ended_is_not_its_first_response(desk: Desk) -> None:
    number = incident(desk)
    write(desk, "alice", d.transition_ticket, number, "cancelled", now=NOW + timedelta(minutes=1))
    write(desk, "alice", d.add_comment, number, "sorry, duplicate", now=LATER)
    t = ticket(desk, number)
    assert t.first_response_at is None and t.closed_at == NOW + timedelta(minutes=1)
