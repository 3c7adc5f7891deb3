"""The ticket's timeline for people: one entry per write, field labels, values as read.

The audit log keeps every column a write touched (`is_open`, `resolved_at`, the reason
on each event); an agent wants "Status: resolved → in progress" and the reason once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from itsm_tui.data.history import AuditRow, CommentRow, EscalationRow, HistoryPage
from itsm_tui.desk import sla
from itsm_tui.domain.workflow import CHANGE_TYPES
from itsm_tui.i18n import _
from itsm_tui.screens.text import safe_text, shown_time, when

# Columns that follow from a change already shown (`is_open` from the status, `resolved_at`
# from "resolved") or that only the desk itself reads.
INTERNAL_FIELDS = frozenset(
    {
        "is_open",
        "version",
        "updated_at",
        "opened_at",
        "priority_overridden",
        "sla_due_at",
        "resolved_at",
        "first_response_at",
        "closed_at",
        "approved_at",
        "reopen_count",
        "comment",
        # A change's risk reasons follow from its answers and facts; the level says it.
        "risk_reasons",
    }
)

FIELD_LABELS: dict[str, str] = {
    "status": _("Status"),
    "assignee": _("Assignee"),
    "team": _("Team"),
    "priority": _("Priority"),
    "impact": _("Impact"),
    "urgency": _("Urgency"),
    "title": _("Title"),
    "description": _("Description"),
    "category": _("Category"),
    "service": _("Service"),
    "requester": _("Requester"),
    "catalogue_item": _("Catalogue item"),
    "form_data": _("Form"),
    "parent": _("Parent"),
    "problem": _("Problem"),
    "change": _("Change"),
    "kb_article": _("Article"),
    "resolution_code": _("Resolution"),
    "resolution_notes": _("Resolution notes"),
    "root_cause": _("Root cause"),
    "workaround": _("Workaround"),
    "known_error": _("Known error"),
    "is_major": _("Major incident"),
    "escalation_level": _("Escalation level"),
    "approved_by": _("Approved by"),
    "sla.response": _("Response target"),
    "sla.resolution": _("Resolution target"),
    "due.response": _("Response due"),
    "due.resolution": _("Resolution due"),
}

_FIELD_ORDER = {label: i for i, label in enumerate(FIELD_LABELS.values())}

# Text too long for a line: the entry says it changed; resolution notes are its body.
LONG_FIELDS = frozenset(
    {
        "description",
        "resolution_notes",
        "root_cause",
        "workaround",
        "implementation_plan",
        "backout_plan",
        "test_plan",
        "review_notes",
        "lessons_learned",
        "risk_answers",
    }
)
# Instants a change's writes set: shown in the reader's zone like every other time.
TIME_FIELDS = frozenset(
    {
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "submitted_at",
        "authorized_at",
        "reviewed_at",
        # A request's promise: an instant like the others, in the reader's zone.
        "promised_at",
    }
)

LEVELS = {"1": _("1 high"), "2": _("2 medium"), "3": _("3 low")}

VERBS: dict[str, str] = {
    "create": _("opened the ticket"),
    "assign": _("assigned"),
    "transition": _("changed the status"),
    "resolve": _("resolved"),
    "reopen": _("reopened"),
    "priority.override": _("overrode the priority"),
    "link": _("linked"),
    "update": _("edited"),
    "escalation": _("escalated"),
    "sla.retarget": _("re-targeted the SLA"),
    "complaint": _("recorded a complaint"),
    "comment.reply": _("public reply"),
    "comment.work_note": _("work note"),
    # A change's steps.
    "assess": _("assessed the risk"),
    "submit": _("submitted"),
    "approve": _("approved"),
    "reject": _("rejected"),
    "schedule": _("scheduled"),
    "start": _("started"),
    "complete": _("completed"),
    "review": _("reviewed"),
    "close": _("closed"),
    "cancel": _("cancelled"),
}

# The writes whose one change is the whole story: "Status: new → in progress".
_SAYS_IT_WITH_ITS_CHANGE = frozenset({"assign", "transition", "update", "link", "escalation"})


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def _short(value: str, limit: int = 50) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _minutes_as_target(match: re.Match[str]) -> str:
    minutes = int(match.group(1))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return " ".join(p for p in parts if p) or "0m"


def shown_value(name: str, value: str | None, zone: tzinfo = UTC) -> str:
    """A field's audited value as a person reads it: `P2`, `1 high`, `in progress`, `yes`."""
    if value is None or value == "":
        return "—"
    if name in TIME_FIELDS:
        try:
            return shown_time(value, zone)
        except ValueError:
            return _short(value)
    if name in ("status", "resolution_code", "outcome", "risk"):
        return value.replace("_", " ")
    if name == "priority" and value.isdigit():
        return f"P{value}"
    if name in ("impact", "urgency"):
        return LEVELS.get(value, value)
    if value in ("true", "false") and name in ("known_error", "is_major"):
        return _("yes") if value == "true" else _("no")
    if name.startswith("sla."):
        return re.sub(r"(\d+) min\b", _minutes_as_target, value)
    if name == "services":
        try:
            names = json.loads(value)
        except ValueError:
            return _short(value)
        if isinstance(names, list):
            return _short(", ".join(str(n) for n in names)) or "—"
    if name == "form_data":
        try:
            answers = json.loads(value)
        except ValueError:
            return _short(value)
        if isinstance(answers, dict):
            return _short(", ".join(f"{k}: {v}" for k, v in answers.items()))
    return _short(value)


