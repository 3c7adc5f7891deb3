"""One seeded change's life as the desk's change functions would have written it: each
call's field changes, audit events (action, field, old and new values as `Edit` writes
them, one version per call) and CAB ballots, without a session per change.

The calls mirror itsm_tui.desk.changes (create, schedule, assess, submit, approve, reject,
start, complete, review, close, cancel); tests/store/test_seed_changes.py checks the
stories against the desk's rules and plays a sample through the desk itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from itsm_tui.data.change_schedule import Conflict
from itsm_tui.desk.records import audit_value
from itsm_tui.domain.workflow import CHANGE_WORKFLOWS
from itsm_tui.i18n import _

# An audit event as the seed writes it: at, actor, record type, id, number, action, field,
# old, new, version, reason. `new` may wait for a number known only once tickets exist.
AuditRow = tuple[Any, ...]


class Story:
    """A change's fields as its desk calls leave them, and what each call audited."""

    def __init__(self, change_id: int, number: str, fields: dict[str, Any]) -> None:
        self.id = change_id
        self.number = number
        self.f = fields
        self.version = 0
        self.events: list[AuditRow] = []
        # (approver id, decision, decided_at, comment), in the order ballots were opened.
        self.ballots: dict[int, list[Any]] = {}

    def call(self, action: str, at: datetime, actor: int | None, reason: str | None = None) -> Call:
        return Call(self, action, at, actor, reason)


class Call:
    """One desk call on the story's change: `Edit`'s rules (one version bump, an event per
    changed field, nothing for a field set to what it was)."""

    def __init__(
        self, story: Story, action: str, at: datetime, actor: int | None, reason: str | None
    ) -> None:
        self.story = story
        self.action = action
        self.at = at
        self.actor = actor
        self.reason = reason
        self._bumped = False

    def note(
        self,
        field: str | None,
        old: str | None = None,
        new: str | Callable[[dict[int, str]], str] | None = None,
        *,
        action: str | None = None,
    ) -> None:
        story = self.story
        if not self._bumped:
            story.version += 1
            story.f["updated_at"] = self.at
            self._bumped = True
        story.events.append(
            (
                self.at,
                self.actor,
                "change",
                story.id,
                story.number,
                action or self.action,
                field,
                old,
                new,
                story.version,
                self.reason,
            )
        )

    def set(self, field: str, value: Any, *, shown: str | None = None) -> bool:
        old = self.story.f.get(field)
        if old == value:
            return False
        self.story.f[field] = value
        self.note(
            field.removesuffix("_id") if shown is not None else field,
            _shown(old),
            shown if shown is not None else _shown(value),
        )
        return True

    def move(self, target: str) -> None:
        """`desk.changes.common.move`: the status, the open flag, closed_at when done."""
        f = self.story.f
        flow = CHANGE_WORKFLOWS[f["change_type"]]
        if not flow.can_move(f["status"], target):
            raise ValueError(f"{self.story.number}: {f['status']} → {target} is not a move")
        self.set("status", target)
        self.set("is_open", flow.is_open(target))
        if not flow.is_open(target):
            self.set("closed_at", self.at)


def _shown(value: Any) -> str | None:
    # Text reads as itself in the audit log; everything else as audit_value says.
    return value if value is None or type(value) is str else audit_value(value)


# ---------------------------------------------------------------------------
# The desk's calls, as far as a seeded change takes them


def create(
    story: Story,
    at: datetime,
    actor: int,
    problem_index: int | None,
    window: tuple[datetime, datetime] | None,
) -> None:
    """`create_change`: the record, its creation note, the planned window if given."""
    f = story.f
    call = story.call("create", at, actor)
    status, kind, template = f["status"], f["change_type"], f["template"]

    def note(problems: dict[int, str]) -> str:
        return json.dumps(
            {
                "type": kind,
                "status": status,
                "template": template,
                "problem": problems.get(problem_index) if problem_index is not None else None,
            },
            ensure_ascii=False,
        )

    call.note(None, None, note)
    if window is not None:
        call.set("planned_start", window[0])
        call.set("planned_end", window[1])


