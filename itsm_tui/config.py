"""The desk file: load and validate the TOML desk configuration, plan and apply it, read it back."""

from __future__ import annotations

import contextlib
import difflib
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    CONFIG_TABLES,
    Agent,
    AuditEvent,
    Base,
    Budget,
    BusinessCalendar,
    CatalogueItem,
    DeskSetting,
    EscalationRule,
    FreezeWindow,
    Service,
    SlaClock,
    SlaPolicy,
    Team,
)
from itsm_tui.desk.errors import DeskError, PermissionDenied
from itsm_tui.desk.sla import RESPONSE_TRIGGERS
from itsm_tui.domain.calendar import WEEKDAYS
from itsm_tui.domain.priority import parse_priority, validate_matrix
from itsm_tui.domain.roles import ROLES, can
from itsm_tui.domain.workflow import CHANGE_TYPES, TICKET_TYPES, open_statuses
from itsm_tui.i18n import _

# ---------------------------------------------------------------------------
# Vocabulary of the desk file

# Sections in the order they are documented, dumped and planned.
SECTIONS = (
    "desk",
    "priority_matrix",
    "kpi_targets",
    "sla",
    "calendars",
    "sla_policies",
    "escalation_rules",
    "teams",
    "agents",
    "services",
    "catalogue_items",
    "change_types",
    "risk_questionnaire",
    "freeze_windows",
    "budgets",
)
ESCALATION_ACTIONS = (
    "notify_assignee",
    "notify_team",
    "notify_supervisor",
    "notify_desk_manager",
    "reassign_escalation_team",
    "raise_priority",
    "page_on_call",
)
CLOCK_KINDS = ("response", "resolution")
FORM_FIELD_KINDS = ("text", "textarea", "number", "date", "choice", "checkbox")
RISK_LEVELS = ("low", "medium", "high", "very_high")
DEFAULT_WARN_AT_PERCENT = (50, 75)
DEFAULT_PAUSE_STATUSES = ("pending",)

# KPI target key → (kind, lowest, highest). Direction and meaning: docs/desk-config.md.
KPI_TARGET_KEYS: dict[str, tuple[str, Decimal, Decimal]] = {
    "availability_percent": ("number", Decimal("0.0001"), Decimal(100)),
    "incident_response_minutes": ("integer", Decimal(1), Decimal(100_000)),
    "incident_resolution_minutes": ("integer", Decimal(1), Decimal(1_000_000)),
    "request_handling_minutes": ("integer", Decimal(1), Decimal(1_000_000)),
    "change_success_percent": ("number", Decimal(0), Decimal(100)),
    "csat_min": ("number", Decimal(1), Decimal(5)),
    "complaints_reduction_percent": ("number", Decimal(0), Decimal(100)),
    "tickets_per_agent_per_day": ("number", Decimal("0.1"), Decimal(1000)),
    "incident_cost_budget_percent": ("number", Decimal(1), Decimal(1000)),
}

DESK_DEFAULTS: dict[str, Any] = {
    "name": "Service Desk",
    "timezone": "UTC",
    "default_calendar": None,
}

_NAME_MAX = 80
_TIME = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")
_MONEY_MAX = Decimal("999999999999.99")


class DeskFileError(DeskError):
    """The desk file is wrong; `errors` lists every problem, each naming file, line and key."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# ---------------------------------------------------------------------------
# The typed desk configuration. `path` locates an item in its file (empty when the
# item was read from the store); it takes no part in comparisons.


def _path() -> Any:
    return field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class DeskInfo:
    name: str = DESK_DEFAULTS["name"]
    timezone: str = DESK_DEFAULTS["timezone"]
    default_calendar: str | None = None
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class SlaSettings:
    """Desk-wide SLA rules: which agent actions count as the first response."""

    response_met_by: tuple[str, ...] = RESPONSE_TRIGGERS
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class CalendarConfig:
    name: str
    timezone: str = "UTC"
    always_open: bool = False
    # Weekday ("mon"…) → sorted, non-overlapping ("HH:MM", "HH:MM") intervals.
    hours: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    holidays: tuple[date, ...] = ()
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class SlaMatch:
    types: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()
    services: tuple[str, ...] = ()
    catalogue_items: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlaPolicyConfig:
    name: str
    calendar: str
    rank: int = 100
    response_minutes: int | None = None
    resolution_minutes: int | None = None
    match: SlaMatch = SlaMatch()
    warn_at_percent: tuple[int, ...] = DEFAULT_WARN_AT_PERCENT
    pause_statuses: tuple[str, ...] = DEFAULT_PAUSE_STATUSES
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class EscalationMatch:
    kinds: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class EscalationRuleConfig:
    name: str
    level: int
    actions: tuple[str, ...]
    at_percent: int = 100
    match: EscalationMatch = EscalationMatch()
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class TeamConfig:
    name: str
    tier: int = 1
    description: str = ""
    email: str | None = None
    escalation_team: str | None = None
    supervisor: str | None = None
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class AgentConfig:
    username: str
    name: str = ""
    email: str | None = None
    team: str | None = None
    roles: tuple[str, ...] = ("agent",)
    hourly_cost: Decimal = Decimal(0)
    timezone: str | None = None
    active: bool = True
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    description: str = ""
    criticality: int = 3
    availability_target: Decimal = Decimal("99.9")
    owner_team: str | None = None
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class CatalogueItemConfig:
    code: str
    name: str
    description: str = ""
    category: str = ""
    team: str | None = None
    service: str | None = None
    requires_approval: bool = False
    fulfilment_minutes: int = 480
    form: tuple[FormField, ...] = ()
    active: bool = True
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class ChangeTypeConfig:
    name: str
    description: str = ""
    cab_required: bool = False
    pre_approved: bool = False
    lead_time_hours: int = 0
    quorum: int = 0
    review_required: bool = False
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class RiskAnswer:
    value: str
    label: str
    weight: int


@dataclass(frozen=True)
class RiskQuestion:
    id: str
    text: str
    answers: tuple[RiskAnswer, ...]


@dataclass(frozen=True)
class RiskQuestionnaire:
    questions: tuple[RiskQuestion, ...]
    # Risk level → lowest score that reaches it ("low" is the floor, usually 0).
    thresholds: Mapping[str, int]
    path: tuple[Any, ...] = _path()

    def max_score(self) -> int:
        return sum(max(a.weight for a in q.answers) for q in self.questions)


@dataclass(frozen=True)
class FreezeWindowConfig:
    name: str
    starts_at: datetime
    ends_at: datetime
    reason: str = ""
    services: tuple[str, ...] = ()
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class BudgetConfig:
    category: str
    period_start: date
    period_end: date
    amount: Decimal
    currency: str = "CNY"
    path: tuple[Any, ...] = _path()

    @property
    def period(self) -> str:
        return _period_label(self.period_start, self.period_end)


@dataclass(frozen=True)
class KpiTargets:
    """The source document's KPI targets; a key absent from the file is None here."""

    availability_percent: Decimal | None = None
    incident_response_minutes: int | None = None
    incident_resolution_minutes: int | None = None
    request_handling_minutes: int | None = None
    change_success_percent: Decimal | None = None
    csat_min: Decimal | None = None
    complaints_reduction_percent: Decimal | None = None
    tickets_per_agent_per_day: Decimal | None = None
    incident_cost_budget_percent: Decimal | None = None
    path: tuple[Any, ...] = _path()

    def as_dict(self) -> dict[str, int | float]:
        """JSON numbers of the targets that are set (how the store keeps them)."""
        return _kpi_value(self)


Matrix = tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]


@dataclass(frozen=True)
class DeskConfig:
    """One attribute per section; None means the section is absent (and left alone)."""

    desk: DeskInfo | None = None
    priority_matrix: Matrix | None = None
    kpi_targets: KpiTargets | None = None
    sla: SlaSettings | None = None
    calendars: tuple[CalendarConfig, ...] | None = None
    sla_policies: tuple[SlaPolicyConfig, ...] | None = None
    escalation_rules: tuple[EscalationRuleConfig, ...] | None = None
    teams: tuple[TeamConfig, ...] | None = None
    agents: tuple[AgentConfig, ...] | None = None
    services: tuple[ServiceConfig, ...] | None = None
    catalogue_items: tuple[CatalogueItemConfig, ...] | None = None
    change_types: tuple[ChangeTypeConfig, ...] | None = None
    risk_questionnaire: RiskQuestionnaire | None = None
    freeze_windows: tuple[FreezeWindowConfig, ...] | None = None
    budgets: tuple[BudgetConfig, ...] | None = None
    filename: str = field(default="", compare=False)
    locator: _Locator | None = field(default=None, compare=False, repr=False)

    def present(self) -> tuple[str, ...]:
        return tuple(s for s in SECTIONS if getattr(self, s) is not None)


