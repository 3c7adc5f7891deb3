"""Writing the desk configuration back as a TOML desk file (`itsm config show`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import tomli_w

from itsm_tui.config.intake import intake_dump
from itsm_tui.config.load import _ITEM_SECTIONS
from itsm_tui.config.model import DeskConfig
from itsm_tui.config.notifications import notifications_value
from itsm_tui.config.rotations import dump_rotations
from itsm_tui.config.store import _SERVE_KEYS, _dec, _sla_match_values, _sla_values
from itsm_tui.config.vocabulary import KPI_TARGET_KEYS, SECTIONS
from itsm_tui.domain.calendar import WEEKDAYS
from itsm_tui.i18n import _

# Dumping: the layout is written here (tomli_w would inline short tables and spread
# short arrays over lines); tomli_w formats each value, so escaping stays its job.

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _lit(value: Any) -> str:
    if isinstance(value, Decimal):
        text = str(value)
        return _dec(value) if "E" in text.upper() else text
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_lit(v)}" for k, v in value.items()) + " }"
    return tomli_w.dumps({"v": value})[4:].rstrip("\n")


def _key(key: str) -> str:
    return key if _BARE.match(key) else _lit(key)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def header(self, name: str, *, array: bool = False) -> None:
        if self.lines:
            self.lines.append("")
        self.lines.append(f"[[{name}]]" if array else f"[{name}]")

    def pairs(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            if value is None or value == () or value == [] or value == {}:
                continue
            self.lines.append(f"{_key(key)} = {_lit(value)}")


def _zone(name: str | None, desk_zone: tzinfo) -> tzinfo:
    """A window's instants are written in its own zone (its RRULE's local hours read
    straight), else in the desk's."""
    return ZoneInfo(name) if name else desk_zone


def _omit_defaults(values: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in defaults or defaults[k] != v}


