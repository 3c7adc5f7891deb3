"""Loading a desk file: the whole document, the checks across sections, the default desk."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from itsm_tui.config.calendars import _parse_calendar
from itsm_tui.config.change_sections import (
    _parse_change_template,
    _parse_change_types,
    _parse_risk,
)
from itsm_tui.config.checker import Checker, Table, _duplicate, _label, _where
from itsm_tui.config.intake import parse_intake
from itsm_tui.config.locator import Locator
from itsm_tui.config.model import BudgetConfig, DeskConfig
from itsm_tui.config.notifications import parse_notifications
from itsm_tui.config.rotations import check_rotation_references, parse_rotation
from itsm_tui.config.sections import (
    _parse_agent,
    _parse_budget,
    _parse_catalogue,
    _parse_desk,
    _parse_escalation,
    _parse_freeze,
    _parse_kpi,
    _parse_matrix,
    _parse_serve,
    _parse_service,
    _parse_sla,
    _parse_sla_settings,
    _parse_team,
)
from itsm_tui.config.vocabulary import SECTIONS, DeskFileError
from itsm_tui.config.windows import check_dependencies
from itsm_tui.i18n import _
from itsm_tui.text_input import utf8_file_problem

# (section, singular label for messages, parser, identity field) of each array-of-tables section.
_ITEM_SECTIONS: dict[str, tuple[str, Callable[[Table], Any], str]] = {
    "calendars": ("calendar", _parse_calendar, "name"),
    "sla_policies": ("sla", _parse_sla, "name"),
    "escalation_rules": ("escalation rule", _parse_escalation, "name"),
    "teams": ("team", _parse_team, "name"),
    "agents": ("agent", _parse_agent, "username"),
    "rotations": ("rotation", parse_rotation, "team"),
    "services": ("service", _parse_service, "name"),
    "catalogue_items": ("catalogue item", _parse_catalogue, "code"),
    "change_templates": ("change template", _parse_change_template, "name"),
    "freeze_windows": ("freeze window", _parse_freeze, "name"),
    "budgets": ("budget", _parse_budget, "category"),
}


def _identity(section: str, item: Any) -> Any:
    if section == "escalation_rules":
        return (item.name, item.level)
    if section == "budgets":
        return (item.category, item.period_start, item.period_end)
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


def _parse_document(doc: dict[str, Any], chk: Checker) -> DeskConfig:
    root = Table(chk, (), doc, "")
    root.check_keys(SECTIONS)
    sections: dict[str, Any] = {}
    for name, parse in (
        ("desk", _parse_desk),
        ("priority_matrix", _parse_matrix),
        ("kpi_targets", _parse_kpi),
        ("sla", _parse_sla_settings),
        ("serve", _parse_serve),
        ("intake", parse_intake),
        ("change_types", _parse_change_types),
        ("risk_questionnaire", _parse_risk),
        ("notifications", parse_notifications),
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
            t = Table(chk, (name, i), raw, context)
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


def _check_references(config: DeskConfig, chk: Checker) -> None:
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
    if config.intake is not None:
        # Its agent is not checked here: the default desk names one that `itsm init` cannot
        # know; alerts wait, kept, until it exists (the intake logs why).
        for i, rule in enumerate(config.intake.rules):
            where = ("rules", i)
            check(
                config.intake, "intake", (*where, "service"), rule.service, services, _("service")
            )
            check(config.intake, "intake", (*where, "team"), rule.team, teams, _("team"))
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
    check_rotation_references(
        config.rotations or (), teams, agents, check, lambda r: _item_label("rotations", r)
    )
    for s in config.services or ():
        check(s, _item_label("services", s), "owner_team", s.owner_team, teams, _("team"))
    check_dependencies(config.services or (), chk, lambda s: _item_label("services", s))
    for c in config.catalogue_items or ():
        ctx = _item_label("catalogue_items", c)
        check(c, ctx, "team", c.team, teams, _("team"))
        check(c, ctx, "service", c.service, services, _("service"))
        for i, task in enumerate(c.tasks):
            check(c, ctx, ("tasks", i, "team"), task.team, teams, _("team"))
    for ct in config.change_types or ():
        ctx = _("change type '{name}'").format(name=ct.name)
        check_all(ct, ctx, "cab", ct.cab, agents, _("agent"))
    for template in config.change_templates or ():
        ctx = _item_label("change_templates", template)
        check_all(template, ctx, "services", template.services, services, _("service"))
    for f in config.freeze_windows or ():
        check_all(
            f, _item_label("freeze_windows", f), "services", f.services, services, _("service")
        )
    for r in config.notifications.agents if config.notifications else ():
        check(r, _("notifications.agents"), "username", r.username, agents, _("agent"))
    for r in config.notifications.teams if config.notifications else ():
        check(r, _("notifications.teams"), "name", r.team, teams, _("team"))
    _check_budget_overlaps(config, chk)


def _check_budget_overlaps(config: DeskConfig, chk: Checker) -> None:
    """Budgets of one category nest or stay apart, as a finance plan does.

    A month inside its year breaks the year down: both stand, each compared with the spend
    of its own period. Periods that cross (two of the same length that overlap, or a
    quarter running into the next year) would count one day's spend against two budgets
    of the same level, so they are refused.
    """
    by_category: dict[str, list[BudgetConfig]] = {}
    for b in config.budgets or ():
        by_category.setdefault(b.category, []).append(b)
    for budgets in by_category.values():
        # Earliest first and, from one day, the longest first: each budget follows the
        # budgets that may hold it.
        budgets.sort(key=lambda b: (b.period_start, -b.period_end.toordinal()))
        holding: list[BudgetConfig] = []
        for budget in budgets:
            while holding and holding[-1].period_end < budget.period_start:
                holding.pop()
            if holding and budget.period_end > holding[-1].period_end:
                other = holding[-1]
                chk.report(
                    _period_path(budget, chk),
                    _item_label("budgets", budget),
                    _(
                        "period overlaps budget '{other}' without lying inside it; a budget "
                        "may break a longer one down (a month of its year), not cross it"
                    ).format(other=f"{other.category} {other.period}"),
                )
                continue
            holding.append(budget)


def _period_path(budget: BudgetConfig, chk: Checker) -> tuple[Any, ...]:
    """Where a budget's period is written: `period`, or `period_start` when given as dates."""
    if not budget.path:
        return ()
    period = (*budget.path, "period")
    if chk.locator is not None and period not in chk.locator.lines:
        return (*budget.path, "period_start")
    return period


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
    except RecursionError:
        raise DeskFileError(
            [
                _("{where}: arrays or tables nested too deeply to read").format(
                    where=_where(filename, _deepest_line(text))
                )
            ]
        ) from None
    locator = Locator(text)
    chk = Checker(filename, locator)
    config = _parse_document(doc, chk)
    _check_references(config, chk)
    if chk.errors:
        raise DeskFileError(sorted(chk.errors, key=_error_line))
    return _with_source(config, filename, locator)


