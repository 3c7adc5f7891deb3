"""The ticket types, their statuses and the state machine of each (one definition)."""

from __future__ import annotations

from dataclasses import dataclass

from itsm_tui.i18n import _

INCIDENT = "incident"
REQUEST = "request"
PROBLEM = "problem"
CHANGE = "change"
TICKET_TYPES = (INCIDENT, REQUEST, PROBLEM)

NUMBER_PREFIX = {INCIDENT: "INC", REQUEST: "REQ", PROBLEM: "PRB", CHANGE: "CHG", "knowledge": "KB"}
NUMBER_DIGITS = 7


@dataclass(frozen=True)
class Workflow:
    """One record type's statuses and the moves between them."""

    record_type: str
    initial: str
    moves: dict[str, tuple[str, ...]]
    # Statuses in which the work is finished (the ticket leaves the open queue).
    done: frozenset[str]
    # A resolved-like status: entering it needs a resolution code and notes.
    resolved: str | None
    # Statuses a reopen may start from (closed is final), and where a reopen lands.
    reopenable: frozenset[str]
    reopen_to: str | None

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(self.moves)

    def allowed(self, status: str) -> tuple[str, ...]:
        return self.moves.get(status, ())

    def can_move(self, status: str, target: str) -> bool:
        return target in self.moves.get(status, ())

    def is_open(self, status: str) -> bool:
        return status not in self.done


INCIDENT_WORKFLOW = Workflow(
    record_type=INCIDENT,
    initial="new",
    moves={
        "new": ("assigned", "in_progress", "pending", "resolved", "cancelled"),
        "assigned": ("in_progress", "pending", "resolved", "cancelled"),
        "in_progress": ("assigned", "pending", "resolved", "cancelled"),
        "pending": ("assigned", "in_progress", "resolved", "cancelled"),
        # Leaving resolved other than by closing is a reopen (explicit, see reopen_to).
        "resolved": ("closed",),
        "closed": (),
        "cancelled": (),
    },
    done=frozenset({"resolved", "closed", "cancelled"}),
    resolved="resolved",
    reopenable=frozenset({"resolved"}),
    reopen_to="in_progress",
)

REQUEST_WORKFLOW = Workflow(
    record_type=REQUEST,
    initial="submitted",
    moves={
        "submitted": ("awaiting_approval", "approved", "fulfilling", "cancelled"),
        "awaiting_approval": ("approved", "rejected", "cancelled"),
        "approved": ("fulfilling", "cancelled"),
        "rejected": ("closed",),
        "fulfilling": ("fulfilled", "cancelled"),
        "fulfilled": ("closed",),
        "closed": (),
        "cancelled": (),
    },
    done=frozenset({"rejected", "fulfilled", "closed", "cancelled"}),
    resolved="fulfilled",
    reopenable=frozenset({"fulfilled"}),
    reopen_to="fulfilling",
)

PROBLEM_WORKFLOW = Workflow(
    record_type=PROBLEM,
    initial="new",
    moves={
        "new": ("investigating", "known_error", "resolved"),
        "investigating": ("known_error", "resolved"),
        "known_error": ("investigating", "resolved"),
        "resolved": ("closed",),
        "closed": (),
    },
    done=frozenset({"resolved", "closed"}),
    resolved="resolved",
    reopenable=frozenset({"resolved"}),
    reopen_to="investigating",
)

WORKFLOWS = {INCIDENT: INCIDENT_WORKFLOW, REQUEST: REQUEST_WORKFLOW, PROBLEM: PROBLEM_WORKFLOW}

CHANGE_TYPES = ("standard", "normal", "emergency")
CHANGE_OUTCOMES = ("successful", "failed", "backed_out")

STANDARD_CHANGE, NORMAL_CHANGE, EMERGENCY_CHANGE = CHANGE_TYPES

# Every change status in the order of the board's columns (draft first, the ends last).
CHANGE_STATUSES = (
    "draft",
    "assessment",
    "authorization",
    "scheduled",
    "implementing",
    "review",
    "closed",
    "rejected",
    "cancelled",
)
CHANGE_DONE = frozenset({"closed", "rejected", "cancelled"})


def _change_workflow(moves: dict[str, tuple[str, ...]]) -> Workflow:
    return Workflow(
        record_type=CHANGE,
        initial="draft",
        moves={status: moves.get(status, ()) for status in CHANGE_STATUSES if status in moves},
        done=CHANGE_DONE,
        resolved=None,
        reopenable=frozenset(),
        reopen_to=None,
    )


# One state machine per change type. A standard change is pre-approved: it never goes to
# the CAB. A normal change is assessed, then authorized by the CAB. An emergency change goes
# to the emergency CAB straight from draft and may start implementing before every
# approval is in. Implementation always ends in review (the outcome is verified there).
CHANGE_WORKFLOWS: dict[str, Workflow] = {
    STANDARD_CHANGE: _change_workflow(
        {
            "draft": ("scheduled", "cancelled"),
            "scheduled": ("implementing", "cancelled"),
            "implementing": ("review",),
            "review": ("closed",),
            "closed": (),
            "cancelled": (),
        }
    ),
    NORMAL_CHANGE: _change_workflow(
        {
            "draft": ("assessment", "cancelled"),
            "assessment": ("authorization", "draft", "cancelled"),
            "authorization": ("scheduled", "rejected", "cancelled"),
            "scheduled": ("implementing", "cancelled"),
            "implementing": ("review",),
            "review": ("closed",),
            "closed": (),
            "rejected": (),
            "cancelled": (),
        }
    ),
    EMERGENCY_CHANGE: _change_workflow(
        {
            "draft": ("authorization", "cancelled"),
            "authorization": ("scheduled", "implementing", "rejected", "cancelled"),
            "scheduled": ("implementing", "cancelled"),
            "implementing": ("review",),
            "review": ("closed",),
            "closed": (),
            "rejected": (),
            "cancelled": (),
        }
    ),
}
# The normal path: what most of the desk means by "the change workflow".
CHANGE_WORKFLOW = CHANGE_WORKFLOWS[NORMAL_CHANGE]


RESOLUTION_CODES = (
    "fixed",
    "workaround",
    "fulfilled",
    "duplicate",
    "not_reproducible",
    "user_error",
    "no_fault_found",
    "withdrawn",
)

COMMENT_KINDS = ("reply", "work_note")


def workflow_for(ticket_type: str) -> Workflow:
    try:
        return WORKFLOWS[ticket_type]
    except KeyError:
        raise ValueError(
            _("unknown ticket type {type!r}; use one of: {types}").format(
                type=ticket_type, types=", ".join(TICKET_TYPES)
            )
        ) from None


def a_ticket_of_type(ticket_type: str) -> str:
    """The type as a message says it, article included: "an incident", "a service request"."""
    named = {INCIDENT: _("an incident"), REQUEST: _("a service request"), PROBLEM: _("a problem")}
    return named.get(ticket_type, _("a {type}").format(type=ticket_type))


def open_statuses(ticket_type: str | None = None) -> tuple[str, ...]:
    """Every status in which a ticket (of this type, or any type) is still being worked."""
    flows = [workflow_for(ticket_type)] if ticket_type else list(WORKFLOWS.values())
    seen: dict[str, None] = {}
    for flow in flows:
        for status in flow.statuses:
            if flow.is_open(status):
                seen[status] = None
    return tuple(seen)


def all_statuses() -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for flow in WORKFLOWS.values():
        for status in flow.statuses:
            seen[status] = None
    return tuple(seen)


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}{value:0{NUMBER_DIGITS}d}"


def number_prefix(number: str) -> str:
    return number.rstrip("0123456789")
