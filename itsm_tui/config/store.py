"""The desk file's sections in the store: comparable values, rows, and reading them back."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.config.intake import intake_from_value, intake_value
from itsm_tui.config.model import (
    AgentConfig,
    BudgetConfig,
    CalendarConfig,
    CatalogueItemConfig,
    ChangeTemplateConfig,
    ChangeTypeConfig,
    DeskConfig,
    DeskInfo,
    EscalationMatch,
    EscalationRuleConfig,
    FormField,
    FreezeWindowConfig,
    FulfilmentTaskConfig,
    KpiTargets,
    Matrix,
    RiskAnswer,
    RiskQuestion,
    RiskQuestionnaire,
    ServeSettings,
    ServiceConfig,
    SlaMatch,
    SlaPolicyConfig,
    SlaSettings,
    TeamConfig,
    _kpi_value,
)
from itsm_tui.config.notifications import notifications_from_value, notifications_value
from itsm_tui.config.rotations import rotations_from_value, rotations_value
from itsm_tui.config.vocabulary import DESK_DEFAULTS, KPI_TARGET_KEYS, RISK_LEVELS, RISK_RULES
from itsm_tui.config.windows import maintenance_from_json, maintenance_json
from itsm_tui.data.models import (
    Agent,
    AgentKey,
    Budget,
    BusinessCalendar,
    CatalogueItem,
    DeskSetting,
    EscalationRule,
    FreezeWindow,
    Service,
    SlaPolicy,
    Team,
)
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.sla import RESPONSE_TRIGGERS
from itsm_tui.domain.calendar import WEEKDAYS
from itsm_tui.domain.roles import ROLES
from itsm_tui.domain.workflow import CHANGE_TYPES
from itsm_tui.i18n import _

# Sections in the store. Each item becomes a dict of comparable, JSON-ready values
# (references by name); the same dict is compared for the plan, written to the row,
# and shown in audit events.


def _dec(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0E0") else text


def _set(
    row: Any,
    values: Mapping[str, Any],
    key: str,
    attr: str | None = None,
    convert: Callable[[Any], Any] | None = None,
) -> None:
    if key in values:
        value = values[key]
        setattr(row, attr or key, convert(value) if convert and value is not None else value)


def _ref(session: Session, model: Any, column: Any, name: str | None) -> int | None:
    if name is None:
        return None
    found = session.scalar(select(model.id).where(column == name))
    if found is None:
        # Validation against the merged desk runs first, so this means a concurrent writer.
        raise DeskError(
            _("'{name}' disappeared from the desk while the file was applied").format(name=name)
        )
    return int(found)


def _set_ref(
    session: Session,
    row: Any,
    values: Mapping[str, Any],
    key: str,
    attr: str,
    model: Any,
    column: Any,
) -> None:
    if key in values:
        setattr(row, attr, _ref(session, model, column, values[key]))


# calendars


def _calendar_values(c: CalendarConfig) -> dict[str, Any]:
    return {
        "timezone": c.timezone,
        "always_open": c.always_open,
        "hours": {d: [list(iv) for iv in c.hours[d]] for d in WEEKDAYS if c.hours.get(d)},
        "holidays": [d.isoformat() for d in c.holidays],
        "workdays": [d.isoformat() for d in c.workdays],
        "workdays_as": c.workdays_as,
    }


def _calendar_from_row(r: BusinessCalendar) -> CalendarConfig:
    hours = r.hours or {}
    return CalendarConfig(
        name=r.name,
        timezone=r.timezone,
        always_open=bool(r.always_open),
        hours={d: tuple((str(s), str(e)) for s, e in hours[d]) for d in WEEKDAYS if hours.get(d)},
        holidays=tuple(sorted(date.fromisoformat(h) for h in r.holidays or ())),
        workdays=tuple(sorted(date.fromisoformat(d) for d in r.workdays or ())),
        workdays_as=r.workdays_as or "mon",
    )


def _calendar_assign(session: Session, r: BusinessCalendar, v: Mapping[str, Any]) -> None:
    for key in ("timezone", "always_open", "hours", "holidays", "workdays", "workdays_as"):
        _set(r, v, key)


# SLA policies


def _sla_match_values(m: SlaMatch) -> dict[str, list[Any]]:
    raw = {
        "types": m.types,
        "priorities": m.priorities,
        "services": m.services,
        "catalogue_items": m.catalogue_items,
    }
    return {k: list(v) for k, v in raw.items() if v}


def _sla_values(p: SlaPolicyConfig) -> dict[str, Any]:
    return {
        "rank": p.rank,
        "calendar": p.calendar,
        "response_minutes": p.response_minutes,
        "resolution_minutes": p.resolution_minutes,
        "match": _sla_match_values(p.match),
        "warn_at_percent": list(p.warn_at_percent),
        "pause_statuses": list(p.pause_statuses),
    }


def _sla_from_row(r: SlaPolicy) -> SlaPolicyConfig:
    m = r.match or {}
    return SlaPolicyConfig(
        name=r.name,
        calendar=r.calendar.name,
        rank=r.rank,
        response_minutes=r.response_minutes,
        resolution_minutes=r.resolution_minutes,
        match=SlaMatch(
            types=tuple(m.get("types", ())),
            priorities=tuple(sorted(int(p) for p in m.get("priorities", ()))),
            services=tuple(m.get("services", ())),
            catalogue_items=tuple(m.get("catalogue_items", ())),
        ),
        warn_at_percent=tuple(int(p) for p in r.warn_at_percent or ()),
        pause_statuses=tuple(r.pause_statuses or ()),
    )


def _sla_assign(session: Session, r: SlaPolicy, v: Mapping[str, Any]) -> None:
    for key in (
        "rank",
        "response_minutes",
        "resolution_minutes",
        "match",
        "warn_at_percent",
        "pause_statuses",
    ):
        _set(r, v, key)
    _set_ref(session, r, v, "calendar", "calendar_id", BusinessCalendar, BusinessCalendar.name)


# escalation rules


def _escalation_values(e: EscalationRuleConfig) -> dict[str, Any]:
    raw = {"kinds": e.match.kinds, "priorities": e.match.priorities, "types": e.match.types}
    return {
        "at_percent": e.at_percent,
        "match": {k: list(v) for k, v in raw.items() if v},
        "actions": list(e.actions),
    }


def _escalation_from_row(r: EscalationRule) -> EscalationRuleConfig:
    m = r.match or {}
    return EscalationRuleConfig(
        name=r.name,
        level=r.level,
        at_percent=r.at_percent,
        match=EscalationMatch(
            kinds=tuple(m.get("kinds", ())),
            priorities=tuple(sorted(int(p) for p in m.get("priorities", ()))),
            types=tuple(m.get("types", ())),
        ),
        actions=tuple(r.actions or ()),
    )


def _escalation_assign(session: Session, r: EscalationRule, v: Mapping[str, Any]) -> None:
    for key in ("at_percent", "match", "actions"):
        _set(r, v, key)


# teams


def _team_values(t: TeamConfig) -> dict[str, Any]:
    return {
        "tier": t.tier,
        "description": t.description,
        "email": t.email,
        "escalation_team": t.escalation_team,
        "supervisor": t.supervisor,
    }


def _team_from_row(r: Team) -> TeamConfig:
    return TeamConfig(
        name=r.name,
        tier=r.tier,
        description=r.description or "",
        email=r.email,
        escalation_team=r.escalation_team.name if r.escalation_team else None,
        supervisor=r.supervisor.username if r.supervisor else None,
    )


def _team_assign(session: Session, r: Team, v: Mapping[str, Any]) -> None:
    for key in ("tier", "description", "email"):
        _set(r, v, key)
    _set_ref(session, r, v, "escalation_team", "escalation_team_id", Team, Team.name)
    _set_ref(session, r, v, "supervisor", "supervisor_id", Agent, Agent.username)


# agents


def _agent_values(a: AgentConfig) -> dict[str, Any]:
    values = {
        "name": a.name,
        "email": a.email,
        "team": a.team,
        "roles": list(a.roles),
        "hourly_cost": _dec(a.hourly_cost),
        "timezone": a.timezone,
        "active": a.active,
    }
    if a.ssh_keys is not None:
        # Only when the file lists them: a file without ssh_keys leaves an agent's keys alone.
        # None for none, as a row without keys reads: `ssh_keys = []` on such an agent is
        # no change, on an agent with keys it takes them all away.
        values["ssh_keys"] = list(a.ssh_keys) or None
    return values


def _agent_from_row(r: Agent) -> AgentConfig:
    return AgentConfig(
        username=r.username,
        name=r.display_name or "",
        email=r.email,
        team=r.team.name if r.team else None,
        roles=tuple(role for role in ROLES if role in r.role_set),
        hourly_cost=Decimal(r.hourly_cost or 0),
        timezone=r.timezone,
        active=bool(r.active),
        ssh_keys=tuple(k.public_key for k in r.ssh_keys) or None,
    )


def _agent_assign(session: Session, r: Agent, v: Mapping[str, Any]) -> None:
    _set(r, v, "name", "display_name")
    _set(r, v, "roles", convert=" ".join)
    _set(r, v, "hourly_cost", convert=Decimal)
    for key in ("email", "timezone", "active"):
        _set(r, v, key)
    _set_ref(session, r, v, "team", "team_id", Team, Team.name)
    if "ssh_keys" in v:
        _assign_keys(session, r, v["ssh_keys"] or ())


def _assign_keys(session: Session, agent: Agent, lines: Sequence[str]) -> None:
    """Make the agent's keys exactly `lines`; a key another agent held moves to this one
    (the plan has checked the file takes it away from them)."""
    from itsm_tui.desk.agent_keys import read_public_key

    wanted = {read_public_key(line).fingerprint: line for line in lines}
    for key in list(agent.ssh_keys):
        if key.fingerprint not in wanted:
            agent.ssh_keys.remove(key)
    session.flush()
    held = {k.fingerprint: k for k in agent.ssh_keys}
    now = datetime.now(UTC)
    for fingerprint, line in wanted.items():
        key = held.get(fingerprint)
        if key is None:
            key = session.scalars(
                select(AgentKey).where(AgentKey.fingerprint == fingerprint)
            ).one_or_none()
            if key is None:
                key = AgentKey(fingerprint=fingerprint, public_key=line, added_at=now)
            agent.ssh_keys.append(key)
        key.public_key = line


# services


def _service_values(s: ServiceConfig) -> dict[str, Any]:
    return {
        "description": s.description,
        "criticality": s.criticality,
        "availability_target": _dec(s.availability_target),
        "owner_team": s.owner_team,
        "depends_on": sorted(s.depends_on),
        "maintenance_windows": [maintenance_json(w) for w in s.maintenance_windows],
    }


def _service_from_row(r: Service) -> ServiceConfig:
    return ServiceConfig(
        name=r.name,
        description=r.description or "",
        criticality=r.criticality,
        availability_target=Decimal(r.availability_target).normalize(),
        owner_team=r.owner_team.name if r.owner_team else None,
        depends_on=tuple(d.name for d in r.depends_on),
        maintenance_windows=maintenance_from_json(r.maintenance_windows or ()),
    )


def _service_assign(session: Session, r: Service, v: Mapping[str, Any]) -> None:
    _set(r, v, "description")
    _set(r, v, "criticality")
    _set(r, v, "availability_target", convert=Decimal)
    _set(r, v, "maintenance_windows")
    _set_ref(session, r, v, "owner_team", "owner_team_id", Team, Team.name)
    if "depends_on" in v:
        # Deferred (see _TABLES): every service of the file exists by now.
        r.depends_on = [
            session.get_one(Service, _ref(session, Service, Service.name, name))
            for name in v["depends_on"]
        ]


# catalogue items


def _form_json(f: FormField) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "label": f.label, "kind": f.kind, "required": f.required}
    if f.choices:
        out["choices"] = list(f.choices)
    return out


def _catalogue_values(c: CatalogueItemConfig) -> dict[str, Any]:
    return {
        "name": c.name,
        "description": c.description,
        "category": c.category,
        "team": c.team,
        "service": c.service,
        "requires_approval": c.requires_approval,
        "approval_role": c.approval_role,
        "fulfilment_minutes": c.fulfilment_minutes,
        "form": [_form_json(f) for f in c.form],
        # Only an item with a plan names the column: a desk without plans applies to a
        # store from before revision 0027 too.
        **({"tasks": [_task_json(t) for t in c.tasks]} if c.tasks else {}),
        "active": c.active,
    }


def _task_json(t: FulfilmentTaskConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name, "team": t.team}
    if t.minutes is not None:
        out["minutes"] = t.minutes
    return out


def _catalogue_from_row(r: CatalogueItem) -> CatalogueItemConfig:
    return CatalogueItemConfig(
        code=r.code,
        name=r.name,
        description=r.description or "",
        category=r.category or "",
        team=r.team.name if r.team else None,
        service=r.service.name if r.service else None,
        requires_approval=bool(r.requires_approval),
        approval_role=r.approval_role,
        fulfilment_minutes=r.fulfilment_minutes,
        form=tuple(
            FormField(
                name=f["name"],
                label=f.get("label", f["name"]),
                kind=f.get("kind", "text"),
                required=bool(f.get("required", False)),
                choices=tuple(f.get("choices", ())),
            )
            for f in r.form or ()
        ),
        tasks=tuple(
            FulfilmentTaskConfig(name=t["name"], team=t["team"], minutes=t.get("minutes"))
            for t in r.tasks or ()
        ),
        active=bool(r.active),
    )


def _catalogue_assign(session: Session, r: CatalogueItem, v: Mapping[str, Any]) -> None:
    for key in (
        "name",
        "description",
        "category",
        "requires_approval",
        "approval_role",
        "fulfilment_minutes",
        "form",
        "active",
    ):
        _set(r, v, key)
    # Named only when the item has or had a plan (see _catalogue_values).
    if "tasks" in v or r.tasks:
        r.tasks = v.get("tasks") or []
    _set_ref(session, r, v, "team", "team_id", Team, Team.name)
    _set_ref(session, r, v, "service", "service_id", Service, Service.name)


# freeze windows


def _freeze_values(f: FreezeWindowConfig) -> dict[str, Any]:
    return {
        "starts_at": f.starts_at.astimezone(UTC).isoformat(),
        "ends_at": f.ends_at.astimezone(UTC).isoformat(),
        "reason": f.reason,
        "services": list(f.services),
        "recurrence": f.recurrence,
        "timezone": f.timezone,
    }


def _freeze_from_row(r: FreezeWindow) -> FreezeWindowConfig:
    return FreezeWindowConfig(
        name=r.name,
        starts_at=r.starts_at,
        ends_at=r.ends_at,
        reason=r.reason or "",
        services=tuple(r.services or ()),
        recurrence=r.recurrence,
        timezone=r.timezone,
    )


def _freeze_assign(session: Session, r: FreezeWindow, v: Mapping[str, Any]) -> None:
    _set(r, v, "starts_at", convert=datetime.fromisoformat)
    _set(r, v, "ends_at", convert=datetime.fromisoformat)
    for key in ("reason", "services", "recurrence", "timezone"):
        _set(r, v, key)


# budgets


def _budget_values(b: BudgetConfig) -> dict[str, Any]:
    return {
        "period_end": b.period_end.isoformat(),
        "amount": _dec(b.amount),
        "currency": b.currency,
    }


def _budget_from_row(r: Budget) -> BudgetConfig:
    return BudgetConfig(
        category=r.category,
        period_start=r.period_start,
        period_end=r.period_end,
        amount=Decimal(r.amount),
        currency=r.currency,
    )


def _budget_assign(session: Session, r: Budget, v: Mapping[str, Any]) -> None:
    _set(r, v, "period_end", convert=date.fromisoformat)
    _set(r, v, "amount", convert=Decimal)
    _set(r, v, "currency")


@dataclass(frozen=True)
class _TableSpec:
    section: str
    model: Any
    values: Callable[[Any], dict[str, Any]]
    from_row: Callable[[Any], Any]
    assign: Callable[[Session, Any, Mapping[str, Any]], None]
    new_row: Callable[[Any], Any]
    # What happens to a row the file no longer lists while other records still refer to it.
    when_referenced: Literal["deactivate", "refuse"] = "refuse"
    # References to rows of the same or a later section: assigned once every row exists.
    deferred: tuple[str, ...] = ()


# In dependency order: a section only refers to sections before it (teams' deferred
# references to other teams and to agents excepted).
_TABLES: tuple[_TableSpec, ...] = (
    _TableSpec(
        "calendars",
        BusinessCalendar,
        _calendar_values,
        _calendar_from_row,
        _calendar_assign,
        lambda c: BusinessCalendar(name=c.name),
    ),
    _TableSpec(
        "teams",
        Team,
        _team_values,
        _team_from_row,
        _team_assign,
        lambda t: Team(name=t.name),
        deferred=("escalation_team", "supervisor"),
    ),
    _TableSpec(
        "agents",
        Agent,
        _agent_values,
        _agent_from_row,
        _agent_assign,
        lambda a: Agent(username=a.username),
        when_referenced="deactivate",
    ),
    _TableSpec(
        "services",
        Service,
        _service_values,
        _service_from_row,
        _service_assign,
        lambda s: Service(name=s.name),
        deferred=("depends_on",),
    ),
    _TableSpec(
        "catalogue_items",
        CatalogueItem,
        _catalogue_values,
        _catalogue_from_row,
        _catalogue_assign,
        lambda c: CatalogueItem(code=c.code),
        when_referenced="deactivate",
    ),
    _TableSpec(
        "sla_policies",
        SlaPolicy,
        _sla_values,
        _sla_from_row,
        _sla_assign,
        lambda p: SlaPolicy(name=p.name),
    ),
    _TableSpec(
        "escalation_rules",
        EscalationRule,
        _escalation_values,
        _escalation_from_row,
        _escalation_assign,
        lambda e: EscalationRule(name=e.name, level=e.level),
    ),
    _TableSpec(
        "freeze_windows",
        FreezeWindow,
        _freeze_values,
        _freeze_from_row,
        _freeze_assign,
        lambda f: FreezeWindow(name=f.name),
    ),
    _TableSpec(
        "budgets",
        Budget,
        _budget_values,
        _budget_from_row,
        _budget_assign,
        lambda b: Budget(category=b.category, period_start=b.period_start, period_end=b.period_end),
    ),
)


# Settings kept as DeskSetting rows (key = section name).


def _desk_value(d: DeskInfo) -> dict[str, Any]:
    return {"name": d.name, "timezone": d.timezone, "default_calendar": d.default_calendar}


def _desk_from_value(v: Mapping[str, Any]) -> DeskInfo:
    merged = {**DESK_DEFAULTS, **v}
    return DeskInfo(
        name=merged["name"],
        timezone=merged["timezone"],
        default_calendar=merged["default_calendar"],
    )


def _matrix_value(m: Matrix) -> list[list[int]]:
    return [list(row) for row in m]


def _matrix_from_value(v: Sequence[Sequence[int]]) -> Matrix:
    rows = [tuple(int(x) for x in row) for row in v]
    return (rows[0], rows[1], rows[2])  # type: ignore[return-value]


def _kpi_from_value(v: Mapping[str, Any]) -> KpiTargets:
    values: dict[str, Any] = {}
    for key, (kind, _lo, _hi) in KPI_TARGET_KEYS.items():
        if key in v:
            values[key] = int(v[key]) if kind == "integer" else Decimal(str(v[key]))
    return KpiTargets(**values)


_SERVE_KEYS = (
    "max_sessions",
    "max_sessions_per_agent",
    "idle_timeout_minutes",
    "keepalive_seconds",
)


def _serve_value(s: ServeSettings) -> dict[str, int]:
    return {key: getattr(s, key) for key in _SERVE_KEYS}


def _serve_from_value(v: Mapping[str, Any]) -> ServeSettings:
    return ServeSettings(**{key: int(v[key]) for key in _SERVE_KEYS if key in v})


def _change_types_value(types: Sequence[ChangeTypeConfig]) -> dict[str, Any]:
    return {
        t.name: {
            "description": t.description,
            "cab_required": t.cab_required,
            "pre_approved": t.pre_approved,
            "lead_time_hours": t.lead_time_hours,
            "quorum": t.quorum,
            "approvals": {lv: t.approvals[lv] for lv in RISK_LEVELS if lv in t.approvals},
            "cab": list(t.cab),
            "review_required": t.review_required,
            "review_days": t.review_days,
        }
        for t in types
    }


def _change_types_from_value(v: Mapping[str, Any]) -> tuple[ChangeTypeConfig, ...]:
    out = []
    for name in CHANGE_TYPES:
        if name not in v:
            continue
        values = dict(v[name])
        values["cab"] = tuple(values.get("cab") or ())
        values["approvals"] = dict(values.get("approvals") or {})
        out.append(ChangeTypeConfig(name=name, **values))
    return tuple(out)


def _change_templates_value(templates: Sequence[ChangeTemplateConfig]) -> dict[str, Any]:
    # Keyed by name, so a plan names the template and the field that changed.
    return {
        t.name: {
            "title": t.title,
            "description": t.description,
            "category": t.category,
            "services": list(t.services),
            "implementation_plan": t.implementation_plan,
            "backout_plan": t.backout_plan,
            "test_plan": t.test_plan,
            "duration_minutes": t.duration_minutes,
            "risk": t.risk,
        }
        for t in templates
    }


def _change_templates_from_value(v: Mapping[str, Any]) -> tuple[ChangeTemplateConfig, ...]:
    return tuple(
        ChangeTemplateConfig(name=name, **{**fields, "services": tuple(fields["services"])})
        for name, fields in v.items()
    )


def _risk_value(r: RiskQuestionnaire) -> dict[str, Any]:
    return {
        "questions": [
            {
                "id": q.id,
                "text": q.text,
                "answers": [
                    {"value": a.value, "label": a.label, "weight": a.weight} for a in q.answers
                ],
            }
            for q in r.questions
        ],
        "thresholds": {
            level: r.thresholds[level] for level in RISK_LEVELS if level in r.thresholds
        },
        "rules": {rule: r.rules[rule] for rule in RISK_RULES if rule in r.rules},
    }


def _risk_from_value(v: Mapping[str, Any]) -> RiskQuestionnaire:
    return RiskQuestionnaire(
        questions=tuple(
            RiskQuestion(
                id=q["id"],
                text=q["text"],
                answers=tuple(
                    RiskAnswer(a["value"], a.get("label", a["value"]), int(a["weight"]))
                    for a in q["answers"]
                ),
            )
            for q in v["questions"]
        ),
        thresholds={
            level: int(v["thresholds"][level]) for level in RISK_LEVELS if level in v["thresholds"]
        },
        rules={rule: str(v["rules"][rule]) for rule in RISK_RULES if rule in v.get("rules", {})},
    )


def _flatten(value: Any) -> dict[str, Any]:
    """The fields a plan reports for a setting: one level of nesting spelled "a.b"."""
    if isinstance(value, list):  # the priority matrix
        return {f"impact_{i}": row for i, row in enumerate(value, start=1)}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        if isinstance(inner, dict) and key not in ("thresholds", "rules"):
            for sub, leaf in inner.items():
                out[f"{key}.{sub}"] = leaf
        else:
            out[key] = inner
    return out


@dataclass(frozen=True)
class _SettingSpec:
    section: str
    to_value: Callable[[Any], Any]
    from_value: Callable[[Any], Any]


_SETTINGS: tuple[_SettingSpec, ...] = (
    _SettingSpec("desk", _desk_value, _desk_from_value),
    _SettingSpec("priority_matrix", _matrix_value, _matrix_from_value),
    _SettingSpec("kpi_targets", _kpi_value, _kpi_from_value),
    _SettingSpec(
        "sla",
        lambda v: {"response_met_by": list(v.response_met_by)},
        lambda v: SlaSettings(response_met_by=tuple(v.get("response_met_by") or RESPONSE_TRIGGERS)),
    ),
    _SettingSpec("serve", _serve_value, _serve_from_value),
    _SettingSpec("intake", intake_value, intake_from_value),
    _SettingSpec("change_types", _change_types_value, _change_types_from_value),
    _SettingSpec("change_templates", _change_templates_value, _change_templates_from_value),
    _SettingSpec("risk_questionnaire", _risk_value, _risk_from_value),
    _SettingSpec("notifications", notifications_value, notifications_from_value),
    _SettingSpec("rotations", rotations_value, rotations_from_value),
)
_SETTING_BY_SECTION = {spec.section: spec for spec in _SETTINGS}


def read_config(session: Session) -> DeskConfig:
    """The desk's configuration as the store holds it (what `itsm config show` prints)."""
    sections: dict[str, Any] = {}
    for setting in _SETTINGS:
        row = session.get(DeskSetting, setting.section)
        if row is None or row.value is None:
            sections[setting.section] = None
            continue
        try:
            sections[setting.section] = setting.from_value(row.value)
        except (KeyError, TypeError, ValueError, IndexError, InvalidOperation):
            raise DeskError(
                _(
                    "the desk setting '{key}' in the store is malformed; "
                    "apply a desk file to repair it"
                ).format(key=setting.section)
            ) from None
    for spec in _TABLES:
        rows = session.scalars(select(spec.model).order_by(spec.model.id))
        sections[spec.section] = tuple(spec.from_row(r) for r in rows)
    return DeskConfig(**sections)