# ---------------------------------------------------------------------------
# Where a key is: tomllib gives values without positions, so this walks the text once
# and notes the line of every table header, key, and array element.


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}\n#]*")


class _Locator:
    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        self._s = text
        self._i = 0
        self._line = 1
        self._arrays: dict[tuple[Any, ...], int] = {}
        # Positions are a courtesy: a construct this scanner misreads only costs line
        # precision (callers fall back to the nearest known key), never the error itself.
        with contextlib.suppress(IndexError, ValueError):
            self._document()

    def line(self, path: Sequence[Any]) -> int:
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return 1

    def _note(self, path: tuple[Any, ...]) -> None:
        # Prefixes too: [change_types.normal] is also where the change_types table starts.
        for n in range(1, len(path) + 1):
            self.lines.setdefault(path[:n], self._line)

    def _advance(self, n: int) -> None:
        self._line += self._s.count("\n", self._i, self._i + n)
        self._i += n

    def _at(self, token: str) -> bool:
        return self._s.startswith(token, self._i)

    def _skip(self, *, newlines: bool) -> None:
        s = self._s
        while self._i < len(s):
            c = s[self._i]
            if c in " \t\r" or (newlines and c == "\n"):
                self._advance(1)
            elif c == "#":
                end = s.find("\n", self._i)
                self._advance((len(s) if end < 0 else end) - self._i)
            else:
                return

    def _document(self) -> None:
        current: tuple[Any, ...] = ()
        while True:
            self._skip(newlines=True)
            if self._i >= len(self._s):
                return
            if self._at("[["):
                self._advance(2)
                keys = self._key()
                self._skip(newlines=False)
                self._advance(2)
                parent = self._resolve(keys[:-1])
                array = (*parent, keys[-1])
                self._note(array)
                self._arrays[array] = self._arrays.get(array, -1) + 1
                current = (*array, self._arrays[array])
                self._note(current)
            elif self._at("["):
                self._advance(1)
                keys = self._key()
                self._skip(newlines=False)
                self._advance(1)
                current = self._resolve(keys)
                self._note(current)
            else:
                keys = self._key()
                for n in range(1, len(keys) + 1):
                    self._note((*current, *keys[:n]))
                self._skip(newlines=False)
                self._advance(1)  # "="
                self._skip(newlines=False)
                self._value((*current, *keys))

    def _resolve(self, keys: Sequence[str]) -> tuple[Any, ...]:
        resolved: tuple[Any, ...] = ()
        for key in keys:
            resolved = (*resolved, key)
            if resolved in self._arrays:
                resolved = (*resolved, self._arrays[resolved])
        return resolved

    def _key(self) -> list[str]:
        keys: list[str] = []
        while True:
            self._skip(newlines=False)
            if self._at('"') or self._at("'"):
                start = self._i
                self._string()
                keys.append(str(tomllib.loads("k = " + self._s[start : self._i])["k"]))
            else:
                match = _BARE_KEY.match(self._s, self._i)
                if not match:
                    raise ValueError("not a key")
                keys.append(match.group())
                self._advance(match.end() - self._i)
            self._skip(newlines=False)
            if self._at("."):
                self._advance(1)
                continue
            return keys

    def _string(self) -> None:
        s = self._s
        for quote in ('"""', "'''"):
            if self._at(quote):
                j = self._i + 3
                while True:
                    if quote == '"""' and s[j] == "\\":
                        j += 2
                    elif s.startswith(quote, j):
                        j += 3
                        while j < len(s) and s[j] == quote[0]:
                            j += 1
                        break
                    else:
                        j += 1
                self._advance(j - self._i)
                return
        quote = s[self._i]
        j = self._i + 1
        while s[j] != quote:
            j += 2 if quote == '"' and s[j] == "\\" else 1
        self._advance(j + 1 - self._i)

    def _value(self, path: tuple[Any, ...]) -> None:
        if self._at("["):
            self._advance(1)
            index = 0
            while True:
                self._skip(newlines=True)
                if self._at("]"):
                    self._advance(1)
                    return
                self._note((*path, index))
                self._value((*path, index))
                index += 1
                self._skip(newlines=True)
                if self._at(","):
                    self._advance(1)
        elif self._at("{"):
            self._advance(1)
            while True:
                self._skip(newlines=False)
                if self._at("}"):
                    self._advance(1)
                    return
                keys = self._key()
                self._note((*path, *keys))
                self._advance(1)  # "="
                self._skip(newlines=False)
                self._value((*path, *keys))
                self._skip(newlines=False)
                if self._at(","):
                    self._advance(1)
        elif self._at('"') or self._at("'"):
            self._string()
        else:
            match = _SCALAR.match(self._s, self._i)
            assert match is not None
            self._advance(match.end() - self._i)


# ---------------------------------------------------------------------------
# Validation: every problem is collected, then all are raised together.


_MISSING: Any = object()


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return _("true/false")
    if isinstance(value, int):
        return _("an integer")
    if isinstance(value, Decimal):
        return _("a number")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, datetime):
        return _("a date-time")
    if isinstance(value, date):
        return _("a date")
    if isinstance(value, list):
        return _("an array")
    if isinstance(value, dict):
        return _("a table")
    return type(value).__name__


def _where(filename: str, line: int) -> str:
    return f"{filename}:{line}" if line else filename


class _Checker:
    def __init__(self, filename: str, locator: _Locator | None) -> None:
        self.filename = filename
        self.locator = locator
        self.errors: list[str] = []
        # Items whose own values had errors: checks across items skip them, so a bad value
        # replaced by its default does not cause a second, misleading error.
        self.tainted: set[int] = set()

    def report(self, path: Sequence[Any], context: str, message: str) -> None:
        if path and self.locator is not None:
            where = _where(self.filename, self.locator.line(path))
        else:
            # Not in this file: the item comes from the store (a section the file leaves alone).
            where = self.filename
            context = _("{context} (in the desk, not in this file)").format(context=context)
        self.errors.append(f"{where}: {context}: {message}" if context else f"{where}: {message}")


