"""Parsing each desk-file section into its typed configuration."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from itsm_tui.config import windows
from itsm_tui.config.checker import _MISSING, Table, _duplicate, _priority
from itsm_tui.config.model import (
    AgentConfig,
    BudgetConfig,
    CatalogueItemConfig,
    DeskInfo,
    EscalationMatch,
    EscalationRuleConfig,
    FormField,
    FreezeWindowConfig,
    FulfilmentTaskConfig,
    KpiTargets,
    Matrix,
    ServeSettings,
    ServiceConfig,
    SlaMatch,
    SlaPolicyConfig,
    SlaSettings,
    TeamConfig,
)
from itsm_tui.config.vocabulary import (
    _CODE,
    _CURRENCY,
    _IDENTIFIER,
    _MONEY_MAX,
    _NAME_MAX,
    _USERNAME,
    CLOCK_KINDS,
    DEFAULT_PAUSE_STATUSES,
    DEFAULT_WARN_AT_PERCENT,
    DESK_DEFAULTS,
    ESCALATION_ACTIONS,
    FORM_FIELD_KINDS,
    KPI_TARGET_KEYS,
    _period,
)
from itsm_tui.desk.sla import RESPONSE_TRIGGERS
from itsm_tui.domain.priority import validate_matrix
from itsm_tui.domain.roles import ROLES
from itsm_tui.domain.workflow import TICKET_TYPES, open_statuses
from itsm_tui.i18n import _


def _parse_desk(t: Table) -> DeskInfo:
    t.check_keys(("name", "timezone", "default_calendar"))
    return DeskInfo(
        name=t.text("name", default=DESK_DEFAULTS["name"], max_len=200),
        timezone=t.timezone("timezone", default=DESK_DEFAULTS["timezone"]),
        default_calendar=t.text("default_calendar"),
        path=t.path,
    )


def _parse_sla_settings(t: Table) -> SlaSettings:
    t.check_keys(("response_met_by",))
    met_by = t.strings("response_met_by", choices=RESPONSE_TRIGGERS, default=RESPONSE_TRIGGERS)
    if not met_by:
        t.error(
            "response_met_by",
            _("response_met_by must name at least one of: {choices}").format(
                choices=", ".join(RESPONSE_TRIGGERS)
            ),
        )
    return SlaSettings(response_met_by=met_by or RESPONSE_TRIGGERS, path=t.path)


def _parse_serve(t: Table) -> ServeSettings:
    keys = ("max_sessions", "max_sessions_per_agent", "idle_timeout_minutes", "keepalive_seconds")
    t.check_keys(keys)
    defaults = ServeSettings()
    limits = {
        "max_sessions": (1, 10_000),
        "max_sessions_per_agent": (1, 100),
        # A week at most: an idle session holds a process and a database connection.
        "idle_timeout_minutes": (0, 7 * 24 * 60),
        "keepalive_seconds": (0, 3600),
    }
    values = {
        key: t.integer(key, lo=lo, hi=hi, default=getattr(defaults, key))
        for key, (lo, hi) in limits.items()
    }
    if values["max_sessions_per_agent"] > values["max_sessions"]:
        t.error(
            "max_sessions_per_agent",
            _("max_sessions_per_agent ({per}) cannot be more than max_sessions ({total})").format(
                per=values["max_sessions_per_agent"], total=values["max_sessions"]
            ),
        )
    return ServeSettings(**values, path=t.path)


def _parse_ssh_keys(t: Table) -> tuple[str, ...] | None:
    """Each key read as `itsm agent key add` reads it; an error names the key's own line."""
    from itsm_tui.desk.agent_keys import read_public_key
    from itsm_tui.desk.errors import InvalidInput

    if "ssh_keys" not in t.raw:
        return None
    keys: list[str] = []
    seen: set[str] = set()
    for i, text in enumerate(t.strings("ssh_keys")):
        try:
            key = read_public_key(text)
        except InvalidInput as exc:
            t.error(("ssh_keys", i), _("ssh_keys: {why}").format(why=exc))
            continue
        if key.fingerprint in seen:
            t.error(
                ("ssh_keys", i),
                _("ssh_keys: the key {fingerprint} is listed twice").format(
                    fingerprint=key.fingerprint
                ),
            )
            continue
        seen.add(key.fingerprint)
        keys.append(key.line)
    return tuple(keys)