def schedule(
    story: Story,
    at: datetime,
    manager: str,
    manager_id: int,
    window: tuple[datetime, datetime],
    conflicts: list[Conflict],
    reason: str,
) -> None:
    """`schedule_change` by a change manager who overrides the window's conflicts."""
    call = story.call("schedule", at, manager_id)
    kept = list(story.f.get("schedule_overrides") or [])
    if conflicts:
        call.reason = reason
        for c in conflicts:
            kept.append(
                {
                    "kind": c.kind,
                    "name": c.name,
                    "starts_at": audit_value(c.starts_at),
                    "conflict": c.message,
                    "reason": reason,
                    "by": manager,
                    "at": audit_value(at),
                }
            )
        call.set("schedule_overrides", kept)
    call.set("planned_start", window[0])
    call.set("planned_end", window[1])


def assess(story: Story, at: datetime, actor: int, answers: dict[str, str], result: Any) -> None:
    """`assess_change`: level, score, answers and reasons."""
    call = story.call("assess", at, actor)
    call.set("risk", result.level)
    call.set("risk_score", result.score)
    call.set("risk_answers", dict(answers))
    call.set("risk_reasons", result.reasons_json())


def submit(story: Story, at: datetime, actor: int, target: str, quorum: int | None) -> None:
    """`submit_change` to the next gate (for authorization: the quorum and every ballot)."""
    f = story.f
    call = story.call("submit", at, actor)
    call.move(target)
    if f["change_type"] == "standard":
        call.set("authorized_at", at)  # pre-approved by its template
    if quorum is not None:
        call.set("quorum", quorum)
    if f.get("submitted_at") is None:
        call.set("submitted_at", at)


def open_ballots(story: Story, voters: list[int]) -> None:
    for voter in voters:
        story.ballots.setdefault(voter, [voter, "pending", None, ""])


def approve(
    story: Story, at: datetime, voter: int, username: str, comment: str, approved: int
) -> None:
    """`approve_change`: the ballot, its note; at quorum authorized (and scheduled when the
    change waited in authorization). `approved` counts this one."""
    f = story.f
    story.ballots[voter][1:] = ["approved", at, comment]
    call = story.call("approve", at, voter)
    call.note("approval", None, _("approved by {agent}").format(agent=username))
    if approved >= f["quorum"] > 0 and f.get("authorized_at") is None:
        call.set("authorized_at", at)
        if f["status"] == "authorization":
            call.move("scheduled")


def reject(story: Story, at: datetime, voter: int, username: str, reason: str) -> None:
    story.ballots[voter][1:] = ["rejected", at, reason]
    call = story.call("reject", at, voter, reason)
    call.note("approval", None, _("rejected by {agent}").format(agent=username))
    call.move("rejected")


def start(story: Story, at: datetime, actor: int) -> None:
    call = story.call("start", at, actor)
    call.move("implementing")
    call.set("actual_start", at)


def complete(story: Story, at: datetime, actor: int, outcome: str) -> None:
    call = story.call("complete", at, actor)
    call.move("review")
    call.set("actual_end", at)
    call.set("outcome", outcome)


def review(story: Story, at: datetime, actor: int, notes: str, lessons: str) -> None:
    call = story.call("review", at, actor)
    call.set("review_notes", notes)
    call.set("lessons_learned", lessons)
    call.set("reviewed_at", at)


def close(story: Story, at: datetime, actor: int) -> None:
    story.call("close", at, actor).move("closed")


def cancel(story: Story, at: datetime, actor: int, reason: str) -> None:
    story.call("cancel", at, actor, reason).move("cancelled")


def link(story: Story, at: datetime, actor: int, incident_number: str) -> None:
    """`link_caused_incident`, the change's side."""
    story.call("link", at, actor).note("caused_incident", None, incident_number)