class _Table:
    """One TOML table being read: typed getters that report instead of raising."""

    def __init__(self, chk: _Checker, path: tuple[Any, ...], raw: dict[str, Any], context: str):
        self.chk = chk
        self.path = path
        self.raw = raw
        self.context = context

    def error(self, key: str | tuple[Any, ...] | None, message: str) -> None:
        sub = () if key is None else (key,) if isinstance(key, str) else key
        self.chk.report((*self.path, *sub), self.context, message)

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        for key in self.raw:
            if key in allowed:
                continue
            message = _("unknown key '{key}'").format(key=key)
            hint = difflib.get_close_matches(key, allowed, n=1)
            if hint:
                message += _(" (did you mean '{hint}'?)").format(hint=hint[0])
            self.error(key, message)

    def _get(self, key: str, required: bool) -> Any:
        if key in self.raw:
            return self.raw[key]
        if required:
            self.error(None, _("'{key}' is missing").format(key=key))
        return _MISSING

    def text(
        self,
        key: str,
        *,
        required: bool = False,
        default: Any = None,
        max_len: int | None = None,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> Any:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.error(
                key, _("{key} must be text, not {kind}").format(key=key, kind=_type_name(value))
            )
            return default
        if required and not value.strip():
            self.error(key, _("{key} must not be empty").format(key=key))
            return default
        if max_len is not None and len(value) > max_len:
            self.error(key, _("{key} is longer than {n} characters").format(key=key, n=max_len))
            return default
        if pattern is not None and not pattern.match(value):
            self.error(
                key,
                _("{key} {value!r} is not valid: {hint}").format(key=key, value=value, hint=hint),
            )
            return default
        return value

    def integer(
        self, key: str, *, lo: int, hi: int, required: bool = False, default: Any = None
    ) -> Any:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.error(
                key,
                _("{key} must be a whole number, not {kind}").format(
                    key=key, kind=_type_name(value)
                ),
            )
            return default
        if isinstance(value, Decimal):
            if not value.is_finite() or value != value.to_integral_value():
                self.error(
                    key, _("{key} must be a whole number, not {value}").format(key=key, value=value)
                )
                return default
            value = int(value)
        if not lo <= value <= hi:
            self.error(
                key,
                _("{key} must be between {lo} and {hi}, not {value}").format(
                    key=key, lo=lo, hi=hi, value=value
                ),
            )
            return default
        return value

    def number(
        self,
        key: str,
        *,
        lo: Decimal,
        hi: Decimal,
        low_open: bool = False,
        places: int | None = None,
        required: bool = False,
        default: Any = None,
        allow_text: bool = False,
    ) -> Any:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        number: Decimal | None = None
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int) and not isinstance(value, bool):
            number = Decimal(value)
        elif isinstance(value, str) and allow_text:
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                number = None
        if number is None or not number.is_finite():
            self.error(key, _("{key} must be a number, not {value!r}").format(key=key, value=value))
            return default
        if number < lo or number > hi or (low_open and number == lo):
            bound = _("above {lo}") if low_open else _("at least {lo}")
            self.error(
                key,
                _("{key} must be {bound} and at most {hi}, not {value}").format(
                    key=key, bound=bound.format(lo=lo), hi=hi, value=number
                ),
            )
            return default
        if places is not None and number != number.quantize(Decimal(1).scaleb(-places)):
            self.error(
                key,
                _("{key} has more than {n} decimal places: {value}").format(
                    key=key, n=places, value=number
                ),
            )
            return default
        return number

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._get(key, False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.error(
                key,
                _("{key} must be true or false, not {kind}").format(
                    key=key, kind=_type_name(value)
                ),
            )
            return default
        return value

    def strings(
        self, key: str, *, choices: Sequence[str] | None = None, default: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        value = self._get(key, False)
        if value is _MISSING:
            return default
        if not isinstance(value, list):
            self.error(
                key, _("{key} must be an array, not {kind}").format(key=key, kind=_type_name(value))
            )
            return default
        out: list[str] = []
        for i, element in enumerate(value):
            if not isinstance(element, str):
                self.error(
                    (key, i),
                    _("{key} must hold text, not {kind}").format(key=key, kind=_type_name(element)),
                )
            elif choices is not None and element not in choices:
                self.error(
                    (key, i),
                    _("{key}: '{value}' is not one of: {choices}").format(
                        key=key, value=element, choices=", ".join(choices)
                    ),
                )
            elif element in out:
                self.error(
                    (key, i), _("{key}: '{value}' is listed twice").format(key=key, value=element)
                )
            else:
                out.append(element)
        return tuple(out)

    def priorities(self, key: str) -> tuple[int, ...]:
        value = self._get(key, False)
        if value is _MISSING:
            return ()
        if not isinstance(value, list):
            self.error(
                key, _("{key} must be an array, not {kind}").format(key=key, kind=_type_name(value))
            )
            return ()
        out: list[int] = []
        for i, element in enumerate(value):
            number = _priority(element)
            if number is None:
                self.error(
                    (key, i),
                    _("{key}: {value!r} is not a priority P1–P4").format(key=key, value=element),
                )
            elif number in out:
                self.error(
                    (key, i), _("{key}: P{value} is listed twice").format(key=key, value=number)
                )
            else:
                out.append(number)
        return tuple(sorted(out))

    def timezone(self, key: str, *, required: bool = False, default: Any = None) -> Any:
        value = self.text(key, required=required, default=_MISSING)
        if value is _MISSING or value is None:
            return default
        if not _valid_zone(value):
            self.error(
                key,
                _("{key} '{value}' is not an IANA time zone (e.g. Asia/Shanghai, UTC)").format(
                    key=key, value=value
                ),
            )
            return default
        return value

    def table(
        self, key: str, context: str | None = None, *, required: bool = False
    ) -> _Table | None:
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.error(
                key, _("{key} must be a table, not {kind}").format(key=key, kind=_type_name(value))
            )
            return None
        return _Table(self.chk, (*self.path, key), value, context or self.context)

    def tables(
        self, key: str, *, required: bool = False
    ) -> list[tuple[int, dict[str, Any]]] | None:
        """An array of tables: [(index, table)], or None when absent or not an array."""
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            self.error(
                key,
                _("{key} must be an array of tables (write [[{key}]]), not {kind}").format(
                    key=key, kind=_type_name(value)
                ),
            )
            return None
        out = []
        for i, element in enumerate(value):
            if isinstance(element, dict):
                out.append((i, element))
            else:
                self.error(
                    (key, i),
                    _("{key} must hold tables, not {kind}").format(
                        key=key, kind=_type_name(element)
                    ),
                )
        return out


def _priority(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return parse_priority(value)
    except ValueError:
        return None


@lru_cache(maxsize=512)
def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _minutes(hhmm: str) -> int:
    match = _TIME.match(hhmm)
    assert match is not None
    hours = match.group(1) or match.group(3)
    mins = match.group(2) or match.group(4)
    return int(hours) * 60 + int(mins)


def _period_label(start: date, end: date) -> str:
    if start.month == 1 and start.day == 1 and end == date(start.year, 12, 31):
        return f"{start.year}"
    if start.day == 1 and start.month in (1, 4, 7, 10) and end == _month_end(start, 3):
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if start.day == 1 and end == _month_end(start, 1):
        return f"{start.year}-{start.month:02d}"
    return f"{start.isoformat()}..{end.isoformat()}"


def _month_end(start: date, months: int) -> date:
    month = start.month - 1 + months
    first_after = date(start.year + month // 12, month % 12 + 1, 1)
    return first_after - timedelta(days=1)


def _period(text: str) -> tuple[date, date] | None:
    match = _PERIOD.match(text)
    if not match:
        return None
    year = int(match.group(1))
    if match.group(2):
        start = date(year, int(match.group(2)), 1)
        return start, _month_end(start, 1)
    if match.group(3):
        start = date(year, (int(match.group(3)) - 1) * 3 + 1, 1)
        return start, _month_end(start, 3)
    return date(year, 1, 1), date(year, 12, 31)


def _label(kind: str, name: object, index: int) -> str:
    if isinstance(name, str) and name:
        return f"{kind} '{name}'"
    return f"{kind} #{index + 1}"


def _duplicate(t: _Table, seen: dict[Any, int], key: Any, field_name: str, label: str) -> bool:
    """Report `label` when `key` was seen before in this scope; remember it otherwise."""
    if key in seen:
        t.error(
            field_name,
            _("{label} is defined twice (first on line {line})").format(
                label=label, line=seen[key]
            ),
        )
        return True
    seen[key] = t.chk.locator.line(t.path) if t.chk.locator else 0
    return False


# ---- sections ---------------------------------------------------------------


def _parse_desk(t: _Table) -> DeskInfo:
    t.check_keys(("name", "timezone", "default_calendar"))
    return DeskInfo(
        name=t.text("name", default=DESK_DEFAULTS["name"], max_len=200),
        timezone=t.timezone("timezone", default=DESK_DEFAULTS["timezone"]),
        default_calendar=t.text("default_calendar"),
        path=t.path,
    )


def _parse_sla_settings(t: _Table) -> SlaSettings:
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


def _parse_matrix(t: _Table) -> Matrix | None:
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


def _parse_kpi(t: _Table) -> KpiTargets:
    t.check_keys(KPI_TARGET_KEYS)
    values: dict[str, Any] = {}
    for key, (kind, lo, hi) in KPI_TARGET_KEYS.items():
        if kind == "integer":
            values[key] = t.integer(key, lo=int(lo), hi=int(hi))
        else:
            values[key] = t.number(key, lo=lo, hi=hi, places=4)
    return KpiTargets(**values, path=t.path)


def _parse_calendar(t: _Table) -> CalendarConfig | None:
    t.check_keys(("name", "timezone", "always_open", "hours", "holidays"))
    name = t.text("name", required=True, max_len=_NAME_MAX)
    always_open = t.boolean("always_open", default=False)
    zone = t.timezone("timezone", required=not always_open, default="UTC")
    hours: dict[str, tuple[tuple[str, str], ...]] = {}
    table = t.table("hours")
    if table is not None:
        if always_open:
            t.error("hours", _("an always_open calendar has no working hours; remove hours"))
        table.check_keys(WEEKDAYS)
        for day in WEEKDAYS:
            intervals = _parse_intervals(table, day)
            if intervals:
                hours[day] = intervals
    elif not always_open and "hours" not in t.raw:
        t.error(None, _("no working hours: add a [calendars.hours] table or always_open = true"))
    holidays = _parse_holidays(t)
    if always_open and holidays:
        t.error("holidays", _("an always_open calendar has no holidays; remove holidays"))
    if name is None:
        return None
    return CalendarConfig(
        name=name,
        timezone=zone,
        always_open=always_open,
        hours=hours,
        holidays=holidays,
        path=t.path,
    )


def _parse_intervals(t: _Table, day: str) -> tuple[tuple[str, str], ...]:
    raw = t.raw.get(day, _MISSING)
    if raw is _MISSING:
        return ()
    if not isinstance(raw, list):
        t.error(day, _('{day} must be an array of "HH:MM-HH:MM" intervals').format(day=day))
        return ()
    parsed: list[tuple[str, str, int]] = []
    for i, element in enumerate(raw):
        if isinstance(element, str) and element.count("-") == 1:
            start, end = (part.strip() for part in element.split("-"))
        elif (
            isinstance(element, list)
            and len(element) == 2
            and all(isinstance(x, str) for x in element)
        ):
            start, end = element
        else:
            t.error(
                (day, i),
                _('{day}: {value!r} is not an interval "HH:MM-HH:MM"').format(
                    day=day, value=element
                ),
            )
            continue
        bad = [x for x in (start, end) if not _TIME.match(x)]
        if bad or start == "24:00":
            t.error(
                (day, i),
                _("{day}: '{value}' is not a time HH:MM (00:00–23:59, or 24:00 as an end)").format(
                    day=day, value=bad[0] if bad else start
                ),
            )
            continue
        if _minutes(start) >= _minutes(end):
            t.error(
                (day, i),
                _("{day}: interval {start}-{end} must start before it ends").format(
                    day=day, start=start, end=end
                ),
            )
            continue
        parsed.append((start, end, i))
    parsed.sort(key=lambda p: _minutes(p[0]))
    for before, after in pairwise(parsed):
        if _minutes(after[0]) < _minutes(before[1]):
            t.error(
                (day, after[2]),
                _("{day}: intervals {a}-{b} and {c}-{d} overlap").format(
                    day=day, a=before[0], b=before[1], c=after[0], d=after[1]
                ),
            )
    return tuple((start, end) for start, end, _i in parsed)


def _parse_holidays(t: _Table) -> tuple[date, ...]:
    raw = t.raw.get("holidays", _MISSING)
    if raw is _MISSING:
        return ()
    if not isinstance(raw, list):
        t.error("holidays", _("holidays must be an array of dates, e.g. [2026-10-01]"))
        return ()
    days: list[date] = []
    for i, element in enumerate(raw):
        day: date | None = None
        if isinstance(element, date) and not isinstance(element, datetime):
            day = element
        elif isinstance(element, str):
            try:
                day = date.fromisoformat(element)
            except ValueError:
                day = None
        if day is None:
            t.error(
                ("holidays", i),
                _("holidays: {value!r} is not a date YYYY-MM-DD").format(value=element),
            )
        elif day in days:
            t.error(
                ("holidays", i), _("holidays: {day} is listed twice").format(day=day.isoformat())
            )
        else:
            days.append(day)
    return tuple(sorted(days))


def _parse_sla(t: _Table) -> SlaPolicyConfig | None:
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


def _parse_percents(t: _Table) -> tuple[int, ...]:
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


def _parse_escalation(t: _Table) -> EscalationRuleConfig | None:
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


def _email(t: _Table, key: str = "email") -> str | None:
    value = t.text(key, max_len=200)
    if value is not None and not re.match(r"^[^@\s]+@[^@\s]+$", value):
        t.error(key, _("{key} '{value}' is not an e-mail address").format(key=key, value=value))
        return None
    return value


def _parse_team(t: _Table) -> TeamConfig | None:
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


def _parse_agent(t: _Table) -> AgentConfig | None:
    t.check_keys(
        ("username", "name", "email", "team", "roles", "hourly_cost", "timezone", "active")
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
        path=t.path,
    )


def _parse_service(t: _Table) -> ServiceConfig | None:
    t.check_keys(("name", "description", "criticality", "availability_target", "owner_team"))
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
        path=t.path,
    )


def _parse_catalogue(t: _Table) -> CatalogueItemConfig | None:
    t.check_keys(
        (
            "code",
            "name",
            "description",
            "category",
            "team",
            "service",
            "requires_approval",
            "fulfilment_minutes",
            "form",
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
        ft = _Table(t.chk, (*t.path, "form", i), raw, t.context)
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
    if code is None or name is None:
        return None
    return CatalogueItemConfig(
        code=code,
        name=name,
        description=t.text("description", default=""),
        category=t.text("category", default="", max_len=80),
        team=t.text("team"),
        service=t.text("service"),
        requires_approval=t.boolean("requires_approval", default=False),
        fulfilment_minutes=t.integer("fulfilment_minutes", lo=1, hi=10_000_000, default=480),
        form=tuple(form),
        active=t.boolean("active", default=True),
        path=t.path,
    )


def _parse_change_types(t: _Table) -> tuple[ChangeTypeConfig, ...]:
    t.check_keys(CHANGE_TYPES)
    out: list[ChangeTypeConfig] = []
    for name in CHANGE_TYPES:
        ct = t.table(name, _("change type '{name}'").format(name=name))
        if ct is None:
            if name not in t.raw:
                t.error(
                    None,
                    _("change type '{name}' is missing: [change_types.{name}]").format(name=name),
                )
            continue
        ct.check_keys(
            (
                "description",
                "cab_required",
                "pre_approved",
                "lead_time_hours",
                "quorum",
                "review_required",
            )
        )
        cab = ct.boolean("cab_required", default=False)
        pre = ct.boolean("pre_approved", default=False)
        quorum = ct.integer("quorum", lo=0, hi=50, default=1 if cab else 0)
        if cab and pre:
            ct.error("pre_approved", _("a pre-approved change type cannot also need the CAB"))
        if cab and quorum == 0:
            ct.error("quorum", _("quorum must be at least 1 when cab_required = true"))
        if not cab and quorum:
            ct.error("quorum", _("quorum is only meaningful when cab_required = true"))
        out.append(
            ChangeTypeConfig(
                name=name,
                description=ct.text("description", default=""),
                cab_required=cab,
                pre_approved=pre,
                lead_time_hours=ct.integer("lead_time_hours", lo=0, hi=8760, default=0),
                quorum=quorum,
                review_required=ct.boolean("review_required", default=False),
                path=ct.path,
            )
        )
    return tuple(out)


def _parse_risk(t: _Table) -> RiskQuestionnaire | None:
    t.check_keys(("questions", "thresholds"))
    questions: list[RiskQuestion] = []
    seen: dict[Any, int] = {}
    raw_questions = t.tables("questions", required=True)
    if raw_questions is not None and not raw_questions:
        t.error("questions", _("the questionnaire needs at least one question"))
    for i, raw in raw_questions or []:
        qt = _Table(
            t.chk, (*t.path, "questions", i), raw, _label(_("risk question"), raw.get("id"), i)
        )
        qt.check_keys(("id", "text", "answers"))
        qid = qt.text(
            "id", required=True, pattern=_IDENTIFIER, hint=_("lower-case letters, digits and _")
        )
        text = qt.text("text", required=True)
        answers: list[RiskAnswer] = []
        answer_seen: dict[Any, int] = {}
        raw_answers = qt.tables("answers", required=True) or []
        if "answers" in raw and len(raw_answers) < 2:
            qt.error("answers", _("a question needs at least two answers"))
        for j, raw_answer in raw_answers:
            at = _Table(t.chk, (*qt.path, "answers", j), raw_answer, qt.context)
            at.check_keys(("value", "label", "weight"))
            value = at.text(
                "value",
                required=True,
                pattern=_IDENTIFIER,
                hint=_("lower-case letters, digits and _"),
            )
            weight = at.integer("weight", lo=0, hi=1000, required=True)
            label = at.text("label", default=value)
            if value is None or weight is None:
                continue
            if _duplicate(at, answer_seen, value, "value", _("answer '{v}'").format(v=value)):
                continue
            answers.append(RiskAnswer(value=value, label=label, weight=weight))
        if (
            qid is None
            or text is None
            or _duplicate(qt, seen, qid, "id", _("question '{id}'").format(id=qid))
        ):
            continue
        if len(answers) >= 2:
            questions.append(RiskQuestion(id=qid, text=text, answers=tuple(answers)))
    thresholds: dict[str, int] = {}
    tt = t.table("thresholds", required=True)
    if tt is not None:
        tt.check_keys(RISK_LEVELS)
        for level in RISK_LEVELS:
            value = tt.integer(level, lo=0, hi=100_000, required=level != "very_high")
            if value is not None:
                thresholds[level] = value
        values = list(thresholds.values())
        if values != sorted(set(values)):
            tt.error(
                None,
                _("thresholds must increase from low to {top}").format(top=list(thresholds)[-1]),
            )
        elif questions and thresholds:
            top = list(thresholds)[-1]
            best = RiskQuestionnaire(questions=tuple(questions), thresholds=thresholds).max_score()
            if thresholds[top] > best:
                tt.error(
                    top,
                    _(
                        "threshold {level} = {value} is above the highest possible score {max}"
                    ).format(level=top, value=thresholds[top], max=best),
                )
    if not questions or not {"low", "medium", "high"} <= thresholds.keys():
        return None
    return RiskQuestionnaire(questions=tuple(questions), thresholds=thresholds, path=t.path)


def _instant(t: _Table, key: str) -> datetime | None:
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


def _parse_freeze(t: _Table) -> FreezeWindowConfig | None:
    t.check_keys(("name", "starts_at", "ends_at", "reason", "services"))
    name = t.text("name", required=True, max_len=120)
    starts = _instant(t, "starts_at")
    ends = _instant(t, "ends_at")
    if starts is not None and ends is not None and ends <= starts:
        t.error("ends_at", _("ends_at must be after starts_at"))
        return None
    if name is None or starts is None or ends is None:
        return None
    return FreezeWindowConfig(
        name=name,
        starts_at=starts,
        ends_at=ends,
        reason=t.text("reason", default=""),
        services=t.strings("services"),
        path=t.path,
    )


def _parse_budget(t: _Table) -> BudgetConfig | None:
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


def _date(t: _Table, key: str) -> date | None:
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


# (section, singular label for messages, parser, identity field) of each array-of-tables section.
_ITEM_SECTIONS: dict[str, tuple[str, Callable[[_Table], Any], str]] = {
    "calendars": ("calendar", _parse_calendar, "name"),
    "sla_policies": ("sla", _parse_sla, "name"),
    "escalation_rules": ("escalation rule", _parse_escalation, "name"),
    "teams": ("team", _parse_team, "name"),
    "agents": ("agent", _parse_agent, "username"),
    "services": ("service", _parse_service, "name"),
    "catalogue_items": ("catalogue item", _parse_catalogue, "code"),
    "freeze_windows": ("freeze window", _parse_freeze, "name"),
    "budgets": ("budget", _parse_budget, "category"),
}


def _identity(section: str, item: Any) -> Any:
    if section == "escalation_rules":
        return (item.name, item.level)
    if section == "budgets":
        return (item.category, item.period_start)
    return getattr(item, _ITEM_SECTIONS[section][2])


def _item_label(section: str, item: Any) -> str:
    """How messages, plans and audit events name an item: "sla 'P1 incident'"."""
    kind = _ITEM_SECTIONS[section][0]
    if section == "escalation_rules":
        return _("{kind} '{name}' level {level}").format(
            kind=kind, name=item.name, level=item.level
        )
    if section == "budgets":
        return f"{kind} '{item.category} {item.period}'"
    return f"{kind} '{_identity(section, item)}'"


def _parse_document(doc: dict[str, Any], chk: _Checker) -> DeskConfig:
    root = _Table(chk, (), doc, "")
    root.check_keys(SECTIONS)
    sections: dict[str, Any] = {}
    for name, parse in (
        ("desk", _parse_desk),
        ("priority_matrix", _parse_matrix),
        ("kpi_targets", _parse_kpi),
        ("sla", _parse_sla_settings),
        ("change_types", _parse_change_types),
        ("risk_questionnaire", _parse_risk),
    ):
        table = root.table(name, name.replace("_", " ") if name == "change_types" else name)
        if table is not None:
            sections[name] = parse(table)
    for name, (kind, parse, key) in _ITEM_SECTIONS.items():
        raw_items = root.tables(name)
        if raw_items is None:
            continue
        items = []
        seen: dict[Any, int] = {}
        for i, raw in raw_items:
            context = _label(kind, raw.get(key), i)
            t = _Table(chk, (name, i), raw, context)
            before = len(chk.errors)
            item = parse(t)
            if item is None:
                continue
            if len(chk.errors) > before:
                chk.tainted.add(id(item))
            identity = _identity(name, item)
            where = "period" if name == "budgets" else key
            if _duplicate(
                t,
                seen,
                identity,
                where,
                _("{kind} '{name}'").format(kind=kind, name=_display_name(name, item)),
            ):
                continue
            items.append(item)
        sections[name] = tuple(items)
    return DeskConfig(**sections)


def _check_references(config: DeskConfig, chk: _Checker) -> None:
    """Names one section uses for another's items; a section absent from `config` is not checked."""

    def names(section: str) -> set[Any] | None:
        items = getattr(config, section)
        return None if items is None else {_identity(section, i) for i in items}

    calendars, teams, agents = names("calendars"), names("teams"), names("agents")
    services, catalogue = names("services"), names("catalogue_items")

    def check(
        item: Any,
        context: str,
        key: str | tuple[Any, ...],
        value: Any,
        known: set[Any] | None,
        what: str,
    ) -> None:
        if value is None or known is None or value in known:
            return
        where = (key,) if isinstance(key, str) else key
        shown = next(k for k in reversed(where) if isinstance(k, str))
        chk.report(
            (*item.path, *where) if item.path else (),
            context,
            _("{key} '{value}' is not defined (no such {what})").format(
                key=shown, value=value, what=what
            ),
        )

    def check_all(
        item: Any,
        context: str,
        key: str | tuple[Any, ...],
        values: Iterable[Any],
        known: set[Any] | None,
        what: str,
    ) -> None:
        where = (key,) if isinstance(key, str) else key
        for i, value in enumerate(values):
            check(item, context, (*where, i), value, known, what)

    if config.desk is not None:
        check(
            config.desk,
            "desk",
            "default_calendar",
            config.desk.default_calendar,
            calendars,
            _("calendar"),
        )
    for p in config.sla_policies or ():
        ctx = _item_label("sla_policies", p)
        check(p, ctx, "calendar", p.calendar, calendars, _("calendar"))
        check_all(p, ctx, ("match", "services"), p.match.services, services, _("service"))
        check_all(
            p,
            ctx,
            ("match", "catalogue_items"),
            p.match.catalogue_items,
            catalogue,
            _("catalogue item"),
        )
    tiers = {t.name: t.tier for t in config.teams or () if id(t) not in chk.tainted}
    for t in config.teams or ():
        ctx = _item_label("teams", t)
        check(t, ctx, "escalation_team", t.escalation_team, teams, _("team"))
        check(t, ctx, "supervisor", t.supervisor, agents, _("agent"))
        target_tier = tiers.get(t.escalation_team or "")
        if target_tier is not None and t.name in tiers and target_tier <= t.tier:
            chk.report(
                (*t.path, "escalation_team") if t.path else (),
                ctx,
                _(
                    "escalation_team '{team}' is tier {their}; it must be a higher tier than {ours}"
                ).format(team=t.escalation_team, their=target_tier, ours=t.tier),
            )
    for a in config.agents or ():
        check(a, _item_label("agents", a), "team", a.team, teams, _("team"))
    for s in config.services or ():
        check(s, _item_label("services", s), "owner_team", s.owner_team, teams, _("team"))
    for c in config.catalogue_items or ():
        ctx = _item_label("catalogue_items", c)
        check(c, ctx, "team", c.team, teams, _("team"))
        check(c, ctx, "service", c.service, services, _("service"))
    for f in config.freeze_windows or ():
        check_all(
            f, _item_label("freeze_windows", f), "services", f.services, services, _("service")
        )
    _check_budget_overlaps(config, chk)


def _check_budget_overlaps(config: DeskConfig, chk: _Checker) -> None:
    by_category: dict[str, list[BudgetConfig]] = {}
    for b in config.budgets or ():
        by_category.setdefault(b.category, []).append(b)
    for budgets in by_category.values():
        budgets.sort(key=lambda b: b.period_start)
        for before, after in pairwise(budgets):
            if (
                after.period_start <= before.period_end
                and after.period_start != before.period_start
            ):
                chk.report(
                    (*after.path, "period") if after.path else (),
                    _item_label("budgets", after),
                    _("period overlaps budget '{other}'").format(
                        other=f"{before.category} {before.period}"
                    ),
                )


# ---------------------------------------------------------------------------
# Loading


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)|\s*\(at end of document\)")


def load_desk_text(text: str, filename: str = "desk.toml") -> DeskConfig:
    """Parse and validate a whole desk file; raise DeskFileError listing every problem."""
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        if found and found.group(1):
            line = int(found.group(1))
        else:
            line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        reason = _TOML_POSITION.sub("", message)
        column = f" (column {found.group(2)})" if found and found.group(2) else ""
        raise DeskFileError(
            [
                _("{where}: not valid TOML: {reason}{column}").format(
                    where=_where(filename, line), reason=reason, column=column
                )
            ]
        ) from None
    locator = _Locator(text)
    chk = _Checker(filename, locator)
    config = _parse_document(doc, chk)
    _check_references(config, chk)
    if chk.errors:
        raise DeskFileError(sorted(chk.errors, key=_error_line))
    return _with_source(config, filename, locator)


def _error_line(error: str) -> int:
    # Reading top to bottom is how people fix a file: order by line, keep order within one.
    match = re.match(r"^.*?:(\d+): ", error)
    return int(match.group(1)) if match else 0


def _with_source(config: DeskConfig, filename: str, locator: _Locator | None) -> DeskConfig:
    values = {s: getattr(config, s) for s in SECTIONS}
    return DeskConfig(**values, filename=filename, locator=locator)


def load_desk_file(path: str | Path) -> DeskConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeskFileError(
            [
                _("{file}: cannot read the desk file: {reason}").format(
                    file=path, reason=exc.strerror or exc
                )
            ]
        ) from None
    except UnicodeDecodeError:
        raise DeskFileError(
            [_("{file}: the desk file is not UTF-8 text").format(file=path)]
        ) from None
    return load_desk_text(text, path.name)


def default_desk_text() -> str:
    return resources.files("itsm_tui").joinpath("default_desk.toml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_default_desk() -> DeskConfig:
    """The desk file shipped with the package (`itsm init` applies it to a new desk)."""
    return load_desk_text(default_desk_text(), "default_desk.toml")


# ---------------------------------------------------------------------------
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
    }


def _calendar_from_row(r: BusinessCalendar) -> CalendarConfig:
    hours = r.hours or {}
    return CalendarConfig(
        name=r.name,
        timezone=r.timezone,
        always_open=bool(r.always_open),
        hours={d: tuple((str(s), str(e)) for s, e in hours[d]) for d in WEEKDAYS if hours.get(d)},
        holidays=tuple(sorted(date.fromisoformat(h) for h in r.holidays or ())),
    )


def _calendar_assign(session: Session, r: BusinessCalendar, v: Mapping[str, Any]) -> None:
    for key in ("timezone", "always_open", "hours", "holidays"):
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
    return {
        "name": a.name,
        "email": a.email,
        "team": a.team,
        "roles": list(a.roles),
        "hourly_cost": _dec(a.hourly_cost),
        "timezone": a.timezone,
        "active": a.active,
    }


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
    )


def _agent_assign(session: Session, r: Agent, v: Mapping[str, Any]) -> None:
    _set(r, v, "name", "display_name")
    _set(r, v, "roles", convert=" ".join)
    _set(r, v, "hourly_cost", convert=Decimal)
    for key in ("email", "timezone", "active"):
        _set(r, v, key)
    _set_ref(session, r, v, "team", "team_id", Team, Team.name)


# services


def _service_values(s: ServiceConfig) -> dict[str, Any]:
    return {
        "description": s.description,
        "criticality": s.criticality,
        "availability_target": _dec(s.availability_target),
        "owner_team": s.owner_team,
    }


def _service_from_row(r: Service) -> ServiceConfig:
    return ServiceConfig(
        name=r.name,
        description=r.description or "",
        criticality=r.criticality,
        availability_target=Decimal(r.availability_target).normalize(),
        owner_team=r.owner_team.name if r.owner_team else None,
    )


def _service_assign(session: Session, r: Service, v: Mapping[str, Any]) -> None:
    _set(r, v, "description")
    _set(r, v, "criticality")
    _set(r, v, "availability_target", convert=Decimal)
    _set_ref(session, r, v, "owner_team", "owner_team_id", Team, Team.name)


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
        "fulfilment_minutes": c.fulfilment_minutes,
        "form": [_form_json(f) for f in c.form],
        "active": c.active,
    }


def _catalogue_from_row(r: CatalogueItem) -> CatalogueItemConfig:
    return CatalogueItemConfig(
        code=r.code,
        name=r.name,
        description=r.description or "",
        category=r.category or "",
        team=r.team.name if r.team else None,
        service=r.service.name if r.service else None,
        requires_approval=bool(r.requires_approval),
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
        active=bool(r.active),
    )


def _catalogue_assign(session: Session, r: CatalogueItem, v: Mapping[str, Any]) -> None:
    for key in (
        "name",
        "description",
        "category",
        "requires_approval",
        "fulfilment_minutes",
        "form",
        "active",
    ):
        _set(r, v, key)
    _set_ref(session, r, v, "team", "team_id", Team, Team.name)
    _set_ref(session, r, v, "service", "service_id", Service, Service.name)


# freeze windows


def _freeze_values(f: FreezeWindowConfig) -> dict[str, Any]:
    return {
        "starts_at": f.starts_at.astimezone(UTC).isoformat(),
        "ends_at": f.ends_at.astimezone(UTC).isoformat(),
        "reason": f.reason,
        "services": list(f.services),
    }


def _freeze_from_row(r: FreezeWindow) -> FreezeWindowConfig:
    return FreezeWindowConfig(
        name=r.name,
        starts_at=r.starts_at,
        ends_at=r.ends_at,
        reason=r.reason or "",
        services=tuple(r.services or ()),
    )


def _freeze_assign(session: Session, r: FreezeWindow, v: Mapping[str, Any]) -> None:
    _set(r, v, "starts_at", convert=datetime.fromisoformat)
    _set(r, v, "ends_at", convert=datetime.fromisoformat)
    _set(r, v, "reason")
    _set(r, v, "services")


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
        lambda b: Budget(category=b.category, period_start=b.period_start),
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


def _kpi_value(k: KpiTargets) -> dict[str, int | float]:
    out: dict[str, int | float] = {}
    for key, (kind, _lo, _hi) in KPI_TARGET_KEYS.items():
        value = getattr(k, key)
        if value is not None:
            out[key] = int(value) if kind == "integer" else float(value)
    return out


def _change_types_value(types: Sequence[ChangeTypeConfig]) -> dict[str, Any]:
    return {
        t.name: {
            "description": t.description,
            "cab_required": t.cab_required,
            "pre_approved": t.pre_approved,
            "lead_time_hours": t.lead_time_hours,
            "quorum": t.quorum,
            "review_required": t.review_required,
        }
        for t in types
    }


def _change_types_from_value(v: Mapping[str, Any]) -> tuple[ChangeTypeConfig, ...]:
    return tuple(ChangeTypeConfig(name=name, **v[name]) for name in CHANGE_TYPES if name in v)


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
    )


def _flatten(value: Any) -> dict[str, Any]:
    """The fields a plan reports for a setting: one level of nesting spelled "a.b"."""
    if isinstance(value, list):  # the priority matrix
        return {f"impact_{i}": row for i, row in enumerate(value, start=1)}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        if isinstance(inner, dict) and key != "thresholds":
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
    _SettingSpec("change_types", _change_types_value, _change_types_from_value),
    _SettingSpec("risk_questionnaire", _risk_value, _risk_from_value),
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


# ---------------------------------------------------------------------------
# Plan and apply


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ConfigChange:
    """One item of one section that applying the file creates, updates or removes."""

    section: str
    name: str
    action: Literal["create", "update", "remove", "deactivate"]
    fields: tuple[FieldChange, ...] = ()
    # Why a removal became a deactivation, or what else an update touches.
    note: str = ""


def _short(value: Any) -> str:
    text = (
        json.dumps(value, ensure_ascii=False, default=str)
        if not isinstance(value, str)
        else repr(value)
    )
    return text if len(text) <= 60 else text[:57] + "…"


@dataclass(frozen=True)
class ConfigPlan:
    changes: tuple[ConfigChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def section(self, name: str) -> tuple[ConfigChange, ...]:
        return tuple(c for c in self.changes if c.section == name)

    def lines(self) -> list[str]:
        """Human-readable lines, grouped by section (what `itsm config apply --dry-run` prints)."""
        if not self.changes:
            return [_("No changes: the desk already matches the file.")]
        out: list[str] = []
        for section in SECTIONS:
            changes = self.section(section)
            if not changes:
                continue
            setting = section in _SETTING_BY_SECTION
            if not setting:
                out.append(section)
            for c in changes:
                if c.action == "create":
                    text = _("  + {name}").format(name=c.name)
                elif c.action == "update":
                    diffs = "; ".join(
                        f"{f.field} {_short(f.old)} → {_short(f.new)}" for f in c.fields
                    )
                    text = _("  ~ {name}: {diffs}").format(name=c.name, diffs=diffs)
                elif c.action == "deactivate":
                    text = _("  - {name}: deactivated").format(name=c.name)
                else:
                    text = _("  - {name}").format(name=c.name)
                if c.note:
                    text += f" ({c.note})"
                out.append(text.strip() if setting else text)
        counts = {
            a: sum(1 for c in self.changes if c.action == a)
            for a in ("create", "update", "remove", "deactivate")
        }
        out.append(
            _(
                "{create} to create, {update} to update, {remove} to remove, "
                "{deactivate} to deactivate"
            ).format(**counts)
        )
        return out


@dataclass
class _Step:
    change: ConfigChange
    spec: _TableSpec | _SettingSpec
    item: Any = None
    row: Any = None
    values: dict[str, Any] = field(default_factory=dict)
    old_values: dict[str, Any] = field(default_factory=dict)


_CONFIG_TABLE_NAMES = frozenset(m.__table__.name for m in CONFIG_TABLES)
_TABLE_LABELS = {
    "tickets": _("tickets"),
    "changes": _("changes"),
    "change_approvals": _("change approvals"),
    "comments": _("comments"),
    "audit_events": _("audit events"),
    "sla_clocks": _("SLA clocks"),
    "notifications": _("notifications"),
    "outages": _("outages"),
    "time_entries": _("time entries"),
    "knowledge_articles": _("knowledge articles"),
}


def _referenced_by(session: Session, model: Any, row_id: int) -> list[str]:
    """Which operational tables (tickets, audit, clocks…) still point at this row."""
    found: list[str] = []
    for table in Base.metadata.sorted_tables:
        if table.name in _CONFIG_TABLE_NAMES:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is not model.__table__:
                continue
            # EXISTS stops at the first hit: a million tickets cost one index probe.
            if session.execute(
                select(1).select_from(table).where(fk.parent == row_id).limit(1)
            ).first():
                found.append(_TABLE_LABELS.get(table.name, table.name.replace("_", " ")))
                break
    return found


def _open_clocks(session: Session, *, policy_ids: Sequence[int]) -> int:
    if not policy_ids:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(SlaClock)
            .where(SlaClock.policy_id.in_(policy_ids), SlaClock.stopped_at.is_(None))
        )
        or 0
    )


