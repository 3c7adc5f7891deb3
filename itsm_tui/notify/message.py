"""What an outbox message says: the notice, and the ticket's number, title, priority, SLA
standing and how to open it (or the change's number and title)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.config.notifications import NotificationSettings
from itsm_tui.data.models import Change, Notification, SlaClock, Ticket
from itsm_tui.data.sla_standing import ticket_standing
from itsm_tui.domain.priority import priority_label
from itsm_tui.i18n import _
from itsm_tui.notify.channels import Message

# The acknowledgement path in a page's text (itsm_tui/desk/paging.py writes it).
ACK_PATH = re.compile(r"(?<!\S)/ack/([A-Za-z0-9_-]+)")

# A notice's kind as a person reads it in a subject line.
KIND_WORDS = {
    "assignment": "Assigned",
    "warning": "SLA warning",
    "breach": "SLA breached",
    "escalation": "Escalated",
    "page": "PAGE",
    "approval": "Approval asked",
    "change_starting": "Change starting",
    "major_incident": "Major incident",
}


def _one_line(text: str, limit: int = 200) -> str:
    """User text on one line, no control characters (a subject or chat line stays one line)."""
    flat = "".join(ch if ch.isprintable() else " " for ch in text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _how_to_open(number: str, settings: NotificationSettings) -> str:
    if settings.open_url:
        return settings.open_url.replace("{number}", number)
    return f"itsm ticket show {number}"


def _with_ack_link(message: str, kind: str, settings: NotificationSettings) -> str:
    """A page's "/ack/TOKEN" as the link a person opens, when the desk file says where the
    intake is reached ([notifications] ack_url); the stored notice keeps the path."""
    if kind != "page" or not settings.ack_url:
        return message
    url = settings.ack_url
    return ACK_PATH.sub(lambda m: url.replace("{token}", m.group(1)), message)


def compose(
    session: Session, notification_id: int, settings: NotificationSettings, now: datetime
) -> Message:
    notice = session.get(Notification, notification_id)
    if notice is None:
        raise LookupError(notification_id)
    kind = _(KIND_WORDS.get(notice.kind, notice.kind))
    said = _with_ack_link(notice.message, notice.kind, settings)
    lines = [_one_line(said, 1000)]
    fields: dict[str, object] = {"kind": notice.kind, "message": said}
    subject = f"{kind}: {_one_line(said)}"
    if notice.ticket_id is not None:
        ticket = session.get(Ticket, notice.ticket_id)
        assert ticket is not None
        clocks = session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id)).all()
        left, standing = ticket_standing(clocks, now)
        sla = _sla_words(left, standing)
        title = _one_line(ticket.title)
        subject = f"[{priority_label(ticket.priority)}] {ticket.number} {kind}: {title}"
        lines = [
            f"{ticket.number} · {priority_label(ticket.priority)} · {ticket.status} · {title}",
            _("SLA: {sla}").format(sla=sla),
            _one_line(said, 1000),
            _("Open: {how}").format(how=_how_to_open(ticket.number, settings)),
        ]
        fields.update(
            number=ticket.number,
            title=ticket.title,
            priority=priority_label(ticket.priority),
            status=ticket.status,
            sla=standing,
            sla_due_in_minutes=None if left is None else int(left.total_seconds() // 60),
            open=_how_to_open(ticket.number, settings),
        )
    elif notice.change_id is not None:
        change = session.get(Change, notice.change_id)
        assert change is not None
        title = _one_line(change.title)
        subject = f"{change.number} {kind}: {title}"
        lines = [
            f"{change.number} · {change.status} · {title}",
            _one_line(said, 1000),
            _("Open: itsm change show {number}").format(number=change.number),
        ]
        fields.update(number=change.number, title=change.title, status=change.status)
    return Message(subject=subject, body="\n".join(lines) + "\n", fields=fields)


def _sla_words(left: object, standing: str | None) -> str:
    if standing is None:
        return _("none")
    if left is None:
        return standing
    minutes = int(left.total_seconds() // 60)  # type: ignore[attr-defined]
    if minutes < 0:
        return _("{standing}, {minutes} min late").format(standing=standing, minutes=-minutes)
    return _("{standing}, due in {minutes} min").format(standing=standing, minutes=minutes)
