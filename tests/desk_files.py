"""Reading `itsm export` output in tests: the ticket lines of a desk file (format 2)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def is_ticket_line(line: str) -> bool:
    """Not the header, not a change, outage, complaint, budget or article line."""
    if not line.strip():
        return False
    data = json.loads(line)
    return "format" not in data and "record" not in data


def ticket_lines(text: str | Iterable[str]) -> list[str]:
    lines = text.splitlines() if isinstance(text, str) else list(text)
    return [line for line in lines if is_ticket_line(line)]


def exported_ticket(text: str) -> dict[str, Any]:
    """The one ticket of an export."""
    (line,) = ticket_lines(text)
    record: dict[str, Any] = json.loads(line)
    return record