def _merge(current: DeskConfig, config: DeskConfig) -> DeskConfig:
    values = {
        s: getattr(config, s) if getattr(config, s) is not None else getattr(current, s)
        for s in SECTIONS
    }
    return DeskConfig(**values, filename=config.filename, locator=config.locator)


def _plan(session: Session, config: DeskConfig, actor: Agent | None) -> list[_Step]:
    filename = config.filename or "desk.toml"
    chk = _Checker(filename, config.locator)
    _check_references(_merge(read_config(session), config), chk)
    if actor is not None and config.agents is not None:
        mine = next((a for a in config.agents if a.username == actor.username), None)
        if mine is None or not mine.active or not can(frozenset(mine.roles), "desk.configure"):
            chk.report(
                (*mine.path, "roles") if mine is not None and mine.path else ("agents",),
                _("agent '{name}'").format(name=actor.username),
                _(
                    "this file would take away your own right to configure the desk; keep yourself "
                    "active with the admin role"
                ),
            )
    steps: list[_Step] = []
    for spec in _TABLES:
        items = getattr(config, spec.section)
        if items is not None:
            steps.extend(_plan_table(session, spec, items, chk))
    for setting in _SETTINGS:
        item = getattr(config, setting.section)
        if item is not None:
            steps.extend(_plan_setting(session, setting, item))
    if chk.errors:
        raise DeskFileError(chk.errors)
    return steps


