"""What the ticket detail screen shows of a ticket's fields: its heading line and the
table of fields, pure renderables from the loaded ticket's dictionary."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from itsm_tui.i18n import _
from itsm_tui.screens.request_steps import promised_text, steps_text
from itsm_tui.screens.text import safe_text, shown_time


def ticket_heading(d: dict[str, Any]) -> Text:
    """Number, priority, status, type and flags: the first line of a ticket."""
    heading = Text()
    heading.append(d["number"], style="bold")
    heading.append("  ")
    heading.append(d["priority"], style=f"bold {_priority_style(d['priority'])}")
    if d["priority_overridden"]:
        heading.append(_(" (override)"), style="dim")
    heading.append("  ")
    heading.append(d["status"].replace("_", " "), style="bold reverse")
    heading.append("  " + d["type"], style="dim")
    if d["is_major"]:
        heading.append("  " + _("MAJOR"), style="bold red")
    if d["escalation_level"]:
        heading.append(
            "  " + _("escalated L{level}").format(level=d["escalation_level"]), style="red"
        )
    heading.append("  v{}".format(d["version"]), style="dim")
    return heading


def fields_table(d: dict[str, Any], zone: tzinfo, width: int) -> RenderableType:
    """The ticket's fields: two pairs a line where the screen is wide enough, the long
    values (and any too long for half the width) each on a line of their own."""
    rows: list[tuple[str, Any]] = [
        (_("Impact"), d["impact"]),
        (_("Urgency"), d["urgency"]),
        (_("Service"), d["service"]),
        (_("Category"), d["category"]),
        (_("Team"), d["team"]),
        (_("Assignee"), d["assignee"]),
        (_("Requester"), d["requester"]),
        (_("Catalogue"), d["catalogue_item"]),
        (_("Opened"), shown_time(d["opened_at"], zone)),
        (_("Updated"), shown_time(d["updated_at"], zone)),
        (_("Responded"), shown_time(d["first_response_at"], zone)),
        (_("Resolved"), shown_time(d["resolved_at"], zone)),
        (_("Closed"), shown_time(d["closed_at"], zone)),
        (_("Reopened"), d["reopen_count"]),
    ]
    if d.get("catalogue_item"):
        rows.append((_("Promised"), promised_text(d, zone)))
    if d["resolution_code"]:
        rows.append((_("Resolution"), d["resolution_code"]))
    if d["type"] == "problem":
        rows.append((_("Known error"), _("yes") if d["known_error"] else _("no")))
    for key, value in (d.get("form_data") or {}).items():
        rows.append((str(key), value))
    long_rows: list[tuple[str, Any]] = []
    if d.get("steps"):
        long_rows.append((_("Steps"), steps_text(d["steps"])))
    if d["resolution_notes"]:
        long_rows.append((_("Resolution notes"), d["resolution_notes"]))
    if d["type"] == "problem":
        long_rows += [(_("Root cause"), d["root_cause"]), (_("Workaround"), d["workaround"])]
    wide = width >= 76
    if wide:
        # Two pairs a line leave each value under half the width: a longer one (an
        # e-mail address, a promise with its standard) gets a line of its own
        # rather than wrapping inside its column.
        half = (width - 4) // 2 - 12
        long_rows = [r for r in rows if len(_shown(r[1])) > half] + long_rows
        rows = [r for r in rows if len(_shown(r[1])) <= half]
    table = Table.grid(padding=(0, 1), expand=True)
    pairs = 2 if wide else 1
    for _i in range(pairs):
        table.add_column(style="bold", no_wrap=True, min_width=10)
        table.add_column(ratio=1, overflow="fold")
    for start in range(0, len(rows), pairs):
        cells: list[RenderableType] = []
        for label, value in rows[start : start + pairs]:
            cells += [Text(label), _value_text(value)]
        table.add_row(*cells)
    if not long_rows:
        return table
    # The long rows span the width (under the pairs, their labels aligned with them).
    spanning = Table.grid(padding=(0, 1), expand=True)
    spanning.add_column(style="bold", no_wrap=True, min_width=10)
    spanning.add_column(ratio=1, overflow="fold")
    for label, value in long_rows:
        spanning.add_row(Text(label), _value_text(value))
    return Group(table, spanning)


def _priority_style(label: str) -> str:
    return {"P1": "red", "P2": "dark_orange", "P3": "yellow"}.get(label, "green")


def _shown(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def _value_text(value: Any) -> Text:
    if value is None or value == "":
        return Text("—", style="dim")
    return safe_text(value)
