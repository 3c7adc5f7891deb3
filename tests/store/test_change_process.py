"""The change process on both databases: each type's path, the CAB's vote, the review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from itsm_tui import desk as d
from itsm_tui.data.models import AuditEvent, Change, ChangeApproval, Notification, Ticket
from itsm_tui.data.record_json import iso
from itsm_tui.data.store import Store
from tests.change_desk import (
    HIGH,
    LOW,
    MEDIUM,
    PLANS,
    VERY_HIGH,
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


def normal_change(desk: Desk, *, by: str = "alice", services: Any = ("Email",), **kw: Any) -> str:
    fields: dict[str, Any] = {"title": "Upgrade mail relays", "services": list(services), **PLANS}
    fields.update(kw)
    return write(desk, by, d.create_change, **fields)["number"]


def to_authorization(
    desk: Desk, answers: dict[str, str] = LOW, *, by: str = "alice", day: int = 0
) -> str:
    number = normal_change(desk, by=by)
    write(desk, by, d.submit_change, number)
    write(desk, by, d.assess_change, number, answers)
    later = timedelta(days=day)
    write(desk, by, d.schedule_change, number, start=WINDOW_START + later, end=WINDOW_END + later)
    record = write(desk, by, d.submit_change, number)
    assert record["status"] == "authorization"
    return number


def refused(
    desk: Desk, error: type[Exception], match: str, username: str, fn: Any, *a: Any, **kw: Any
) -> None:
    """The write is refused with `error` and leaves the store exactly as it was."""
    before = snapshot(desk.store)
    with pytest.raises(error, match=match):
        write(desk, username, fn, *a, **kw)
    assert snapshot(desk.store) == before


# ---------------------------------------------------------------------------
# The normal path


def test_normal_change_from_draft_to_closed(cdesk: Desk) -> None:
    number = normal_change(cdesk)
    assert write(cdesk, "alice", d.submit_change, number)["status"] == "assessment"
    assessed = write(cdesk, "alice", d.assess_change, number, MEDIUM)
    assert (assessed["risk"], assessed["risk_score"]) == ("medium", 6)
    write(
        cdesk,
        "alice",
        d.schedule_change,
        number,
        start=WINDOW_START,
        end=WINDOW_END,
        implementer="nina",
    )
    record = write(cdesk, "alice", d.submit_change, number)
    # Medium risk: two approvals; every CAB member but the requester is asked.
    assert (record["status"], record["quorum"]) == ("authorization", 2)
    assert sorted(v["approver"] for v in record["approvals"]) == ["carol", "dave", "erin", "frank"]
    with cdesk.store.read() as s:
        asked = s.scalars(
            select(Notification.agent_id).where(Notification.kind == "approval")
        ).all()
        assert len(asked) == 4
    record = write(cdesk, "carol", d.approve_change, number, comment="fine by me")
    assert (record["status"], record["approved"], record["authorized_at"]) == (
        "authorization",
        1,
        None,
    )
    record = write(cdesk, "erin", d.approve_change, number)
    assert record["status"] == "scheduled"
    assert record["authorized_at"] is not None
    start = WINDOW_START
    record = write(cdesk, "nina", d.start_change, number, at=start, now=start)
    assert (record["status"], record["actual_start"]) == ("implementing", iso(start))
    end = start + timedelta(hours=1)
    record = write(
        cdesk,
        "nina",
        d.complete_change,
        number,
        outcome="successful",
        notes="All relays on 9.2.",
        now=end,
    )
    assert (record["status"], record["outcome"]) == ("review", "successful")
    # A successful normal change on a desk that does not ask for a review of one: closes.
    record = write(cdesk, "alice", d.close_change, number, now=end)
    assert (record["status"], record["is_open"], record["succeeded_first_time"]) == (
        "closed",
        False,
        True,
    )
    with cdesk.store.read() as s:
        actions = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.record_type == "change", AuditEvent.record_number == number)
            .order_by(AuditEvent.id)
        ).all()
    for action in (
        "create",
        "submit",
        "assess",
        "schedule",
        "approve",
        "start",
        "complete",
        "close",
    ):
        assert action in actions


def test_the_approvals_needed_follow_the_risk_level_as_count_and_share(cdesk: Desk) -> None:
    # A CAB of four: low 1, medium 2, high "50%" → 2, very_high "75%" → 3.
    levels = ((LOW, 1), (MEDIUM, 2), (HIGH, 2), (VERY_HIGH, 3))
    for day, (answers, needed) in enumerate(levels):
        number = to_authorization(cdesk, answers, day=day)
        with cdesk.store.read() as s:
            change = s.scalars(select(Change).where(Change.number == number)).one()
            assert change.quorum == needed, (answers, change.risk)


def test_quorum_reached_only_with_enough_approvals(cdesk: Desk) -> None:
    number = to_authorization(cdesk, VERY_HIGH)
    for voter in ("carol", "dave"):
        assert write(cdesk, voter, d.approve_change, number)["status"] == "authorization"
    assert write(cdesk, "erin", d.approve_change, number)["status"] == "scheduled"


def test_one_rejection_rejects_with_its_reason(cdesk: Desk) -> None:
    number = to_authorization(cdesk, MEDIUM)
    write(cdesk, "carol", d.approve_change, number)
    record = write(cdesk, "dave", d.reject_change, number, reason="Clashes with the audit.")
    assert (record["status"], record["is_open"]) == ("rejected", False)
    assert {(v["approver"], v["decision"], v["comment"]) for v in record["approvals"]} >= {
        ("carol", "approved", ""),
        ("dave", "rejected", "Clashes with the audit."),
    }
    with cdesk.store.read() as s:
        owner_told = s.scalars(
            select(Notification.message).where(Notification.message.like("%rejected%"))
        ).all()
        reason = s.scalars(select(AuditEvent.reason).where(AuditEvent.action == "reject")).first()
    assert owner_told == [f"dave rejected {number}: Clashes with the audit."]
    assert reason == "Clashes with the audit."
    # A rejected change takes no more votes.
    refused(
        cdesk,
        d.TransitionRefused,
        "votes on a normal change in authorization",
        "erin",
        d.approve_change,
        number,
    )


def test_nobody_approves_a_change_they_requested(cdesk: Desk) -> None:
    number = to_authorization(cdesk, LOW, by="dave")
    refused(
        cdesk,
        d.PermissionDenied,
        "nobody approves their own change",
        "dave",
        d.approve_change,
        number,
    )
    with cdesk.store.read() as s:
        asked = s.scalars(
            select(ChangeApproval.approver_id).join(Change).where(Change.number == number)
        ).all()
        dave = cdesk.actor(s, "dave").id
    assert dave not in asked


def test_only_the_cab_votes(cdesk: Desk) -> None:
    number = to_authorization(cdesk, LOW)
    for agent in ("bob", "mia", "root"):
        refused(cdesk, d.PermissionDenied, "needs the role cab", agent, d.approve_change, number)
    write(cdesk, "carol", d.approve_change, number)
    refused(cdesk, d.TransitionRefused, "already authorized", "carol", d.approve_change, number)


def test_a_second_vote_by_the_same_member_is_refused(cdesk: Desk) -> None:
    number = to_authorization(cdesk, MEDIUM)
    write(cdesk, "carol", d.approve_change, number)
    refused(cdesk, d.InvalidInput, "carol already approved", "carol", d.approve_change, number)


def test_authorization_needs_assessment_plans_and_a_window(cdesk: Desk) -> None:
    number = normal_change(cdesk, backout_plan="", test_plan="")
    write(cdesk, "alice", d.submit_change, number)
    refused(
        cdesk,
        d.TransitionRefused,
        "needs a risk assessment, a back-out plan, a test plan, a planned window",
        "alice",
        d.submit_change,
        number,
    )


def test_a_window_is_refused_when_it_ends_first_or_outlasts_two_weeks(cdesk: Desk) -> None:
    number = normal_change(cdesk)
    for end, says in (
        (WINDOW_START, "must end after it starts"),
        (WINDOW_START + timedelta(days=14, minutes=1), "lasts at most 14 days"),
    ):
        refused(
            cdesk,
            d.InvalidInput,
            says,
            "alice",
            d.schedule_change,
            number,
            start=WINDOW_START,
            end=end,
        )


def test_a_refused_move_says_what_is_allowed(cdesk: Desk) -> None:
    number = normal_change(cdesk)
    refused(
        cdesk,
        d.TransitionRefused,
        "is draft; a normal change moves from draft to: assessment, cancelled",
        "alice",
        d.start_change,
        number,
    )


def test_only_the_owner_requester_implementer_or_a_change_manager_works_a_change(
    cdesk: Desk,
) -> None:
    number = normal_change(cdesk)
    refused(
        cdesk, d.PermissionDenied, "owner, requester or implementer", "bob", d.submit_change, number
    )
    assert write(cdesk, "mia", d.submit_change, number)["status"] == "assessment"


def test_content_is_edited_only_before_authorization(cdesk: Desk) -> None:
    number = to_authorization(cdesk, LOW)
    refused(
        cdesk,
        d.TransitionRefused,
        "edited only in draft or assessment",
        "alice",
        d.update_change,
        number,
        title="Other",
    )


def test_an_edit_reassesses_with_the_kept_answers(cdesk: Desk) -> None:
    number = normal_change(cdesk)
    write(cdesk, "alice", d.submit_change, number)
    assert write(cdesk, "alice", d.assess_change, number, LOW)["risk"] == "low"
    # VPN is criticality 1: the critical-service rule raises the level.
    record = write(cdesk, "alice", d.update_change, number, services=["Email", "VPN"])
    assert record["risk"] == "high"
    assert record["risk_reasons"][0]["key"] == "critical_service"


def test_stale_version_is_refused(cdesk: Desk) -> None:
    number = normal_change(cdesk)
    refused(
        cdesk,
        d.Conflict,
        "changed since you loaded version 0",
        "alice",
        d.update_change,
        number,
        title="New",
        expected_version=0,
    )


# ---------------------------------------------------------------------------
# Standard and emergency changes


def test_standard_change_from_its_template_goes_straight_to_the_schedule(cdesk: Desk) -> None:
    start = NOW + timedelta(hours=1)
    record = write(
        cdesk,
        "alice",
        d.create_change,
        change_type="standard",
        template="mail-restart",
        planned_start=start,
    )
    assert (record["title"], record["services"], record["risk"], record["template"]) == (
        "Rolling restart of the mail servers",
        ["Email"],
        "low",
        "mail-restart",
    )
    assert record["planned_end"] == iso(start + timedelta(minutes=90))
    assert record["backout_plan"] == "Bring the drained node back without restarting."
    record = write(cdesk, "alice", d.submit_change, record["number"])
    assert (record["status"], record["approvals"]) == ("scheduled", [])
    assert record["authorized_at"] is not None
    refused(
        cdesk,
        d.TransitionRefused,
        "its risk comes from its template",
        "alice",
        d.assess_change,
        record["number"],
        LOW,
    )


def test_a_standard_change_needs_a_known_template(cdesk: Desk) -> None:
    refused(
        cdesk,
        d.InvalidInput,
        "comes from a template",
        "alice",
        d.create_change,
        change_type="standard",
        title="Restart",
    )
    refused(
        cdesk,
        d.NotFound,
        "no change template 'nope'; templates: mail-restart",
        "alice",
        d.create_change,
        change_type="standard",
        template="nope",
    )
    refused(
        cdesk,
        d.InvalidInput,
        "only standard changes come from templates",
        "alice",
        d.create_change,
        title="x",
        template="mail-restart",
    )


def emergency(desk: Desk) -> str:
    number = write(
        desk,
        "alice",
        d.create_change,
        change_type="emergency",
        title="Patch the exploited VPN gateway",
        services=["VPN"],
        planned_start=NOW + timedelta(minutes=30),
        planned_end=NOW + timedelta(hours=2),
        **PLANS,
    )["number"]
    assert write(desk, "alice", d.submit_change, number)["status"] == "authorization"
    return number


def test_emergency_change_starts_before_every_approval_and_needs_a_review(cdesk: Desk) -> None:
    number = emergency(cdesk)
    with cdesk.store.read() as s:
        asked = sorted(
            s.scalars(
                select(ChangeApproval.approver_id).join(Change).where(Change.number == number)
            )
        )
        assert asked == sorted(cdesk.actor(s, n).id for n in ("erin", "frank"))
    refused(
        cdesk,
        d.TransitionRefused,
        "starts once one member of the emergency CAB",
        "alice",
        d.start_change,
        number,
    )
    refused(
        cdesk,
        d.PermissionDenied,
        "not on the emergency CAB; its members: erin, frank",
        "carol",
        d.approve_change,
        number,
    )
    assert write(cdesk, "erin", d.approve_change, number)["authorized_at"] is None
    assert write(cdesk, "alice", d.start_change, number)["status"] == "implementing"
    record = write(cdesk, "frank", d.approve_change, number)
    assert (record["status"], record["approved"]) == ("implementing", 2)
    assert record["authorized_at"] is not None
    write(cdesk, "alice", d.complete_change, number, outcome="successful")
    refused(
        cdesk,
        d.TransitionRefused,
        "needs its post-implementation review before closing",
        "alice",
        d.close_change,
        number,
    )
    write(
        cdesk,
        "alice",
        d.review_change,
        number,
        review_notes="Patched in 40 minutes.",
        lessons_learned="Keep a staged image ready.",
    )
    record = write(cdesk, "alice", d.close_change, number)
    assert (record["status"], record["lessons_learned"]) == ("closed", "Keep a staged image ready.")


@pytest.mark.parametrize("outcome", ["failed", "backed_out"])
def test_a_failed_or_backed_out_change_needs_a_review_before_closing(
    cdesk: Desk, outcome: str
) -> None:
    record = write(
        cdesk,
        "alice",
        d.create_change,
        change_type="standard",
        template="mail-restart",
        planned_start=NOW + timedelta(hours=1),
    )
    number = record["number"]
    write(cdesk, "alice", d.submit_change, number)
    write(cdesk, "alice", d.start_change, number)
    write(cdesk, "alice", d.complete_change, number, outcome=outcome)
    refused(cdesk, d.TransitionRefused, f"a {outcome} change", "alice", d.close_change, number)
    write(
        cdesk,
        "alice",
        d.review_change,
        number,
        review_notes="Node 3 did not come back.",
        lessons_learned="Check disk space first.",
    )
    record = write(cdesk, "alice", d.close_change, number)
    assert (record["status"], record["succeeded_first_time"]) == ("closed", False)


def test_a_successful_standard_change_closes_without_a_review(cdesk: Desk) -> None:
    number = write(
        cdesk,
        "alice",
        d.create_change,
        change_type="standard",
        template="mail-restart",
        planned_start=NOW + timedelta(hours=1),
    )["number"]
    for step in (d.submit_change, d.start_change):
        write(cdesk, "alice", step, number)
    write(cdesk, "alice", d.complete_change, number, outcome="successful")
    assert write(cdesk, "alice", d.close_change, number)["status"] == "closed"


def test_cancel_needs_a_reason_and_ends_the_change(cdesk: Desk) -> None:
    number = normal_change(cdesk)
    refused(
        cdesk,
        d.InvalidInput,
        "reason must not be empty",
        "alice",
        d.cancel_change,
        number,
        reason=" ",
    )
    record = write(cdesk, "alice", d.cancel_change, number, reason="Vendor withdrew the fix.")
    assert (record["status"], record["is_open"]) == ("cancelled", False)
    refused(
        cdesk,
        d.TransitionRefused,
        "moves from cancelled to: nothing",
        "alice",
        d.cancel_change,
        number,
        reason="again",
    )


# ---------------------------------------------------------------------------
# Problems


def test_a_change_from_a_problem_keeps_the_link_and_may_resolve_it(cdesk: Desk) -> None:
    problem = write(
        cdesk,
        "alice",
        d.create_ticket,
        type="problem",
        title="Relays leak memory",
        impact=2,
        urgency=2,
    ).number
    number = write(
        cdesk,
        "alice",
        d.create_change,
        change_type="standard",
        template="mail-restart",
        planned_start=NOW + timedelta(hours=1),
        problem=problem,
    )["number"]
    for step in (d.submit_change, d.start_change):
        write(cdesk, "alice", step, number)
    write(cdesk, "alice", d.complete_change, number, outcome="successful")
    record = write(cdesk, "alice", d.close_change, number, resolve_problem=True)
    assert record["problem"] == problem
    with cdesk.store.read() as s:
        status = s.scalars(select(Ticket.status).where(Ticket.number == problem)).one()
    assert status == "resolved"


# ---------------------------------------------------------------------------
# What the screens offer


def steps(desk: Desk, username: str, number: str) -> tuple[str, ...]:
    with desk.store.read() as s:
        change = s.scalars(select(Change).where(Change.number == number)).one()
        return d.permitted_steps(s, desk.actor(s, username), change)


def test_the_steps_offered_follow_the_state_machine_and_the_role(cdesk: Desk) -> None:
    number = normal_change(cdesk)
    assert steps(cdesk, "alice", number) == ("update", "assess", "schedule", "submit", "cancel")
    assert steps(cdesk, "bob", number) == ()
    write(cdesk, "alice", d.submit_change, number)
    assert steps(cdesk, "mia", number) == ("update", "assess", "schedule", "submit", "cancel")
    write(cdesk, "alice", d.assess_change, number, MEDIUM)
    write(cdesk, "alice", d.schedule_change, number, start=WINDOW_START, end=WINDOW_END)
    write(cdesk, "alice", d.submit_change, number)
    assert steps(cdesk, "alice", number) == ("cancel",)
    assert steps(cdesk, "carol", number) == ("approve", "reject")
    write(cdesk, "carol", d.approve_change, number)
    assert steps(cdesk, "carol", number) == ()
    assert steps(cdesk, "erin", number) == ("approve", "reject")


def test_an_emergency_change_offers_start_once_one_member_approved(cdesk: Desk) -> None:
    number = emergency(cdesk)
    assert steps(cdesk, "alice", number) == ("assess", "schedule", "cancel")
    assert steps(cdesk, "carol", number) == ()  # not on the emergency CAB
    write(cdesk, "erin", d.approve_change, number)
    assert steps(cdesk, "alice", number) == ("assess", "schedule", "start", "cancel")
    write(cdesk, "alice", d.start_change, number)
    assert steps(cdesk, "frank", number) == ("approve", "link_incident")
    assert steps(cdesk, "alice", number) == ("complete", "link_incident")