def _plan_table(
    session: Session, spec: _TableSpec, items: Sequence[Any], chk: _Checker
) -> list[_Step]:
    steps: list[_Step] = []
    rows = {
        _identity(spec.section, spec.from_row(r)): r for r in session.scalars(select(spec.model))
    }
    wanted: set[Any] = set()
    for item in items:
        identity = _identity(spec.section, item)
        wanted.add(identity)
        name = _display_name(spec.section, item)
        new = spec.values(item)
        row = rows.get(identity)
        if row is None:
            steps.append(_Step(ConfigChange(spec.section, name, "create"), spec, item, None, new))
            continue
        old = spec.values(spec.from_row(row))
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if not changed:
            continue
        note = _clock_note(session, spec, row, changed)
        steps.append(
            _Step(
                ConfigChange(
                    spec.section,
                    name,
                    "update",
                    tuple(FieldChange(k, old.get(k), v) for k, v in changed.items()),
                    note,
                ),
                spec,
                item,
                row,
                changed,
                {k: old.get(k) for k in changed},
            )
        )
    for identity, row in rows.items():
        if identity in wanted:
            continue
        item = spec.from_row(row)
        name = _display_name(spec.section, item)
        old = spec.values(item)
        if spec.section == "sla_policies":
            running = _open_clocks(session, policy_ids=[row.id])
            if running:
                chk.report(
                    (spec.section,),
                    _item_label(spec.section, item),
                    _(
                        "cannot be removed: {n} open SLA clocks still run on it; "
                        "keep it until they stop"
                    ).format(n=running),
                )
                continue
            refs: list[str] = []
        else:
            refs = _referenced_by(session, spec.model, row.id)
        if not refs:
            steps.append(
                _Step(ConfigChange(spec.section, name, "remove"), spec, item, row, {}, old)
            )
        elif spec.when_referenced == "deactivate":
            if row.active:
                note = _("still referenced by {what}").format(what=", ".join(refs))
                steps.append(
                    _Step(
                        ConfigChange(
                            spec.section,
                            name,
                            "deactivate",
                            (FieldChange("active", True, False),),
                            note,
                        ),
                        spec,
                        item,
                        row,
                        {"active": False},
                        {"active": True},
                    )
                )
        else:
            chk.report(
                (spec.section,),
                _item_label(spec.section, item),
                _(
                    "cannot be removed: {what} still refer to it; "
                    "move them elsewhere first, or keep it in the file"
                ).format(what=", ".join(refs)),
            )
    return steps


