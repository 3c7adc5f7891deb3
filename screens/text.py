"""How values reach a person: user text made safe to draw, times in the reader's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from rich.text import Text

from itsm_tui.i18n import _

# ---------------------------------------------------------------------------
# User text is data: shown literally, never as markup, never as terminal control

# C0 and C1 controls, DEL, and the bidi overrides/isolates that reorder what follows them.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object, *, single_line: bool = False) -> str:
    """User text with every control character shown as an escape (``\\x1b``), tabs as spaces."""
    text = "" if value is None else str(value)
    text = _UNSAFE.sub(_escape_char, text.replace("\t", "    "))
    if single_line:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return text.replace("\r", "\\r")


def safe_text(value: object, style: str = "", *, single_line: bool = False) -> Text:
    """A `Text` of user data: no markup parsing, no escape sequences reach the terminal."""
    return Text(printable(value, single_line=single_line), style=style)


# ---------------------------------------------------------------------------
# Times


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def shown_time(value: datetime | str | None, zone: tzinfo = UTC) -> str:
    """An instant as a person reads it in `zone`: `2026-11-24 17:30`."""
    at = parse_iso(value) if isinstance(value, str) else value
    if at is None:
        return "—"
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


# Within this long, "3 h ago" says more than a date; past it, the date and time do.
RELATIVE_WITHIN = timedelta(hours=12)


def when(at: datetime, now: datetime, zone: tzinfo) -> str:
    """`just now`, `25 min ago`, `3 h ago`; older `28 Nov 14:05`, another year's with its year."""
    age = now - at
    if timedelta(0) <= age < RELATIVE_WITHIN:
        minutes = int(age.total_seconds() // 60)
        if minutes < 1:
            return _("just now")
        if minutes < 60:
            return _("{n} min ago").format(n=minutes)
        return _("{n} h ago").format(n=minutes // 60)
    local = at.astimezone(zone)
    if local.year == now.astimezone(zone).year:
        return local.strftime("%d %b %H:%M")
    return local.strftime("%Y-%m-%d %H:%M")
