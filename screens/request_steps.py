"""What the ticket screen shows of a catalogue request: its promise (the delivery standard's
instant, kept or missed) and its fulfilment steps, from the rows the screen read with the
ticket (plain text: step names are user data)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from itsm_tui.i18n import _
from itsm_tui.screens.text import parse_iso, shown_time

# A loaded step: (position, status, name, team).
Step = tuple[int, str, str, str | None]

# How a step's state reads in the ticket's step list.
_STEP_MARK = {"done": "✓", "open": "▶", "waiting": "·", "cancelled": "✗"}


def promised_text(d: dict[str, Any], zone: tzinfo) -> str:
    """The delivery standard's instant and the standard as people say it; missed when
    fulfilment came (or comes) after it."""
    promised, standard = d.get("promised_at"), d.get("standard")
    if promised is None:
        if d["status"] != "awaiting_approval":
            return "—"
        if standard:
            return _("{standard} after approval").format(standard=standard)
        return _("after approval")
    shown = shown_time(promised, zone)
    if standard:
        shown += f" ({standard})"
    resolved = parse_iso(d["resolved_at"]) if d["resolved_at"] else None
    if resolved is not None:
        return shown + (_(" (missed)") if resolved > promised else _(" (kept)"))
    return shown


def steps_text(steps: list[Step]) -> str:
    """One line per step: its mark, name and team."""
    return "\n".join(
        f"{_STEP_MARK.get(status, '?')} {position}. {name} — {team or '—'}"
        for position, status, name, team in steps
    )


def open_step(steps: list[Step]) -> Step | None:
    """The step being worked, if any."""
    return next((s for s in steps if s[1] == "open"), None)


def step_line(step: Step, count: int) -> str:
    """ "Step 2 of 3: Prepare the laptop (Desktop Support)", the step done form's heading."""
    position, _status, name, team = step
    return _("Step {position} of {steps}: {name} ({team})").format(
        position=position, steps=count, name=name, team=team or "—"
    )


def no_open_step(number: str, status: str) -> str:
    """Why "Step done" has nothing to complete (as `itsm catalog done` would refuse)."""
    return _("{number} has no open fulfilment step: it is {status}").format(
        number=number, status=status.replace("_", " ")
    )