def _display_name(section: str, item: Any) -> str:
    if section == "escalation_rules":
        return f"{item.name} (level {item.level})"
    if section == "budgets":
        return f"{item.category} {item.period}"
    return str(_identity(section, item))


def _clock_note(session: Session, spec: _TableSpec, row: Any, changed: Mapping[str, Any]) -> str:
    """How many running deadlines an SLA policy or calendar change touches (SPEC §6)."""
    if spec.section == "sla_policies":
        timing = {
            "calendar",
            "response_minutes",
            "resolution_minutes",
            "pause_statuses",
            "warn_at_percent",
        }
        ids = [row.id] if timing & changed.keys() else []
    elif spec.section == "calendars":
        ids = list(session.scalars(select(SlaPolicy.id).where(SlaPolicy.calendar_id == row.id)))
    else:
        return ""
    n = _open_clocks(session, policy_ids=ids)
    return _("{n} open SLA clocks run on it").format(n=n) if n else ""


def _plan_setting(session: Session, setting: _SettingSpec, item: Any) -> list[_Step]:
    new = setting.to_value(item)
    row = session.get(DeskSetting, setting.section)
    if row is None or row.value is None:
        return [
            _Step(
                ConfigChange(setting.section, setting.section, "create"),
                setting,
                item,
                row,
                {"value": new},
            )
        ]
    try:
        old = setting.to_value(setting.from_value(row.value))
    except (KeyError, TypeError, ValueError, IndexError, InvalidOperation):
        old = row.value
    if old == new:
        return []
    old_fields = _flatten(old) if isinstance(old, dict | list) else {"value": old}
    new_fields = _flatten(new)
    diffs = tuple(
        FieldChange(k, old_fields.get(k), new_fields.get(k))
        for k in dict.fromkeys([*old_fields, *new_fields])
        if old_fields.get(k) != new_fields.get(k)
    ) or (FieldChange("value", old, new),)
    change = ConfigChange(setting.section, setting.section, "update", diffs)
    return [_Step(change, setting, item, row, {"value": new}, {"value": old})]


