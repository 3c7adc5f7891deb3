"""Option types the commands share: times, durations, priorities, --json, --expect-version."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import click

from itsm_tui.desk import InvalidInput
from itsm_tui.domain.priority import parse_priority
from itsm_tui.i18n import _


class IsoDateTime(click.ParamType):
    """ISO 8601; a naive value passes through so the desk can say to add a zone."""

    name = "ISO-8601"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(
                _("{value!r} is not an ISO 8601 date and time, e.g. 2026-11-24T09:30:00Z").format(
                    value=value
                ),
                param,
                ctx,
            )


ISO = IsoDateTime()


def priority_option(value: str) -> int:
    try:
        return parse_priority(value)
    except ValueError:
        raise InvalidInput(
            _("priority must be P1, P2, P3 or P4, not {value}").format(value=value)
        ) from None


json_option = click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
# Versions count from 1 and stay far below the 32-bit column that stores them; a larger
# number is a typo, refused as one before it reaches a database driver.
VERSION = click.IntRange(1, 2**31 - 1)
version_option = click.option(
    "--expect-version",
    "expected",
    type=VERSION,
    metavar="N",
    help=_("Refuse (exit 3) if the record is no longer at version N."),
)


class Duration(click.ParamType):
    """30m, 2h, 1h30m, 45s, or a bare number of minutes."""

    name = "duration"
    _PART = re.compile(r"(\d+)([hms])")

    def convert(self, value: Any, param: Any, ctx: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip().lower()
        if text.isdigit():
            return timedelta(minutes=int(text))
        parts = self._PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            self.fail(_("{value!r} is not a duration such as 30m, 2h or 1h30m").format(value=value))
        unit = {"h": "hours", "m": "minutes", "s": "seconds"}
        return sum((timedelta(**{unit[u]: int(n)}) for n, u in parts), timedelta())
