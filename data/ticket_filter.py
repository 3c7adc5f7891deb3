"""What a view of tickets selects (`TicketFilter`) and the index range(s) it reads.

The queue's order is (priority, opened_at, id); each range is read from an index
whose leading columns are pinned by equalities (`is_open`, `team_id`, `assignee_id`
or `status`). Where a view spans several values of that leading column (all tickets:
open and not open; several statuses), the page is the merge of one ordered, limited
index range per value (UNION ALL), because PostgreSQL sorts every matching row for
`col IN (…) ORDER BY …` (see PERF-NOTES).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false

from itsm_tui.data.models import Ticket
from itsm_tui.domain.workflow import WORKFLOWS


@dataclass(frozen=True)
class TicketFilter:
    """Which tickets a view shows. Names are resolved to ids by the caller.

    `statuses` empty means any status; `open_only` keeps tickets still being worked.
    `unassigned` and `assignee_id` exclude each other.
    """

    statuses: tuple[str, ...] = ()
    priority: int | None = None
    type: str | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    open_only: bool = False

    def __post_init__(self) -> None:
        if self.unassigned and self.assignee_id is not None:
            raise ValueError("a view is either unassigned or of one assignee, not both")


@dataclass
class IndexPlan:
    """The index range(s) a filter reads: one branch per value of the leading column."""

    branches: list[list[ColumnElement[bool]]] = field(default_factory=list)
    shared: list[ColumnElement[bool]] = field(default_factory=list)


def openness(statuses: Sequence[str]) -> set[bool]:
    """Which values of is_open tickets in these statuses can have (statuses are shared by types)."""
    values: set[bool] = set()
    for status in statuses:
        for flow in WORKFLOWS.values():
            if status in flow.statuses:
                values.add(flow.is_open(status))
    return values


def index_plan(filters: TicketFilter) -> IndexPlan:
    plan = IndexPlan()
    open_values = {True} if filters.open_only else {True, False}
    if filters.statuses:
        open_values &= openness(filters.statuses)
    if not open_values:
        # No ticket can match (e.g. --open with only final statuses, or unknown statuses).
        plan.branches = [[false()]]
        return plan

    if filters.priority is not None:
        plan.shared.append(Ticket.priority == filters.priority)
    if filters.type is not None:
        plan.shared.append(Ticket.type == filters.type)

    # The leading equality chooses the index: assignee, team, status or the whole queue.
    leading: list[ColumnElement[bool]] = []
    if filters.unassigned:
        leading.append(Ticket.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        leading.append(Ticket.assignee_id == filters.assignee_id)
    if filters.team_id is not None:
        if leading:
            plan.shared.append(Ticket.team_id == filters.team_id)
        else:
            leading.append(Ticket.team_id == filters.team_id)

    if leading or not filters.statuses:
        # ix_tickets_queue / ix_tickets_team_queue / ix_tickets_assignee_queue:
        # (leading…, is_open, priority, opened_at, id), one branch per is_open value.
        if filters.statuses:
            plan.shared.append(Ticket.status.in_(filters.statuses))
        plan.branches = [
            [*leading, Ticket.is_open == value] for value in sorted(open_values, reverse=True)
        ]
    else:
        # ix_tickets_status (status, priority, opened_at): one branch per status.
        if len(open_values) == 1:
            plan.shared.append(Ticket.is_open == next(iter(open_values)))
        plan.branches = [[Ticket.status == status] for status in dict.fromkeys(filters.statuses)]
    return plan