def plan_config(session: Session, config: DeskConfig, *, actor: Agent | None = None) -> ConfigPlan:
    """What applying `config` would change; writes nothing.

    Raises DeskFileError when the file cannot be applied to this desk (a reference to a
    missing item, a removal that other records block).
    """
    return ConfigPlan(tuple(step.change for step in _plan(session, config, actor)))


def _require_configure(actor: Agent) -> None:
    if not actor.active:
        raise PermissionDenied(
            _("agent {agent} is inactive and cannot configure the desk").format(
                agent=actor.username
            )
        )
    if not can(actor.role_set, "desk.configure"):
        raise PermissionDenied(
            _("{agent} cannot configure the desk: that needs the role admin").format(
                agent=actor.username
            )
        )


def apply_config(
    session: Session, config: DeskConfig, *, actor: Agent | None = None, now: datetime
) -> ConfigPlan:
    """Make the desk match `config` in the caller's transaction; one audit event per changed item.

    `actor=None` is the bootstrap path of `itsm init` (no agent exists yet to hold the right).
    """
    if now.tzinfo is None:
        raise DeskError(_("now must carry a time zone"))
    if actor is not None:
        _require_configure(actor)
    steps = _plan(session, config, actor)
    deferred: list[_Step] = []
    for step in steps:
        if isinstance(step.spec, _SettingSpec):
            continue
        spec = step.spec
        if step.change.action in ("create", "update", "deactivate"):
            now_values = {k: v for k, v in step.values.items() if k not in spec.deferred}
            if step.row is None:
                # Added only once filled in: a reference lookup autoflushes the session,
                # and a half-built row would hit NOT NULL columns.
                step.row = spec.new_row(step.item)
                spec.assign(session, step.row, now_values)
                session.add(step.row)
            else:
                spec.assign(session, step.row, now_values)
            if any(k in spec.deferred for k in step.values):
                deferred.append(step)
            session.flush()
    for step in deferred:
        assert isinstance(step.spec, _TableSpec)
        step.spec.assign(
            session, step.row, {k: v for k, v in step.values.items() if k in step.spec.deferred}
        )
    session.flush()
    for spec in reversed(_TABLES):
        removals = [s for s in steps if s.spec is spec and s.change.action == "remove"]
        if removals:
            _remove_rows(session, spec, [s.row for s in removals])
    for step in steps:
        if isinstance(step.spec, _SettingSpec):
            if step.row is None:
                step.row = DeskSetting(key=step.spec.section, value=step.values["value"])
                session.add(step.row)
            else:
                step.row.value = step.values["value"]
    for step in steps:
        session.add(_audit_event(step, actor, now))
    session.flush()
    return ConfigPlan(tuple(step.change for step in steps))