@dataclass(frozen=True)
class TimelineEntry:
    """One write (or one escalation) as the timeline shows it."""

    at: datetime
    kind: str  # reply | work_note | change | created | escalation
    who: str
    head: str
    changes: tuple[tuple[str, str, str], ...] = ()
    body: str | None = None
    # Orders entries of one instant: later writes first.
    order: int = field(default=0, compare=False)


def _created_head(event: AuditRow) -> str:
    try:
        facts = json.loads(event.new or "{}")
    except ValueError:
        facts = {}
    if not isinstance(facts, dict):
        facts = {}
    kind = facts.get("type")
    if kind in CHANGE_TYPES:
        parts = [_("raised the change"), kind]
    else:
        parts = [_("opened the {type}").format(type=kind or _("ticket"))]
    parts += [str(facts[k]) for k in ("priority", "team", "assignee") if facts.get(k)]
    return " · ".join(parts)


def _due_moved(event: AuditRow, zone: tzinfo) -> tuple[str, str, str]:
    """A due instant a re-target moved: `Resolution due: 2026-11-27 09:30 → 11:30`."""
    label = field_label("due." + (event.field or "").removeprefix("sla."))
    old, new = shown_time(event.old, zone), shown_time(event.new, zone)
    if old[:10] == new[:10]:
        new = new[11:]  # the same day: its date once
    return label, old, new


def _write_entry(events: list[AuditRow], comment: CommentRow | None, zone: tzinfo) -> TimelineEntry:
    """One write's audit events (oldest id first) and the comment it added, if any."""
    first = events[0]
    action = first.action
    who = first.actor or (_("escalator") if action == "escalation" else _("the desk"))
    changes: list[tuple[str, str, str]] = []
    body_parts: list[str] = []
    minutes = None
    for event in events:
        name = event.field
        if event.action == "time.log":
            minutes = event.new
            continue
        if event.action == "survey":
            changes.append((_("Rating"), "—", f"{event.new} / 5"))
            continue
        if event.action == sla.DUE_MOVED:
            changes.append(_due_moved(event, zone))
            continue
        if not name or name in INTERNAL_FIELDS or event.action.startswith("comment."):
            continue
        if action == "reopen" and name.startswith("resolution_"):
            continue  # "reopened" says the resolution is gone
        if name in LONG_FIELDS:
            if name == "resolution_notes" and event.new:
                body_parts.append(event.new)
            else:
                changes.append(
                    (field_label(name), "", _("cleared") if not event.new else _("edited"))
                )
            continue
        changes.append(
            (
                field_label(name),
                shown_value(name, event.old, zone),
                shown_value(name, event.new, zone),
            )
        )
    # The desk's order of fields (status first), not the order the write set them in.
    changes.sort(key=lambda c: _FIELD_ORDER.get(c[0], len(_FIELD_ORDER)))
    kind = "change"
    if action == "create":
        kind, head = "created", _created_head(first)
    elif action.startswith("comment.") and comment is not None:
        kind, head = comment.kind, VERBS.get(action, action)
    elif minutes is not None:
        head = _("logged {minutes} min").format(minutes=minutes)
    elif action == "survey":
        head = _("survey")
    elif len(changes) == 1 and action in _SAYS_IT_WITH_ITS_CHANGE:
        label, old, new = changes.pop()
        head = f"{label}: {new}" if not old else f"{label}: {old} → {new}"
    else:
        head = VERBS.get(action, action.replace("_", " ").replace(".", " "))
    if comment is not None:
        body_parts.insert(0, comment.body)
    # The reason rides on every event of the write; it is said once, and not again when it
    # is also the note the write added (a reopen's reason is its work note).
    for reason in dict.fromkeys(e.reason for e in events if e.reason):
        if reason not in body_parts:
            body_parts.append(reason)
    return TimelineEntry(
        at=first.at,
        kind=kind,
        who=who,
        head=head,
        changes=tuple(changes),
        body="\n".join(body_parts) or None,
        order=first.id,
    )