def _deepest_line(text: str) -> int:
    """The line where brackets and braces open deepest (strings ignored: only for the error)."""
    depth = deepest = 0
    line = where = 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, line
        elif char in "]}":
            depth -= 1
    return where


def _error_line(error: str) -> int:
    # Reading top to bottom is how people fix a file: order by line, keep order within one.
    match = re.match(r"^.*?:(\d+): ", error)
    return int(match.group(1)) if match else 0


def _with_source(config: DeskConfig, filename: str, locator: Locator | None) -> DeskConfig:
    values = {s: getattr(config, s) for s in SECTIONS}
    return DeskConfig(**values, filename=filename, locator=locator)


def load_desk_file(path: str | Path) -> DeskConfig:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DeskFileError(
            [
                _("{file}: cannot read the desk file: {reason}").format(
                    file=path, reason=exc.strerror or exc
                )
            ]
        ) from None
    problem = utf8_file_problem(raw)
    if problem is not None:
        line, what = problem
        raise DeskFileError([f"{_where(path.name, line)}: {what}"])
    return load_desk_text(raw.decode("utf-8"), path.name)


def default_desk_text() -> str:
    return resources.files("itsm_tui").joinpath("default_desk.toml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_default_desk() -> DeskConfig:
    """The desk file shipped with the package (`itsm init` applies it to a new desk)."""
    return load_desk_text(default_desk_text(), "default_desk.toml")


def _display_name(section: str, item: Any) -> str:
    if section == "escalation_rules":
        return f"{item.name} (level {item.level})"
    if section == "budgets":
        return f"{item.category} {item.period}"
    return str(_identity(section, item))