def _parse_matrix(t: Table) -> Matrix | None:
    keys = ("impact_1", "impact_2", "impact_3")
    t.check_keys(keys)
    rows: list[tuple[int, ...]] = []
    for key in keys:
        raw = t._get(key, True)
        if raw is _MISSING:
            continue
        if not isinstance(raw, list) or len(raw) != 3:
            t.error(
                key,
                _('{key} must list 3 priorities (urgency 1, 2, 3), e.g. ["P1", "P2", "P3"]').format(
                    key=key
                ),
            )
            continue
        row = [_priority(v) for v in raw]
        bad = [raw[i] for i, v in enumerate(row) if v is None]
        if bad:
            t.error(
                key, _("{key}: {value!r} is not a priority P1–P4").format(key=key, value=bad[0])
            )
            continue
        rows.append(tuple(v for v in row if v is not None))
    if len(rows) != 3:
        return None
    problem = validate_matrix(rows)
    if problem:
        t.error(None, problem)
        return None
    return (rows[0], rows[1], rows[2])  # type: ignore[return-value]


def _parse_kpi(t: Table) -> KpiTargets:
    t.check_keys(KPI_TARGET_KEYS)
    values: dict[str, Any] = {}
    for key, (kind, lo, hi) in KPI_TARGET_KEYS.items():
        if kind == "integer":
            values[key] = t.integer(key, lo=int(lo), hi=int(hi))
        else:
            values[key] = t.number(key, lo=lo, hi=hi, places=4)
    return KpiTargets(**values, path=t.path)


def _parse_sla(t: Table) -> SlaPolicyConfig | None:
    t.check_keys(
        (
            "name",
            "rank",
            "calendar",
            "response_minutes",
            "resolution_minutes",
            "match",
            "warn_at_percent",
            "pause_statuses",
        )
    )
    name = t.text("name", required=True, max_len=120)
    calendar = t.text("calendar", required=True)
    rank = t.integer("rank", lo=0, hi=100_000, default=100)
    response = t.integer("response_minutes", lo=1, hi=1_000_000)
    resolution = t.integer("resolution_minutes", lo=1, hi=10_000_000)
    if "response_minutes" not in t.raw and "resolution_minutes" not in t.raw:
        t.error(None, _("set response_minutes, resolution_minutes or both"))
    if response is not None and resolution is not None and response > resolution:
        t.error(
            "response_minutes",
            _("response_minutes ({r}) is longer than resolution_minutes ({s})").format(
                r=response, s=resolution
            ),
        )
    match = SlaMatch()
    table = t.table("match")
    if table is not None:
        table.check_keys(("types", "priorities", "services", "catalogue_items"))
        match = SlaMatch(
            types=table.strings("types", choices=TICKET_TYPES),
            priorities=table.priorities("priorities"),
            services=table.strings("services"),
            catalogue_items=table.strings("catalogue_items"),
        )
    warn = _parse_percents(t)
    pause = t.strings("pause_statuses", choices=open_statuses(), default=DEFAULT_PAUSE_STATUSES)
    if name is None or calendar is None:
        return None
    return SlaPolicyConfig(
        name=name,
        calendar=calendar,
        rank=rank,
        response_minutes=response,
        resolution_minutes=resolution,
        match=match,
        warn_at_percent=warn,
        pause_statuses=pause,
        path=t.path,
    )


def _parse_percents(t: Table) -> tuple[int, ...]:
    raw = t.raw.get("warn_at_percent", _MISSING)
    if raw is _MISSING:
        return DEFAULT_WARN_AT_PERCENT
    ok = isinstance(raw, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 99 for v in raw
    )
    if not ok or list(raw) != sorted(set(raw)):
        t.error(
            "warn_at_percent",
            _("warn_at_percent must be increasing whole percents between 1 and 99, e.g. [50, 75]"),
        )
        return DEFAULT_WARN_AT_PERCENT
    return tuple(raw)


def _parse_escalation(t: Table) -> EscalationRuleConfig | None:
    t.check_keys(("name", "level", "at_percent", "match", "actions"))
    name = t.text("name", required=True, max_len=120)
    level = t.integer("level", lo=1, hi=9, required=True)
    at_percent = t.integer("at_percent", lo=1, hi=1000, default=100)
    match = EscalationMatch()
    table = t.table("match")
    if table is not None:
        table.check_keys(("kinds", "priorities", "types"))
        match = EscalationMatch(
            kinds=table.strings("kinds", choices=CLOCK_KINDS),
            priorities=table.priorities("priorities"),
            types=table.strings("types", choices=TICKET_TYPES),
        )
    actions = t.strings("actions", choices=ESCALATION_ACTIONS)
    if not actions and "actions" in t.raw:
        t.error("actions", _("actions must name at least one action"))
    elif "actions" not in t.raw:
        t.error(None, _("'actions' is missing"))
    if name is None or level is None:
        return None
    return EscalationRuleConfig(
        name=name, level=level, at_percent=at_percent, match=match, actions=actions, path=t.path
    )


def _email(t: Table, key: str = "email") -> str | None:
    value = t.text(key, max_len=200)
    if value is not None and not re.match(r"^[^@\s]+@[^@\s]+$", value):
        t.error(key, _("{key} '{value}' is not an e-mail address").format(key=key, value=value))
        return None
    return value