def _escalation_entry(x: EscalationRow) -> TimelineEntry:
    head = _("{kind} level {level}").format(kind=x.kind, level=x.level)
    if x.clock:
        head += " " + _("on the {clock} clock").format(clock=x.clock)
    if x.actions:
        head += " — " + ", ".join(a.replace("_", " ") for a in x.actions)
    return TimelineEntry(
        at=x.at,
        kind="escalation",
        who=x.rule or _("escalator"),
        head=head,
        body=x.reason or None,
        order=x.id,
    )


def entries(
    audit: list[AuditRow],
    comments: list[CommentRow],
    escalations: list[EscalationRow],
    zone: tzinfo = UTC,
) -> list[TimelineEntry]:
    """The timeline, newest first: a write's events grouped, its comment folded in."""
    writes: dict[tuple[object, ...], list[AuditRow]] = {}
    for event in sorted(audit, key=lambda e: e.id):
        # One write bumps the version once; imported history without versions groups by
        # instant, author and action.
        key = (
            (event.at, event.actor, event.version)
            if event.version is not None
            else (event.at, event.actor, event.action)
        )
        writes.setdefault(key, []).append(event)
    unclaimed = sorted(comments, key=lambda c: c.id)
    result: list[TimelineEntry] = []
    for events in writes.values():
        comment = None
        kinds = {e.new for e in events if e.action.startswith("comment.")}
        for candidate in unclaimed:
            if (
                candidate.at == events[0].at
                and candidate.author == events[0].actor
                and candidate.kind in kinds
            ):
                comment = candidate
                unclaimed.remove(candidate)
                break
        result.append(_write_entry(events, comment, zone))
    for c in unclaimed:  # imported comments have no audit event of their own
        head = VERBS.get(f"comment.{c.kind}", c.kind)
        result.append(
            TimelineEntry(
                at=c.at, kind=c.kind, who=c.author or _("the desk"), head=head, body=c.body
            )
        )
    result += [_escalation_entry(x) for x in escalations]
    result.sort(key=lambda e: (e.at, e.kind != "created", e.order), reverse=True)
    return result


@dataclass
class LoadedHistory:
    """The pages read so far, merged: rows are append-only, so a fresh newest page and the
    older pages already read add up to the history from the oldest page's start."""

    audit: dict[int, AuditRow] = field(default_factory=dict)
    comments: dict[int, CommentRow] = field(default_factory=dict)
    escalations: dict[int, EscalationRow] = field(default_factory=dict)
    older_than: datetime | None = None
    pages: int = 0

    def add(self, page: HistoryPage, *, newest: bool) -> bool:
        """Merge a page; True when it brought something not shown yet."""
        if newest and self.pages and page.older_than is not None:
            held = [
                r.at
                for rows in (self.audit, self.comments, self.escalations)
                for r in rows.values()
            ]
            if held and page.older_than > max(held):
                # More was written since the last read than a page holds: the pages read
                # so far no longer join the newest one, so the timeline starts over from it.
                self.audit.clear()
                self.comments.clear()
                self.escalations.clear()
                self.pages = 0
        before = (len(self.audit), len(self.comments), len(self.escalations))
        self.audit.update((r.id, r) for r in page.audit)
        self.comments.update((r.id, r) for r in page.comments)
        self.escalations.update((r.id, r) for r in page.escalations)
        if not newest or self.pages == 0:
            self.older_than = page.older_than
            self.pages += 1
        return before != (len(self.audit), len(self.comments), len(self.escalations))

    def entries(self, zone: tzinfo = UTC) -> list[TimelineEntry]:
        return entries(
            list(self.audit.values()),
            list(self.comments.values()),
            list(self.escalations.values()),
            zone,
        )


KIND_MARK = {
    "reply": ("↩", "bold green"),
    "work_note": ("✎", "bold yellow"),
    "change": ("•", ""),
    "created": ("✚", "bold"),
    "escalation": ("▲", "bold red"),
}


def entry_renderable(entry: TimelineEntry, now: datetime, zone: tzinfo) -> RenderableType:
    mark, style = KIND_MARK.get(entry.kind, ("•", ""))
    head = Text()
    head.append(f"{mark} ", style=style)
    head.append(when(entry.at, now, zone), style="dim")
    head.append("  ")
    head.append_text(safe_text(entry.who, "bold", single_line=True))
    head.append("  ")
    head.append_text(
        safe_text(entry.head, style if entry.kind != "change" else "", single_line=True)
    )
    parts: list[RenderableType] = [head]
    for label, old, new in entry.changes:
        line = Text("  ")
        line.append(label + ": ", style="dim")
        if old:
            line.append_text(safe_text(old, "dim", single_line=True))
            line.append(" → ", style="dim")
        line.append_text(safe_text(new, single_line=True))
        parts.append(line)
    if entry.body:
        parts.append(Padding(safe_text(entry.body), (0, 0, 0, 2)))
    return parts[0] if len(parts) == 1 else Group(*parts)
