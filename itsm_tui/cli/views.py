"""Plain-text views of tickets and of the store, in the acting agent's time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from itsm_tui.cli.output import out, out_json
from itsm_tui.i18n import _, ngettext


def local_time(value: str | None, zone: tzinfo) -> str:
    if value is None:
        return "—"
    moment = datetime.fromisoformat(value).astimezone(zone)
    label = "UTC" if zone is UTC else moment.strftime("%Z")
    return f"{moment:%Y-%m-%d %H:%M} {label}"


def or_dash(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def format_ticket(record: dict[str, Any], zone: tzinfo = UTC) -> str:
    r = record
    lines = [
        f"{r['number']}  {r['priority']}  {r['status']}  {r['title']}",
        _("type {type} · impact {impact} · urgency {urgency} · version {version}").format(**r),
        _("service {service} · team {team} · assignee {assignee}").format(
            service=or_dash(r["service"]), team=or_dash(r["team"]), assignee=or_dash(r["assignee"])
        ),
        _("requester {requester} · category {category}").format(
            requester=or_dash(r["requester"]), category=or_dash(r["category"])
        ),
        _("opened {opened} · updated {updated}").format(
            opened=local_time(r["opened_at"], zone), updated=local_time(r["updated_at"], zone)
        ),
    ]
    if r["first_response_at"]:
        lines.append(_("first response {at}").format(at=local_time(r["first_response_at"], zone)))
    if r["resolved_at"]:
        lines.append(
            _("resolved {at} ({code}): {notes}").format(
                at=local_time(r["resolved_at"], zone),
                code=or_dash(r["resolution_code"]),
                notes=or_dash(r["resolution_notes"]),
            )
        )
    if r["closed_at"]:
        lines.append(_("closed {at}").format(at=local_time(r["closed_at"], zone)))
    links = [
        f"{label} {r[key]}"
        for key, label in (
            ("parent", _("parent")),
            ("problem", _("problem")),
            ("change", _("change")),
        )
        if r[key]
    ]
    if r["priority_overridden"]:
        links.append(_("priority set by hand"))
    if r["reopen_count"]:
        links.append(_("reopened {n}×").format(n=r["reopen_count"]))
    if r["escalation_level"]:
        links.append(_("escalation level {n}").format(n=r["escalation_level"]))
    if links:
        lines.append(" · ".join(links))
    if r["form_data"]:
        for name, value in r["form_data"].items():
            lines.append(f"{name}: {value}")
    if r["description"]:
        lines += ["", r["description"]]
    return "\n".join(lines)


def format_detail(record: dict[str, Any], zone: tzinfo = UTC) -> str:
    parts = [format_ticket(record, zone)]
    if record.get("sla"):
        parts.append("\n" + _("SLA"))
        for c in record["sla"]:
            due = local_time(c["due_at"], zone) if c["due_at"] else "—"
            parts.append(
                f"  {c['kind']:<10} {c['state']:<9} {c['elapsed_percent']:>6.1f}%  "
                + _("due {due}  target {minutes} min  ({policy})").format(
                    due=due, minutes=c["target_minutes"], policy=or_dash(c["policy"])
                )
            )
    if record.get("escalations"):
        parts.append("\n" + _("Escalations"))
        for e in record["escalations"]:
            parts.append(
                f"  {local_time(e['at'], zone)}  {e['kind']} {e['level']}  {e['reason']}"
                + (f"  [{', '.join(e['actions'])}]" if e["actions"] else "")
            )
    if record["comments"]:
        parts.append("\n" + _("Comments"))
        for c in record["comments"]:
            parts.append(
                f"  {local_time(c['created_at'], zone)}  {or_dash(c['author'])} ({c['kind']})"
            )
            parts.append("    " + c["body"].replace("\n", "\n    "))
    if record["audit"]:
        parts.append("\n" + _("History"))
        for e in record["audit"]:
            change = ""
            if e["field"]:
                change = f" {e['field']}: {or_dash(e['old'])} → {or_dash(e['new'])}"
            elif e["new"]:
                change = f" {e['new']}"
            reason = f"  ({e['reason']})" if e["reason"] else ""
            who = or_dash(e["actor"])
            if e.get("impersonator"):
                who = _("{actor} (impersonated by {admin})").format(
                    actor=who, admin=e["impersonator"]
                )
            parts.append(f"  {local_time(e['at'], zone)}  {who} {e['action']}{change}{reason}")
    return "\n".join(parts)


def _ticket_line(r: dict[str, Any]) -> str:
    return _("{number} {status} {priority} (version {version}): {title}").format(**r)


def emit_ticket(record: dict[str, Any], as_json: bool, *, full: bool = False) -> None:
    if as_json:
        out_json(record)
    elif full:
        out(format_ticket(record))
    else:
        out(_ticket_line(record))


LIST_COLUMNS = (
    "number",
    "type",
    "status",
    "priority",
    "impact",
    "urgency",
    "title",
    "category",
    "service",
    "team",
    "assignee",
    "requester",
    "opened_at",
    "updated_at",
    "resolved_at",
    "closed_at",
    "is_open",
    "version",
)


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ticket_table(records: Sequence[dict[str, Any]], zone: tzinfo) -> str:
    rows = [
        (
            r["number"],
            r["priority"],
            r["status"],
            local_time(r["opened_at"], zone),
            or_dash(r["team"]),
            or_dash(r["assignee"]),
            " ".join(r["title"].split()),
        )
        for r in records
    ]
    header = (_("NUMBER"), _("PRI"), _("STATUS"), _("OPENED"), _("TEAM"), _("ASSIGNEE"), _("TITLE"))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in [header, *rows]
    )


def format_summary(summary: dict[str, Any]) -> str:
    lines = [
        _("Desk: {name}").format(name=summary["desk"] or _("(unnamed)")),
        ngettext("{n} ticket", "{n} tickets", summary["tickets"]).format(n=summary["tickets"])
        + _(", {open} open; ").format(open=summary["open"])
        + ngettext("{n} change", "{n} changes", summary["changes"]).format(n=summary["changes"]),
        ngettext("{n} agent", "{n} agents", summary["agents"]).format(n=summary["agents"])
        + ngettext(" in {n} team; ", " in {n} teams; ", summary["teams"]).format(n=summary["teams"])
        + ngettext("{n} service", "{n} services", summary["services"]).format(
            n=summary["services"]
        ),
    ]
    if summary["by_type"]:
        lines.append(
            _("By type: {counts}").format(
                counts=", ".join(f"{k} {n}" for k, n in summary["by_type"].items())
            )
        )
    if summary["by_status"]:
        lines.append(
            _("By status: {counts}").format(
                counts=", ".join(f"{k} {n}" for k, n in summary["by_status"].items())
            )
        )
    if summary["open_by_priority"]:
        lines.append(
            _("Open by priority: {counts}").format(
                counts=", ".join(f"{k} {n}" for k, n in summary["open_by_priority"].items())
            )
        )
    return "\n".join(lines)
