"""A catalogue request's fulfilment plan on both databases: steps handed to their teams one
after another, the requester told of each, role-only approval, rejection and cancellation
ending the chain, and a refused step writing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from itsm_tui import desk as d
from itsm_tui.data.models import (
    AuditEvent,
    CatalogueItem,
    Comment,
    FulfilmentTask,
    Notification,
    Team,
    Ticket,
)
from itsm_tui.desk.errors import PermissionDenied, TransitionRefused
from itsm_tui.desk.fulfilment import complete_task, request_steps
from itsm_tui.desk.records import get_ticket
from tests.factories import NOW, Desk

PLAN = [
    {"name": "Create the account", "team": "Service Desk", "minutes": 60},
    {"name": "Open the firewall", "team": "Network"},
    {"name": "Hand over the laptop", "team": "Service Desk", "minutes": 30},
]


@pytest.fixture
def planned(desk: Desk) -> Desk:
    with desk.store.write() as s:
        team = s.scalar(select(Team.id).where(Team.name == "Service Desk"))
        s.add_all(
            [
                CatalogueItem(
                    code="starter",
                    name="New starter",
                    category="onboarding",
                    team_id=team,
                    fulfilment_minutes=600,
                    form=[],
                    tasks=PLAN,
                ),
                CatalogueItem(
                    code="admin-access",
                    name="Admin access",
                    category="access",
                    team_id=team,
                    requires_approval=True,
                    approval_role="supervisor",
                    fulfilment_minutes=120,
                    form=[],
                    tasks=PLAN[:2],
                ),
            ]
        )
    return desk


def request(desk: Desk, item: str, answers: dict[str, Any] | None = None) -> str:
    with desk.store.write() as s:
        return d.create_ticket(
            s,
            desk.actor(s, "alice"),
            type="request",
            title=f"{item} for Wei",
            impact=3,
            urgency=3,
            catalogue_item=item,
            form_data=answers,
            requester="wei@example.com",
            now=NOW,
        ).number


def done(desk: Desk, who: str, number: str, minutes: int) -> None:
    with desk.store.write() as s:
        complete_task(s, desk.actor(s, who), number, now=NOW + timedelta(minutes=minutes))


def state(desk: Desk, number: str) -> dict[str, Any]:
    with desk.store.read() as s:
        ticket = get_ticket(s, number)
        steps = [(v.position, v.team, v.status) for v in request_steps(s, ticket)]
        replies = s.scalars(
            select(Comment.body)
            .where(Comment.ticket_id == ticket.id, Comment.kind == "reply")
            .order_by(Comment.id)
        ).all()
        return {
            "status": ticket.status,
            "team": ticket.team.name if ticket.team else None,
            "assignee": ticket.assignee.username if ticket.assignee else None,
            "steps": steps,
            "replies": list(replies),
            "promised_at": ticket.promised_at,
            "code": ticket.resolution_code,
            "resolved_at": ticket.resolved_at,
        }


def written(desk: Desk) -> tuple[int, ...]:
    with desk.store.read() as s:
        counts = [
            s.scalar(select(func.count()).select_from(model))
            for model in (Ticket, AuditEvent, Comment, FulfilmentTask, Notification)
        ]
        return (*counts, s.scalar(select(func.sum(Ticket.version))))


def test_steps_go_to_their_teams_in_order_and_the_last_fulfils(planned: Desk) -> None:
    number = request(planned, "starter")
    first = state(planned, number)
    assert first["status"] == "fulfilling"
    assert first["team"] == "Service Desk" and first["assignee"] is None
    assert first["steps"] == [
        (1, "Service Desk", "open"),
        (2, "Network", "waiting"),
        (3, "Service Desk", "waiting"),
    ]
    done(planned, "alice", number, 10)
    second = state(planned, number)
    assert second["team"] == "Network" and second["assignee"] is None
    assert [s[2] for s in second["steps"]] == ["done", "open", "waiting"]
    done(planned, "nina", number, 20)
    assert state(planned, number)["team"] == "Service Desk"
    done(planned, "bob", number, 30)
    last = state(planned, number)
    assert last["status"] == "fulfilled" and last["code"] == "fulfilled"
    assert last["resolved_at"] == NOW + timedelta(minutes=30)
    assert [s[2] for s in last["steps"]] == ["done", "done", "done"]
    with planned.store.read() as s:
        ticket = get_ticket(s, number)
        tasks = s.scalars(
            select(FulfilmentTask)
            .where(FulfilmentTask.ticket_id == ticket.id)
            .order_by(FulfilmentTask.position)
        ).all()
        assert [t.done_by.username for t in tasks] == ["alice", "nina", "bob"]
        assert [t.expected_minutes for t in tasks] == [60, None, 30]
        # Each step's team is told when the step becomes theirs.
        told = s.scalars(
            select(Team.name)
            .join(Notification, Notification.team_id == Team.id)
            .where(Notification.ticket_id == ticket.id)
            .order_by(Notification.id)
        ).all()
        assert told == ["Service Desk", "Network", "Service Desk"]
        actions = s.scalars(
            select(AuditEvent.action).where(
                AuditEvent.record_id == ticket.id, AuditEvent.field == "task"
            )
        ).all()
        assert actions == ["task.start", "task.done"] * 3


def test_the_requester_is_told_of_every_step(planned: Desk) -> None:
    number = request(planned, "starter")
    for who, minutes in (("alice", 10), ("nina", 20), ("bob", 30)):
        done(planned, who, number, minutes)
    replies = state(planned, number)["replies"]
    assert len(replies) == 1 + 3 + 3 + 1
    assert replies[0].startswith(f"We have your request {number} for New starter")
    assert "10 h" in replies[0]
    assert replies[1] == (
        "Step 1 of 3 has started: Create the account, by Service Desk (expected to take 1 h)."
    )
    assert replies[2] == "Step 1 of 3 is done: Create the account."
    assert replies[3] == "Step 2 of 3 has started: Open the firewall, by Network."
    assert replies[-2] == "Step 3 of 3 is done: Hand over the laptop."
    assert replies[-1] == f"{number} is fulfilled: every step is done."


def test_the_automatic_replies_are_not_the_first_response_a_step_done_is(planned: Desk) -> None:
    number = request(planned, "starter")
    with planned.store.read() as s:
        assert get_ticket(s, number).first_response_at is None
    done(planned, "alice", number, 10)
    with planned.store.read() as s:
        assert get_ticket(s, number).first_response_at == NOW + timedelta(minutes=10)


def test_approval_by_the_named_role_only_then_the_first_step(planned: Desk) -> None:
    number = request(planned, "admin-access")
    waiting = state(planned, number)
    assert waiting["status"] == "awaiting_approval"
    assert [s[2] for s in waiting["steps"]] == ["waiting", "waiting"]
    assert waiting["promised_at"] is None
    assert (
        waiting["replies"][1]
        == f"{number} needs approval (by the supervisor role) before the work starts."
    )
    before = written(planned)
    for who in ("alice", "root"):
        with pytest.raises(PermissionDenied), planned.store.write() as s:
            d.transition_ticket(s, planned.actor(s, who), number, "approved", now=NOW)
    assert written(planned) == before
    with planned.store.write() as s:
        d.transition_ticket(
            s, planned.actor(s, "sam"), number, "approved", now=NOW + timedelta(hours=1)
        )
    approved = state(planned, number)
    assert approved["status"] == "fulfilling"
    assert approved["steps"][0] == (1, "Service Desk", "open")
    assert approved["replies"][2] == f"{number} is approved; the work starts now."
    # The delivery standard counts from the approval (no SLA policy here: around the clock).
    assert approved["promised_at"] == NOW + timedelta(hours=1, minutes=120)


def test_a_rejection_stops_the_chain(planned: Desk) -> None:
    number = request(planned, "admin-access")
    with planned.store.write() as s:
        d.transition_ticket(s, planned.actor(s, "sam"), number, "rejected", now=NOW)
    rejected = state(planned, number)
    assert rejected["status"] == "rejected"
    assert rejected["steps"] == []
    assert rejected["replies"][-1] == f"{number} was not approved, so it will not be fulfilled."
    before = written(planned)
    with pytest.raises(TransitionRefused, match="no open fulfilment step"):
        done(planned, "alice", number, 5)
    assert written(planned) == before


def test_a_step_of_another_team_is_refused_and_writes_nothing(planned: Desk) -> None:
    number = request(planned, "starter")
    done(planned, "alice", number, 10)
    before = written(planned)
    with pytest.raises(PermissionDenied, match="belongs to Network"):
        done(planned, "alice", number, 11)
    assert written(planned) == before
    # A supervisor may complete any team's step.
    done(planned, "sam", number, 12)
    assert state(planned, number)["steps"][1][2] == "done"


def test_a_planned_request_is_not_fulfilled_by_hand_while_a_step_is_open(planned: Desk) -> None:
    number = request(planned, "starter")
    before = written(planned)
    with pytest.raises(TransitionRefused, match="step 1 of 3"), planned.store.write() as s:
        d.resolve_ticket(s, planned.actor(s, "alice"), number, code="fulfilled", notes="x", now=NOW)
    assert written(planned) == before


def test_cancelling_ends_the_open_step(planned: Desk) -> None:
    number = request(planned, "starter")
    with planned.store.write() as s:
        d.transition_ticket(s, planned.actor(s, "alice"), number, "cancelled", now=NOW)
    assert [s[2] for s in state(planned, number)["steps"]] == ["cancelled"]


def test_an_item_without_a_plan_is_worked_by_hand_with_its_promise(planned: Desk) -> None:
    with planned.store.write() as s:
        s.scalars(
            select(CatalogueItem).where(CatalogueItem.code == "laptop")
        ).one().requires_approval = False
    number = request(planned, "laptop", {"model": "X1"})
    plain = state(planned, number)
    assert plain["status"] == "submitted" and plain["steps"] == [] and plain["replies"] == []
    assert plain["promised_at"] == NOW + timedelta(minutes=2400)
    with pytest.raises(TransitionRefused, match="no fulfilment plan"):
        done(planned, "alice", number, 5)