def _remove_rows(session: Session, spec: _TableSpec, rows: Sequence[Any]) -> None:
    ids = [r.id for r in rows]
    # Whatever still points here is a retired row (a deactivated agent's team, a finished
    # clock's policy) or another row leaving now: validation of the merged desk ruled out
    # live references, so those pointers are cleared rather than blocking the removal.
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not spec.model.__table__:
                continue
            if table.name in _CONFIG_TABLE_NAMES or table.name == SlaClock.__tablename__:
                session.execute(
                    update(table).where(fk.parent.in_(ids)).values({fk.parent.name: None})
                )
    session.expire_all()
    for row in rows:
        session.delete(row)
    session.flush()


def _audit_event(step: _Step, actor: Agent | None, now: datetime) -> AuditEvent:
    change = step.change
    action = "remove" if change.action == "deactivate" else change.action
    field_name: str | None = None
    old: Any = None
    new: Any = None
    if isinstance(step.spec, _SettingSpec):
        if change.action == "create":
            new = step.values["value"]
        elif len(change.fields) == 1:
            field_name, old, new = (
                change.fields[0].field,
                change.fields[0].old,
                change.fields[0].new,
            )
        else:
            field_name = ", ".join(f.field for f in change.fields)
            old, new = step.old_values["value"], step.values["value"]
    elif change.action == "create":
        new = step.values
    elif change.action == "remove":
        old = step.old_values
    elif len(change.fields) == 1:
        field_name, old, new = change.fields[0].field, change.fields[0].old, change.fields[0].new
    else:
        field_name = ", ".join(f.field for f in change.fields)
        old = {f.field: f.old for f in change.fields}
        new = {f.field: f.new for f in change.fields}

    def text(value: Any) -> str | None:
        if value is None:
            return None
        return (
            value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        )

    return AuditEvent(
        at=now.astimezone(UTC),
        actor_id=actor.id if actor is not None else None,
        record_type="config",
        record_id=0,
        record_number=f"{change.section}/{change.name}"[:200],
        action=f"config.{action}",
        field=field_name[:64] if field_name else None,
        old_value=text(old),
        new_value=text(new),
        reason=change.note or None,
    )


# ---------------------------------------------------------------------------
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
    for c in config.calendars or ():
        w.header("calendars", array=True)
        w.pairs(
            {
                "name": c.name,
                "timezone": c.timezone,
                "always_open": c.always_open or None,
                "holidays": list(c.holidays),
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
            }
        )
    for s in config.services or ():
        w.header("services", array=True)
        w.pairs(
            {
                "name": s.name,
                "description": s.description or None,
                "criticality": s.criticality,
                "availability_target": s.availability_target,
                "owner_team": s.owner_team,
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
    for ct in config.change_types or ():
        w.header(f"change_types.{ct.name}")
        w.pairs(
            {
                "description": ct.description or None,
                "cab_required": ct.cab_required,
                "pre_approved": ct.pre_approved,
                "lead_time_hours": ct.lead_time_hours,
                "quorum": ct.quorum,
                "review_required": ct.review_required,
            }
        )
    if config.risk_questionnaire is not None:
        rq = config.risk_questionnaire
        w.header("risk_questionnaire.thresholds")
        w.pairs(dict(rq.thresholds))
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
                "starts_at": f.starts_at.astimezone(zone),
                "ends_at": f.ends_at.astimezone(zone),
                "reason": f.reason or None,
                "services": list(f.services),
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
    return "\n".join(w.lines) + "\n"


# ---------------------------------------------------------------------------
# Readers the rest of the desk uses


def kpi_targets(session: Session) -> dict[str, int | float]:
    """Every KPI target: the desk's own, else the default desk's (the source document's)."""
    defaults = load_default_desk().kpi_targets
    merged: dict[str, int | float] = dict(_kpi_value(defaults)) if defaults else {}
    row = session.get(DeskSetting, "kpi_targets")
    if row is not None and isinstance(row.value, dict):
        merged.update(
            {
                k: v
                for k, v in row.value.items()
                if k in KPI_TARGET_KEYS and isinstance(v, int | float)
            }
        )
    return merged


def desk_settings(session: Session) -> dict[str, Any]:
    """The [desk] table: name, timezone, default_calendar (defaults when never configured)."""
    row = session.get(DeskSetting, "desk")
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    return {k: value.get(k, default) for k, default in DESK_DEFAULTS.items()}


def change_types(session: Session) -> dict[str, dict[str, Any]]:
    """Change type → its rules (cab_required, lead_time_hours, quorum…).

    The default desk's when the desk has none.
    """
    row = session.get(DeskSetting, "change_types")
    if row is not None and isinstance(row.value, dict):
        return dict(row.value)
    return _change_types_value(load_default_desk().change_types or ())


def risk_questionnaire(session: Session) -> dict[str, Any]:
    """The questionnaire as stored (the default desk's when the desk has none).

    {"questions": [{"id", "text", "answers": [{"value", "label", "weight"}]}],
     "thresholds": {"low": 0, "medium": …, "high": …}}
    """
    row = session.get(DeskSetting, "risk_questionnaire")
    if row is not None and isinstance(row.value, dict):
        return dict(row.value)
    default = load_default_desk().risk_questionnaire
    assert default is not None
    return _risk_value(default)


def risk_level(thresholds: Mapping[str, int], score: int) -> str:
    """The highest level whose threshold the score reaches ("low" below every other)."""
    level = "low"
    for name in RISK_LEVELS:
        if name in thresholds and score >= thresholds[name]:
            level = name
    return level
