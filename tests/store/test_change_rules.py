"""Risk, schedule, caused incidents and the lists of changes, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from itsm_tui import desk as d
from itsm_tui.data import change_lists
from itsm_tui.data.change_outcomes import first_time_success_clause, succeeded_first_time
from itsm_tui.data.models import AuditEvent, Change, ChangeCausedIncident, Service, Ticket
from itsm_tui.data.store import Store
from tests.change_desk import (
    HIGH,
    LOW,
    MEDIUM,
    PLANS,
    WINDOW_END,
    WINDOW_START,
    build_change_desk,
    snapshot,
    write,
)
from tests.factories import NOW, Desk


@pytest.fixture
def cdesk(store: Store) -> Desk:
    return build_change_desk(store)


def change(desk: Desk, *, by: str = "alice", **kw: Any) -> str:
    fields: dict[str, Any] = {"title": "Upgrade mail relays", "services": ["Email"], **PLANS}
    fields.update(kw)
    return write(desk, by, d.create_change, **fields)["number"]


def refused(
    desk: Desk, error: type[Exception], match: str, username: str, fn: Any, *a: Any, **kw: Any
) -> Exception:
    before = snapshot(desk.store)
    with pytest.raises(error, match=match) as caught:
        write(desk, username, fn, *a, **kw)
    assert snapshot(desk.store) == before
    return caught.value


# ---------------------------------------------------------------------------
# Risk


def test_risk_is_the_higher_of_questionnaire_and_rules_with_its_reasons(cdesk: Desk) -> None:
    number = change(cdesk, backout_plan="")
    write(cdesk, "alice", d.submit_change, number)
    record = write(cdesk, "alice", d.assess_change, number, LOW)
    assert (record["risk"], record["risk_score"]) == ("high", 0)
    top = record["risk_reasons"][0]
    assert (top["source"], top["key"], top["level"]) == ("rule", "no_backout_plan", "high")
    assert record["risk_reasons"][-1]["key"] == "score"
    # The questionnaire alone wins when it is higher than every rule.
    record = write(cdesk, "alice", d.update_change, number, backout_plan="Roll back.")
    assert record["risk"] == "low"
    record = write(cdesk, "alice", d.assess_change, number, HIGH)
    assert (record["risk"], record["risk_reasons"][0]["source"]) == ("high", "questionnaire")
    assert "The whole company (+6)" in record["risk_reasons"][0]["text"]


def test_an_open_major_incident_on_the_service_sets_very_high(cdesk: Desk) -> None:
    write(
        cdesk,
        "alice",
        d.create_ticket,
        type="incident",
        title="Mail down",
        impact=1,
        urgency=1,
        service="Email",
    )
    number = change(cdesk)
    write(cdesk, "alice", d.submit_change, number)
    record = write(cdesk, "alice", d.assess_change, number, LOW)
    assert record["risk"] == "very_high"
    assert record["risk_reasons"][0]["text"] == "open major incident on Email"


def test_a_window_outside_the_maintenance_window_raises_the_risk(cdesk: Desk) -> None:
    # Email takes changes on Saturday nights only.
    night = WINDOW_START.replace(hour=22, minute=0)
    while night.weekday() != 5:
        night += timedelta(days=1)
    with cdesk.store.write() as s:
        email = s.scalars(select(Service).where(Service.name == "Email")).one()
        email.maintenance_windows = [
            {
                "name": "Saturday night",
                "starts_at": night.isoformat(),
                "ends_at": (night + timedelta(hours=4)).isoformat(),
                "recurrence": "FREQ=WEEKLY",
            }
        ]
    number = change(cdesk)
    write(cdesk, "alice", d.submit_change, number)
    write(cdesk, "alice", d.schedule_change, number, start=night, end=night + timedelta(hours=2))
    assert write(cdesk, "alice", d.assess_change, number, LOW)["risk"] == "low"
    # Moved to a weekday afternoon: a maintenance conflict, accepted by a change manager,
    # and the rule raises the level the kept answers give.
    afternoon = night + timedelta(days=3, hours=-8)
    refused(
        cdesk,
        d.ScheduleConflict,
        "Email",
        "alice",
        d.schedule_change,
        number,
        start=afternoon,
        end=afternoon + timedelta(hours=2),
    )
    record = write(
        cdesk,
        "mia",
        d.schedule_change,
        number,
        start=afternoon,
        end=afternoon + timedelta(hours=2),
        override_reason="Vendor on site Tuesday.",
    )
    assert (record["risk"], record["risk_reasons"][0]["key"]) == ("medium", "outside_maintenance")


def test_every_question_must_be_answered_with_an_offered_answer(cdesk: Desk) -> None:
    number = change(cdesk)
    write(cdesk, "alice", d.submit_change, number)
    partial = {k: v for k, v in LOW.items() if k != "outage"}
    refused(cdesk, d.InvalidInput, "unanswered: outage", "alice", d.assess_change, number, partial)
    refused(
        cdesk,
        d.InvalidInput,
        "outage: 'maybe' is not an answer",
        "alice",
        d.assess_change,
        number,
        {**LOW, "outage": "maybe"},
    )


# ---------------------------------------------------------------------------
# Schedule


def scheduled(desk: Desk, **kw: Any) -> str:
    """A standard change holding WINDOW_START…WINDOW_END on Email (scheduled)."""
    number = write(
        desk,
        "alice",
        d.create_change,
        change_type="standard",
        template="mail-restart",
        planned_start=WINDOW_START,
        planned_end=WINDOW_END,
        **kw,
    )["number"]
    assert write(desk, "alice", d.submit_change, number)["status"] == "scheduled"
    return number


def test_a_conflicting_window_is_refused_naming_the_clash(cdesk: Desk) -> None:
    first = scheduled(cdesk)
    second = change(cdesk, title="Mail archive migration")
    error = refused(
        cdesk,
        d.ScheduleConflict,
        first,
        "alice",
        d.schedule_change,
        second,
        start=WINDOW_START + timedelta(hours=1),
        end=WINDOW_END + timedelta(hours=1),
    )
    assert isinstance(error, d.ScheduleConflict)
    assert [(c.kind, c.name) for c in error.conflicts] == [("change", first)]


def test_a_change_manager_overrides_a_conflict_with_a_reason(cdesk: Desk) -> None:
    first = scheduled(cdesk)
    second = change(cdesk, title="Mail archive migration")
    window = {"start": WINDOW_START, "end": WINDOW_END}
    refused(
        cdesk,
        d.PermissionDenied,
        "cannot override schedule conflicts",
        "alice",
        d.schedule_change,
        second,
        override_reason="Same engineers, same night.",
        **window,
    )
    record = write(
        cdesk,
        "mia",
        d.schedule_change,
        second,
        override_reason="Same engineers, same night.",
        **window,
    )
    assert record["planned_start"] is not None
    [kept] = record["schedule_overrides"]
    assert (kept["kind"], kept["name"], kept["by"], kept["reason"]) == (
        "change",
        first,
        "mia",
        "Same engineers, same night.",
    )
    with cdesk.store.read() as s:
        reasons = s.scalars(
            select(AuditEvent.reason).where(
                AuditEvent.record_number == second, AuditEvent.field == "planned_start"
            )
        ).all()
    assert reasons == ["Same engineers, same night."]


def test_a_window_planned_in_draft_is_checked_again_when_it_goes_to_the_cab(cdesk: Desk) -> None:
    # Drafts do not hold their windows: two may plan the same night.
    first, second = (
        change(cdesk, title=title, planned_start=WINDOW_START, planned_end=WINDOW_END)
        for title in ("Relay firmware", "Archive migration")
    )
    for number in (first, second):
        write(cdesk, "alice", d.submit_change, number)
        write(cdesk, "alice", d.assess_change, number, LOW)
    assert write(cdesk, "alice", d.submit_change, first)["status"] == "authorization"
    refused(cdesk, d.ScheduleConflict, f"conflicts: {first}", "alice", d.submit_change, second)
    # Accepted by a change manager, the same conflict is not raised again.
    write(
        cdesk,
        "mia",
        d.schedule_change,
        second,
        start=WINDOW_START,
        end=WINDOW_END,
        override_reason="Both teams on site that night.",
    )
    assert write(cdesk, "alice", d.submit_change, second)["status"] == "authorization"


def test_an_implementer_cannot_be_in_two_changes_at_once(cdesk: Desk) -> None:
    scheduled(cdesk, implementer="nina")
    other = change(cdesk, services=["VPN"], implementer="nina")
    error = refused(
        cdesk,
        d.ScheduleConflict,
        "nina",
        "alice",
        d.schedule_change,
        other,
        start=WINDOW_START,
        end=WINDOW_END,
    )
    assert [c.kind for c in error.conflicts] == ["implementer"]  # type: ignore[attr-defined]


def test_a_normal_change_goes_to_the_cab_only_its_lead_time_ahead(cdesk: Desk) -> None:
    # A draft may plan any window; the 72 h notice counts when it goes to the CAB.
    number = change(cdesk)
    write(cdesk, "alice", d.submit_change, number)
    write(cdesk, "alice", d.assess_change, number, LOW)
    soon = {"start": NOW + timedelta(hours=5), "end": NOW + timedelta(hours=6)}
    write(cdesk, "alice", d.schedule_change, number, **soon)
    refused(cdesk, d.InvalidInput, "at least 72 h ahead", "alice", d.submit_change, number)
    write(cdesk, "alice", d.schedule_change, number, start=WINDOW_START, end=WINDOW_END)
    assert write(cdesk, "alice", d.submit_change, number)["status"] == "authorization"
    # Moving an authorized change keeps the notice too.
    write(cdesk, "carol", d.approve_change, number)
    refused(
        cdesk, d.InvalidInput, "at least 72 h ahead", "alice", d.schedule_change, number, **soon
    )


# ---------------------------------------------------------------------------
# Caused incidents and first-time success


def implemented(desk: Desk, *, outcome: str = "successful") -> str:
    number = write(
        desk,
        "alice",
        d.create_change,
        change_type="standard",
        template="mail-restart",
        planned_start=NOW + timedelta(hours=1),
    )["number"]
    write(desk, "alice", d.submit_change, number)
    write(desk, "alice", d.start_change, number)
    write(desk, "alice", d.complete_change, number, outcome=outcome, now=NOW + timedelta(hours=1))
    return number


def incident_at(desk: Desk, days: float) -> str:
    opened = NOW + timedelta(days=days)
    return write(
        desk,
        "alice",
        d.create_ticket,
        type="incident",
        title="Mail slow",
        impact=2,
        urgency=2,
        opened_at=opened,
        now=opened,
    ).number


def first_time_successes(desk: Desk) -> int:
    with desk.store.read() as s:
        return int(
            s.scalar(select(func.count()).select_from(Change).where(first_time_success_clause()))
        )


def test_a_caused_incident_in_the_review_period_spoils_first_time_success(cdesk: Desk) -> None:
    number = implemented(cdesk)
    assert first_time_successes(cdesk) == 1
    # Standard changes: seven review days after the end.
    late = incident_at(cdesk, 9)
    write(cdesk, "alice", d.link_caused_incident, number, late, now=NOW + timedelta(days=9))
    assert first_time_successes(cdesk) == 1
    early = incident_at(cdesk, 3)
    record = write(
        cdesk, "alice", d.link_caused_incident, number, early, now=NOW + timedelta(days=9)
    )
    assert isinstance(record, ChangeCausedIncident) and record.within_review
    assert first_time_successes(cdesk) == 0
    with cdesk.store.read() as s:
        c = s.scalars(select(Change).where(Change.number == number)).one()
        linked = {
            t.number: t for t in s.scalars(select(Ticket).where(Ticket.number.in_([early, late])))
        }
        # Linked both ways: each incident names the change that caused it.
        assert {t.change_id for t in linked.values()} == {c.id}
        assert succeeded_first_time(c, [linked[late].opened_at], review_days=7) is True
        assert (
            succeeded_first_time(
                c, [linked[late].opened_at, linked[early].opened_at], review_days=7
            )
            is False
        )
    refused(cdesk, d.InvalidInput, "already linked", "alice", d.link_caused_incident, number, early)


def test_an_incident_older_than_the_change_was_not_caused_by_it(cdesk: Desk) -> None:
    before = incident_at(cdesk, -0.5)
    number = implemented(cdesk)
    refused(cdesk, d.InvalidInput, "opened before", "alice", d.link_caused_incident, number, before)
    with cdesk.store.read() as s:
        assert s.scalar(select(func.count()).select_from(ChangeCausedIncident)) == 0


def test_failed_and_backed_out_changes_are_never_first_time_successes(cdesk: Desk) -> None:
    implemented(cdesk, outcome="failed")
    implemented(cdesk, outcome="backed_out")
    assert first_time_successes(cdesk) == 0


# ---------------------------------------------------------------------------
# Lists


def test_a_cab_member_sees_what_waits_for_their_vote(cdesk: Desk) -> None:
    numbers = []
    for day in range(3):
        number = change(cdesk)
        write(cdesk, "alice", d.submit_change, number)
        # The middle one is medium risk: two approvals.
        write(cdesk, "alice", d.assess_change, number, MEDIUM if day == 1 else LOW)
        write(
            cdesk,
            "alice",
            d.schedule_change,
            number,
            start=WINDOW_START + timedelta(days=day),
            end=WINDOW_END + timedelta(days=day),
        )
        write(cdesk, "alice", d.submit_change, number)
        numbers.append(number)
    write(cdesk, "carol", d.approve_change, numbers[0])  # low risk: one approval authorizes
    write(cdesk, "carol", d.approve_change, numbers[1])  # medium: still waits for another
    with cdesk.store.read() as s:
        carol, erin = cdesk.actor(s, "carol").id, cdesk.actor(s, "erin").id
        assert change_lists.awaiting_approval_by(s, carol) == numbers[2:]
        # numbers[0] is authorized: nobody's vote is awaited on it any more.
        assert change_lists.awaiting_approval_by(s, erin) == numbers[1:]
        page = change_lists.list_changes(s, awaiting=erin, limit=1)
        assert [r.number for r in page] == numbers[1:2]
        after = change_lists.list_changes(s, awaiting=erin, after=page[-1].number)
        assert [r.number for r in after] == numbers[2:]


def test_changes_are_listed_by_status_type_and_service(cdesk: Desk) -> None:
    mail = change(cdesk)
    vpn = change(cdesk, services=["VPN"], title="VPN certs")
    write(cdesk, "alice", d.submit_change, vpn)
    with cdesk.store.read() as s:
        assert [r.number for r in change_lists.list_changes(s, service="Email")] == [mail]
        assert [r.number for r in change_lists.list_changes(s, status="assessment")] == [vpn]
        assert [r.number for r in change_lists.list_changes(s, change_type="standard")] == []
        assert [r.number for r in change_lists.list_changes(s, service="Emai")] == []