def dump_toml(config: DeskConfig) -> str:
    """The configuration as a desk file; loading and applying it again changes nothing."""
    w = _Writer()
    w.lines.append(_("# Desk configuration (itsm config show). Edit, then: itsm config apply FILE"))
    empty = [s for s in SECTIONS if s in _ITEM_SECTIONS and getattr(config, s) == ()]
    for section in empty:
        w.lines.append(f"{section} = []")
    zone = ZoneInfo(config.desk.timezone) if config.desk else UTC
    if config.desk is not None:
        w.header("desk")
        w.pairs(
            {
                "name": config.desk.name,
                "timezone": config.desk.timezone,
                "default_calendar": config.desk.default_calendar,
            }
        )
    if config.priority_matrix is not None:
        w.header("priority_matrix")
        w.lines.append(_("# rows: impact 1 (high) … 3 (low); columns: urgency 1, 2, 3"))
        w.pairs(
            {
                f"impact_{i}": [f"P{p}" for p in row]
                for i, row in enumerate(config.priority_matrix, start=1)
            }
        )
    if config.kpi_targets is not None:
        w.header("kpi_targets")
        w.pairs({k: getattr(config.kpi_targets, k) for k in KPI_TARGET_KEYS})
    if config.sla is not None:
        w.header("sla")
        w.pairs({"response_met_by": list(config.sla.response_met_by)})
    if config.serve is not None:
        w.header("serve")
        w.pairs({k: getattr(config.serve, k) for k in _SERVE_KEYS})
    if config.intake is not None:
        for name, pairs in intake_dump(config.intake):
            array = name.startswith("[")
            w.header(name.strip("[]"), array=array)
            w.pairs(pairs)
    for c in config.calendars or ():
        w.header("calendars", array=True)
        w.pairs(
            {
                "name": c.name,
                "timezone": c.timezone,
                "always_open": c.always_open or None,
                "holidays": list(c.holidays),
                "workdays": list(c.workdays) or None,
                "workdays_as": c.workdays_as if c.workdays_as != "mon" else None,
            }
        )
        if c.hours:
            w.header("calendars.hours")
            w.pairs({d: [f"{s}-{e}" for s, e in c.hours[d]] for d in WEEKDAYS if c.hours.get(d)})
    for p in config.sla_policies or ():
        w.header("sla_policies", array=True)
        w.pairs(
            {
                "name": p.name,
                "rank": p.rank,
                "calendar": p.calendar,
                "response_minutes": p.response_minutes,
                "resolution_minutes": p.resolution_minutes,
                "warn_at_percent": list(p.warn_at_percent),
                "pause_statuses": list(p.pause_statuses) or None,
            }
        )
        if "pause_statuses" in _sla_values(p) and not p.pause_statuses:
            w.lines.append("pause_statuses = []")
        match = _sla_match_values(p.match)
        if match:
            match["priorities"] = [f"P{n}" for n in p.match.priorities]
            w.header("sla_policies.match")
            w.pairs(match)
    for e in config.escalation_rules or ():
        w.header("escalation_rules", array=True)
        w.pairs(
            {
                "name": e.name,
                "level": e.level,
                "at_percent": e.at_percent,
                "actions": list(e.actions),
            }
        )
        match = {
            "kinds": list(e.match.kinds),
            "priorities": [f"P{n}" for n in e.match.priorities],
            "types": list(e.match.types),
        }
        if any(match.values()):
            w.header("escalation_rules.match")
            w.pairs(match)
    for t in config.teams or ():
        w.header("teams", array=True)
        w.pairs(
            {
                "name": t.name,
                "tier": t.tier,
                "description": t.description or None,
                "email": t.email,
                "escalation_team": t.escalation_team,
                "supervisor": t.supervisor,
            }
        )
    for a in config.agents or ():
        w.header("agents", array=True)
        w.pairs(
            {
                "username": a.username,
                "name": a.name or None,
                "email": a.email,
                "team": a.team,
                "roles": list(a.roles),
                "hourly_cost": a.hourly_cost,
                "timezone": a.timezone,
                "active": None if a.active else False,
                "ssh_keys": list(a.ssh_keys or ()),
            }
        )
    dump_rotations(w, config.rotations or ())
    for s in config.services or ():
        w.header("services", array=True)
        w.pairs(
            {
                "name": s.name,
                "description": s.description or None,
                "criticality": s.criticality,
                "availability_target": s.availability_target,
                "owner_team": s.owner_team,
                "depends_on": list(s.depends_on),
            }
        )
        for m in s.maintenance_windows:
            w.header("services.maintenance_windows", array=True)
            w.pairs(
                {
                    "name": m.name,
                    "starts_at": m.starts_at.astimezone(_zone(m.timezone, zone)),
                    "ends_at": m.ends_at.astimezone(_zone(m.timezone, zone)),
                    "recurrence": m.recurrence,
                    "timezone": m.timezone,
                }
            )
    for c in config.catalogue_items or ():
        w.header("catalogue_items", array=True)
        w.pairs(
            {
                "code": c.code,
                "name": c.name,
                "description": c.description or None,
                "category": c.category or None,
                "team": c.team,
                "service": c.service,
                "requires_approval": c.requires_approval,
                "approval_role": c.approval_role,
                "fulfilment_minutes": c.fulfilment_minutes,
                "active": None if c.active else False,
            }
        )
        for f in c.form:
            w.header("catalogue_items.form", array=True)
            w.pairs(
                {
                    "name": f.name,
                    "label": f.label,
                    "kind": f.kind,
                    "required": f.required,
                    "choices": list(f.choices),
                }
            )
        for task in c.tasks:
            w.header("catalogue_items.tasks", array=True)
            w.pairs({"name": task.name, "team": task.team, "minutes": task.minutes})
    for ct in config.change_types or ():
        w.header(f"change_types.{ct.name}")
        w.pairs(
            {
                "description": ct.description or None,
                "cab_required": ct.cab_required,
                "pre_approved": ct.pre_approved,
                "lead_time_hours": ct.lead_time_hours,
                "quorum": ct.quorum,
                "approvals": dict(ct.approvals) or None,
                "cab": list(ct.cab),
                "review_required": ct.review_required,
                "review_days": ct.review_days,
            }
        )
    for t in config.change_templates or ():
        w.header("change_templates", array=True)
        w.pairs(
            {
                "name": t.name,
                "title": t.title,
                "description": t.description or None,
                "category": t.category or None,
                "services": list(t.services),
                "implementation_plan": t.implementation_plan or None,
                "backout_plan": t.backout_plan or None,
                "test_plan": t.test_plan or None,
                "duration_minutes": t.duration_minutes,
                "risk": t.risk,
            }
        )
    if config.risk_questionnaire is not None:
        rq = config.risk_questionnaire
        w.header("risk_questionnaire.thresholds")
        w.pairs(dict(rq.thresholds))
        if rq.rules:
            w.header("risk_questionnaire.rules")
            w.pairs(dict(rq.rules))
        for q in rq.questions:
            w.header("risk_questionnaire.questions", array=True)
            w.pairs({"id": q.id, "text": q.text})
            w.lines.append("answers = [")
            for a in q.answers:
                w.lines.append(
                    f"    {_lit({'value': a.value, 'label': a.label, 'weight': a.weight})},"
                )
            w.lines.append("]")
    for f in config.freeze_windows or ():
        w.header("freeze_windows", array=True)
        w.pairs(
            {
                "name": f.name,
                "starts_at": f.starts_at.astimezone(_zone(f.timezone, zone)),
                "ends_at": f.ends_at.astimezone(_zone(f.timezone, zone)),
                "reason": f.reason or None,
                "services": list(f.services),
                "recurrence": f.recurrence,
                "timezone": f.timezone,
            }
        )
    for b in config.budgets or ():
        w.header("budgets", array=True)
        period = b.period
        bounds: dict[str, Any] = (
            {"period": period}
            if ".." not in period
            else {"period_start": b.period_start, "period_end": b.period_end}
        )
        w.pairs({"category": b.category, **bounds, "amount": b.amount, "currency": b.currency})
    if config.notifications is not None:
        _dump_notifications(w, notifications_value(config.notifications))
    return "\n".join(w.lines) + "\n"


def _dump_notifications(w: _Writer, n: dict[str, Any]) -> None:
    w.header("notifications")
    w.pairs({k: v for k, v in n.items() if k not in ("smtp", "agents", "teams", "events")})
    if "smtp" in n:
        w.header("notifications.smtp")
        w.pairs(n["smtp"])
    for section in ("agents", "teams"):
        for item in n[section]:
            w.header(f"notifications.{section}", array=True)
            w.pairs(item)
    if n["events"]:
        w.header("notifications.events")
        w.pairs(n["events"])