def _parse_team(t: Table) -> TeamConfig | None:
    t.check_keys(("name", "tier", "description", "email", "escalation_team", "supervisor"))
    name = t.text("name", required=True, max_len=_NAME_MAX)
    escalation = t.text("escalation_team")
    if name is not None and escalation == name:
        t.error("escalation_team", _("a team cannot escalate to itself"))
        escalation = None
    if name is None:
        return None
    return TeamConfig(
        name=name,
        tier=t.integer("tier", lo=1, hi=9, default=1),
        description=t.text("description", default=""),
        email=_email(t),
        escalation_team=escalation,
        supervisor=t.text("supervisor"),
        path=t.path,
    )


def _parse_agent(t: Table) -> AgentConfig | None:
    t.check_keys(
        (
            "username",
            "name",
            "email",
            "team",
            "roles",
            "hourly_cost",
            "timezone",
            "active",
            "ssh_keys",
        )
    )
    username = t.text(
        "username",
        required=True,
        max_len=_NAME_MAX,
        pattern=_USERNAME,
        hint=_("letters, digits and . _ @ -"),
    )
    roles = t.strings("roles", choices=ROLES, default=("agent",))
    if not roles:
        t.error(
            "roles", _("roles must name at least one role: {roles}").format(roles=", ".join(ROLES))
        )
    cost = t.number(
        "hourly_cost",
        lo=Decimal(0),
        hi=Decimal("99999999.99"),
        places=2,
        default=Decimal(0),
        allow_text=True,
    )
    if username is None:
        return None
    return AgentConfig(
        username=username,
        name=t.text("name", default="", max_len=200),
        email=_email(t),
        team=t.text("team"),
        roles=tuple(r for r in ROLES if r in roles),
        hourly_cost=cost,
        timezone=t.timezone("timezone"),
        active=t.boolean("active", default=True),
        ssh_keys=_parse_ssh_keys(t),
        path=t.path,
    )


def _parse_service(t: Table) -> ServiceConfig | None:
    t.check_keys(
        (
            "name",
            "description",
            "criticality",
            "availability_target",
            "owner_team",
            "depends_on",
            "maintenance_windows",
        )
    )
    name = t.text("name", required=True, max_len=120)
    target = t.number(
        "availability_target",
        lo=Decimal(0),
        hi=Decimal(100),
        low_open=True,
        places=4,
        default=Decimal("99.9"),
    )
    if name is None:
        return None
    return ServiceConfig(
        name=name,
        description=t.text("description", default=""),
        criticality=t.integer("criticality", lo=1, hi=4, default=3),
        availability_target=target,
        owner_team=t.text("owner_team"),
        depends_on=t.strings("depends_on"),
        maintenance_windows=windows.maintenance_windows(t, _instant),
        path=t.path,
    )


def _parse_catalogue(t: Table) -> CatalogueItemConfig | None:
    t.check_keys(
        (
            "code",
            "name",
            "description",
            "category",
            "team",
            "service",
            "requires_approval",
            "approval_role",
            "fulfilment_minutes",
            "form",
            "tasks",
            "active",
        )
    )
    code = t.text(
        "code", required=True, max_len=80, pattern=_CODE, hint=_("letters, digits and . _ -")
    )
    name = t.text("name", required=True, max_len=200)
    form: list[FormField] = []
    seen: dict[Any, int] = {}
    for i, raw in t.tables("form") or []:
        ft = Table(t.chk, (*t.path, "form", i), raw, t.context)
        ft.check_keys(("name", "label", "kind", "required", "choices"))
        fname = ft.text(
            "name", required=True, pattern=_IDENTIFIER, hint=_("lower-case letters, digits and _")
        )
        kind = ft.text("kind", default="text")
        if kind not in FORM_FIELD_KINDS:
            ft.error(
                "kind",
                _("kind '{kind}' is not one of: {kinds}").format(
                    kind=kind, kinds=", ".join(FORM_FIELD_KINDS)
                ),
            )
        choices = ft.strings("choices")
        if kind == "choice" and not choices:
            ft.error(None, _('a choice field needs choices = ["…", "…"]'))
        if kind != "choice" and "choices" in raw:
            ft.error("choices", _('only a field of kind "choice" has choices'))
        if fname is None or _duplicate(
            ft, seen, fname, "name", _("form field '{name}'").format(name=fname)
        ):
            continue
        form.append(
            FormField(
                name=fname,
                label=ft.text("label", default=fname, max_len=200),
                kind=kind,
                required=ft.boolean("required", default=False),
                choices=choices,
            )
        )
    tasks: list[FulfilmentTaskConfig] = []
    for i, raw in t.tables("tasks") or []:
        tt = Table(t.chk, (*t.path, "tasks", i), raw, t.context)
        tt.check_keys(("name", "team", "minutes"))
        tname = tt.text("name", required=True, max_len=200)
        tteam = tt.text("team", required=True)
        minutes = tt.integer("minutes", lo=1, hi=10_000_000)
        if tname is not None and tteam is not None:
            tasks.append(FulfilmentTaskConfig(name=tname, team=tteam, minutes=minutes))
    approval_role = t.text("approval_role")
    if approval_role is not None and approval_role not in ROLES:
        t.error(
            "approval_role",
            _("role '{role}' is not one of: {roles}").format(
                role=approval_role, roles=", ".join(ROLES)
            ),
        )
    # Naming who approves is asking for approval; saying both "no approval" and a role is a slip.
    requires_approval = t.boolean("requires_approval", default=approval_role is not None)
    if approval_role is not None and not requires_approval:
        t.error("approval_role", _("an approval_role needs requires_approval = true"))
    if code is None or name is None:
        return None
    return CatalogueItemConfig(
        code=code,
        name=name,
        description=t.text("description", default=""),
        category=t.text("category", default="", max_len=80),
        team=t.text("team"),
        service=t.text("service"),
        requires_approval=requires_approval,
        approval_role=approval_role,
        fulfilment_minutes=t.integer("fulfilment_minutes", lo=1, hi=10_000_000, default=480),
        form=tuple(form),
        tasks=tuple(tasks),
        active=t.boolean("active", default=True),
        path=t.path,
    )


