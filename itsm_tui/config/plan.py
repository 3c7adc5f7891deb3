"""Planning a desk file against the store and applying the plan with its audit events."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import InvalidOperation
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from itsm_tui.config.checker import Checker
from itsm_tui.config.clocks import (
    CALENDAR_TIMING,
    POLICY_TIMING,
    DueTimeMoves,
    Retiming,
    apply_retimings,
    due_time_moves,
    retimings,
)
from itsm_tui.config.load import _check_references, _display_name, _identity, _item_label
from itsm_tui.config.model import DeskConfig
from itsm_tui.config.store import (
    _SETTING_BY_SECTION,
    _SETTINGS,
    _TABLES,
    _flatten,
    _SettingSpec,
    _TableSpec,
    read_config,
)
from itsm_tui.config.vocabulary import SECTIONS, DeskFileError
from itsm_tui.data.models import (
    CONFIG_TABLES,
    Agent,
    AgentKey,
    AuditEvent,
    Base,
    DeskSetting,
    SlaClock,
    SlaPolicy,
)
from itsm_tui.desk.errors import DeskError, PermissionDenied
from itsm_tui.domain.roles import can
from itsm_tui.i18n import _


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
    # The open due times the calendar and policy changes move (None: none re-timed).
    moves: DueTimeMoves | None = None

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
        if self.moves is not None:
            out.append(self.moves.line())
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


def _plan(
    session: Session, config: DeskConfig, actor: Agent | None
) -> tuple[list[_Step], list[Retiming]]:
    """The steps that make the desk match `config`, and the policies whose clocks re-time."""
    filename = config.filename or "desk.toml"
    chk = Checker(filename, config.locator)
    merged = _merge(read_config(session), config)
    _check_references(merged, chk)
    _check_agent_keys(session, config, chk)
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
    return steps, retimings(
        session,
        merged,
        _timing_changes(steps, "calendars", CALENDAR_TIMING),
        _timing_changes(steps, "sla_policies", POLICY_TIMING),
    )


def _check_agent_keys(session: Session, config: DeskConfig, chk: Checker) -> None:
    """A key signs in as one agent: after the apply, no two agents may hold the same one."""
    if config.agents is None:
        return
    from itsm_tui.desk.agent_keys import read_public_key

    unchanged = {a.username for a in config.agents if a.ssh_keys is None}
    # Keys of agents the file lists without ssh_keys stay theirs.
    owner = {
        fingerprint: username
        for fingerprint, username in session.execute(
            select(AgentKey.fingerprint, Agent.username).join(Agent, Agent.id == AgentKey.agent_id)
        )
        if username in unchanged
    }
    for a in config.agents:
        for i, line in enumerate(a.ssh_keys or ()):
            fingerprint = read_public_key(line).fingerprint
            other = owner.setdefault(fingerprint, a.username)
            if other != a.username:
                chk.report(
                    (*a.path, "ssh_keys", i) if a.path else ("agents",),
                    _item_label("agents", a),
                    _(
                        "ssh_keys: the key {fingerprint} also signs in as {other}; "
                        "a key belongs to one agent"
                    ).format(fingerprint=fingerprint, other=other),
                )


def _timing_changes(steps: Sequence[_Step], section: str, timing: frozenset[str]) -> list[str]:
    return [
        s.item.name
        for s in steps
        if s.change.section == section
        and s.change.action == "update"
        and timing & {f.field for f in s.change.fields}
    ]


def _plan_table(
    session: Session, spec: _TableSpec, items: Sequence[Any], chk: Checker
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


def plan_config(
    session: Session,
    config: DeskConfig,
    *,
    actor: Agent | None = None,
    now: datetime | None = None,
) -> ConfigPlan:
    """What applying `config` at `now` would change; writes nothing.

    With `now`, the plan also says which open due times the calendar and policy changes
    move. Raises DeskFileError when the file cannot be applied to this desk (a reference
    to a missing item, a removal that other records block).
    """
    steps, found = _plan(session, config, actor)
    moves = due_time_moves(session, found, now) if found and now is not None else None
    return ConfigPlan(tuple(step.change for step in steps), moves)


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
    # Re-timings hold the calendars as they are now: the time already spent counts on those.
    steps, found = _plan(session, config, actor)
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
    actor_id = actor.id if actor is not None else None
    moves = apply_retimings(session, found, now, actor_id) if found else None
    return ConfigPlan(tuple(step.change for step in steps), moves)


def _remove_rows(session: Session, spec: _TableSpec, rows: Sequence[Any]) -> None:
    ids = [r.id for r in rows]
    # Whatever still points here is a retired row (a deactivated agent's team, a finished
    # clock's policy) or another row leaving now: validation of the merged desk ruled out
    # live references, so those pointers are cleared rather than blocking the removal.
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not spec.model.__table__:
                continue
            if table is AgentKey.__table__ or (
                table.name in _CONFIG_TABLE_NAMES and fk.parent.primary_key
            ):
                # An agent's keys go with the agent; a link row (a service's dependency)
                # cannot point nowhere: it leaves too.
                session.execute(delete(table).where(fk.parent.in_(ids)))
            elif table.name in _CONFIG_TABLE_NAMES or table.name == SlaClock.__tablename__:
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