def _instant(t: Table, key: str) -> datetime | None:
    raw = t._get(key, True)
    if raw is _MISSING:
        return None
    value: datetime | None = None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            value = None
    if value is None:
        t.error(
            key,
            _("{key} must be a date-time with a UTC offset, e.g. 2026-12-24T18:00:00+08:00").format(
                key=key
            ),
        )
        return None
    if value.tzinfo is None:
        t.error(
            key,
            _("{key} {value} has no UTC offset; add one, e.g. {value}+08:00 or {value}Z").format(
                key=key, value=value.isoformat()
            ),
        )
        return None
    return value.astimezone(UTC)


def _parse_freeze(t: Table) -> FreezeWindowConfig | None:
    t.check_keys(("name", "starts_at", "ends_at", "reason", "services", "recurrence", "timezone"))
    name = t.text("name", required=True, max_len=120)
    starts, ends = windows.window_bounds(t, _instant)
    zone = t.timezone("timezone")
    rule = windows.recurrence(t, starts, zone)
    if name is None or starts is None or ends is None:
        return None
    if "recurrence" in t.raw and rule is None:
        return None
    return FreezeWindowConfig(
        name=name,
        starts_at=starts,
        ends_at=ends,
        reason=t.text("reason", default=""),
        services=t.strings("services"),
        recurrence=rule,
        timezone=zone,
        path=t.path,
    )


def _parse_budget(t: Table) -> BudgetConfig | None:
    t.check_keys(("category", "period", "period_start", "period_end", "amount", "currency"))
    category = t.text(
        "category",
        default="incident",
        max_len=40,
        pattern=_IDENTIFIER,
        hint=_("lower-case letters, digits and _"),
    )
    start: date | None = None
    end: date | None = None
    if "period" in t.raw:
        if "period_start" in t.raw or "period_end" in t.raw:
            t.error("period", _("give either period or period_start and period_end, not both"))
        text = t.text("period")
        bounds = _period(text) if text else None
        if text is not None and bounds is None:
            t.error(
                "period",
                _("period '{p}' is not a year, quarter or month: 2026, 2026-Q3, 2026-07").format(
                    p=text
                ),
            )
        if bounds:
            start, end = bounds
    elif "period_start" in t.raw or "period_end" in t.raw:
        start = _date(t, "period_start")
        end = _date(t, "period_end")
        if start and end and end < start:
            t.error("period_end", _("period_end is before period_start"))
            return None
    else:
        t.error(None, _("'period' is missing (e.g. period = \"2026\")"))
    amount = t.number(
        "amount",
        lo=Decimal(0),
        hi=_MONEY_MAX,
        low_open=True,
        places=2,
        required=True,
        allow_text=True,
    )
    currency = t.text(
        "currency", default="CNY", pattern=_CURRENCY, hint=_("three capital letters, e.g. CNY")
    )
    if category is None or start is None or end is None or amount is None or currency is None:
        return None
    return BudgetConfig(
        category=category,
        period_start=start,
        period_end=end,
        amount=amount,
        currency=currency,
        path=t.path,
    )


def _date(t: Table, key: str) -> date | None:
    raw = t._get(key, True)
    if raw is _MISSING:
        return None
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    t.error(key, _("{key} must be a date YYYY-MM-DD").format(key=key))
    return None
