"""Applying the desk file to the store, on SQLite and PostgreSQL: plan, apply, show, remove."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from itsm_tui.config import (
    BudgetConfig,
    DeskConfig,
    DeskFileError,
    apply_config,
    default_desk_text,
    desk_settings,
    dump_toml,
    kpi_targets,
    load_default_desk,
    load_desk_text,
    plan_config,
    read_config,
)
from itsm_tui.data.migrate import alembic_config, current_revision, head_revision
from itsm_tui.data.models import (
    CONFIG_TABLES,
    Agent,
    AuditEvent,
    BusinessCalendar,
    CatalogueItem,
    DeskSetting,
    SlaClock,
    SlaPolicy,
    Team,
    Ticket,
)
from itsm_tui.data.store import Store
from itsm_tui.desk.errors import PermissionDenied
from itsm_tui.desk.records import priority_matrix
from itsm_tui.desk.setup import init_desk
from itsm_tui.desk.sla import calendar_of
from itsm_tui.desk.tickets import create_ticket
from itsm_tui.domain.calendar import is_working
from itsm_tui.domain.priority import DEFAULT_MATRIX

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

AGENTS = """
[[agents]]
username = "lwang"
name = "Wang Lei"
email = "lwang@example.com"
team = "Service Desk"
roles = ["agent", "supervisor"]
hourly_cost = 120.50
timezone = "Asia/Shanghai"

[[agents]]
username = "admin"
name = "Desk Admin"
roles = ["admin"]

[[agents]]
username = "zhao"
name = "Zhao Min"
team = "Network"
roles = ["agent", "cab"]
hourly_cost = "95.00"
"""


def rich_desk_text() -> str:
    """The default desk plus agents, one of them supervising a team (a team ↔ agent cycle)."""
    text = default_desk_text().replace(
        'escalation_team = "Desktop Support"',
        'escalation_team = "Desktop Support"\nsupervisor = "lwang"',
        1,
    )
    return text + AGENTS


def rich_desk() -> DeskConfig:
    return load_desk_text(rich_desk_text(), "desk.toml")


def apply(store: Store, config: DeskConfig, actor_name: str | None = None):
    with store.write() as session:
        actor = None
        if actor_name is not None:
            actor = session.scalar(select(Agent).where(Agent.username == actor_name))
        return apply_config(session, config, actor=actor, now=NOW)


def plan(store: Store, config: DeskConfig):
    with store.read() as session:
        return plan_config(session, config)


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def config_rows(store: Store) -> dict[str, int]:
    with store.read() as session:
        return {m.__tablename__: count(session, m) for m in CONFIG_TABLES} | {
            "audit_events": count(session, AuditEvent)
        }


def add_ticket(
    session: Session,
    *,
    team: str | None = None,
    assignee: str | None = None,
    item: str | None = None,
    number: str = "INC0000001",
) -> Ticket:
    ticket = Ticket(
        number=number,
        type="request" if item else "incident",
        title="Printer on fire",
        status="new",
        impact=2,
        urgency=2,
        priority=3,
        opened_at=NOW,
        updated_at=NOW,
        team_id=session.scalar(select(Team.id).where(Team.name == team)) if team else None,
        assignee_id=(
            session.scalar(select(Agent.id).where(Agent.username == assignee)) if assignee else None
        ),
        catalogue_item_id=(
            session.scalar(select(CatalogueItem.id).where(CatalogueItem.code == item))
            if item
            else None
        ),
    )
    session.add(ticket)
    session.flush()
    return ticket


def without(text: str, header: str, name_line: str) -> str:
    """`text` without the [[header]] item whose first line is `name_line` (sub-tables included)."""
    start = text.index(f"[[{header}]]\n{name_line}\n")
    ends = [text.find(marker, start + 1) for marker in (f"\n[[{header}]]\n", "\n# ---")]
    end = min((e for e in ends if e != -1), default=len(text))
    return text[:start] + text[end + 1 :]


# ---------------------------------------------------------------------------
# Apply, plan again, show


def test_applying_the_default_desk_then_planning_again_is_empty(store: Store) -> None:
    desk = load_default_desk()
    first = apply(store, desk)
    assert not first.is_empty
    assert {c.action for c in first.changes} == {"create"}
    assert plan(store, desk).is_empty
    assert apply(store, desk).is_empty


def test_show_then_apply_plans_no_changes_for_the_default_desk(store: Store) -> None:
    apply(store, load_default_desk())
    with store.read() as session:
        shown = dump_toml(read_config(session))
    again = load_desk_text(shown, "shown.toml")
    assert plan(store, again).is_empty
    assert again == replace(load_default_desk(), agents=())


def test_show_then_apply_plans_no_changes_for_a_rich_desk_with_agents(store: Store) -> None:
    desk = rich_desk()
    apply(store, desk)
    with store.read() as session:
        stored = read_config(session)
        shown = dump_toml(stored)
    assert stored == desk
    again = load_desk_text(shown, "shown.toml")
    assert again == desk
    assert plan(store, again).is_empty


def test_stored_values_have_the_shapes_other_modules_read(store: Store) -> None:
    apply(store, rich_desk())
    with store.read() as session:
        matrix = session.get(DeskSetting, "priority_matrix")
        assert matrix is not None and matrix.value == [[1, 2, 3], [2, 3, 4], [3, 4, 4]]
        p1 = session.scalar(select(SlaPolicy).where(SlaPolicy.name == "P1 incident"))
        assert p1 is not None
        assert p1.match == {"types": ["incident"], "priorities": [1]}
        assert p1.calendar.always_open
        cal = session.scalar(
            select(BusinessCalendar).where(BusinessCalendar.name == "business-hours")
        )
        assert cal is not None
        assert cal.hours["mon"] == [["09:00", "12:00"], ["13:30", "18:00"]]
        assert "2026-10-01" in cal.holidays
        desk_team = session.scalar(select(Team).where(Team.name == "Service Desk"))
        assert desk_team is not None
        assert desk_team.supervisor is not None and desk_team.supervisor.username == "lwang"
        assert desk_team.escalation_team is not None
        assert desk_team.escalation_team.name == "Desktop Support"
        lwang = session.scalar(select(Agent).where(Agent.username == "lwang"))
        assert lwang is not None and lwang.roles == "agent supervisor"
        assert str(lwang.hourly_cost) == "120.50"
        kpi = session.get(DeskSetting, "kpi_targets")
        assert kpi is not None and kpi.value["availability_percent"] == 99.9


def test_readers_fall_back_to_defaults_then_follow_the_desk(store: Store) -> None:
    with store.read() as session:
        assert priority_matrix(session) == [list(r) for r in DEFAULT_MATRIX]
        assert kpi_targets(session)["incident_response_minutes"] == 15
        assert desk_settings(session) == {
            "name": "Service Desk",
            "timezone": "UTC",
            "default_calendar": None,
        }
    text = (
        "[priority_matrix]\nimpact_1 = [1, 1, 2]\nimpact_2 = [2, 3, 4]\nimpact_3 = [3, 4, 4]\n"
        "[kpi_targets]\ncsat_min = 4.5\n"
        '[desk]\nname = "Ops"\ntimezone = "Europe/Paris"\n'
    )
    apply(store, load_desk_text(text, "desk.toml"))
    with store.read() as session:
        assert priority_matrix(session) == [[1, 1, 2], [2, 3, 4], [3, 4, 4]]
        targets = kpi_targets(session)
        assert targets["csat_min"] == 4.5
        assert targets["change_success_percent"] == 95  # from the default desk
        assert desk_settings(session)["timezone"] == "Europe/Paris"


# ---------------------------------------------------------------------------
# Nothing written unless everything is right


def test_malformed_file_writes_nothing(store: Store) -> None:
    before = config_rows(store)
    bad = default_desk_text().replace('calendar = "24x7"', 'calendar = "bizhours"')
    with pytest.raises(DeskFileError), store.write() as session:
        apply_config(session, load_desk_text(bad, "desk.toml"), now=NOW)
    assert config_rows(store) == before


def test_a_file_refused_by_the_store_writes_nothing(store: Store) -> None:
    # Valid on its own, but it names a calendar neither in the file nor in the desk.
    text = '[[sla_policies]]\nname = "P1"\ncalendar = "24x7"\nresolution_minutes = 60\n'
    desk = load_desk_text(text, "desk.toml")
    with pytest.raises(DeskFileError) as caught, store.write() as session:
        apply_config(session, desk, now=NOW)
    assert caught.value.errors == [
        "desk.toml:3: sla 'P1': calendar '24x7' is not defined (no such calendar)"
    ]
    assert sum(config_rows(store).values()) == 0


def test_dry_run_writes_nothing(store: Store) -> None:
    with store.write() as session:
        result = plan_config(session, load_default_desk())
    assert not result.is_empty
    assert sum(config_rows(store).values()) == 0


def test_plan_lines_say_what_changes(store: Store) -> None:
    lines = plan(store, load_default_desk()).lines()
    assert "calendars" in lines
    assert "  + business-hours" in lines
    assert "+ kpi_targets" in lines
    assert lines[-1].startswith(f"{len(plan(store, load_default_desk()).changes)} to create")
    apply(store, load_default_desk())
    assert plan(store, load_default_desk()).lines() == [
        "No changes: the desk already matches the file."
    ]


# ---------------------------------------------------------------------------
# Updates and audit


def test_every_changed_item_gets_one_audit_event(store: Store) -> None:
    result = apply(store, load_default_desk())
    with store.read() as session:
        events = list(session.scalars(select(AuditEvent)))
    assert len(events) == len(result.changes)
    assert {e.record_type for e in events} == {"config"}
    assert {e.action for e in events} == {"config.create"}
    assert {e.record_id for e in events} == {0}
    assert all(e.actor_id is None for e in events)
    numbers = {e.record_number for e in events}
    assert "calendars/business-hours" in numbers
    assert "sla_policies/P1 incident" in numbers


def test_update_names_the_changed_fields_and_audits_old_and_new(store: Store) -> None:
    apply(store, load_default_desk())
    text = default_desk_text().replace(
        "response_minutes = 30\nresolution_minutes = 480",
        "response_minutes = 20\nresolution_minutes = 480",
    )
    result = apply(store, load_desk_text(text, "desk.toml"))
    assert len(result.changes) == 1
    change = result.changes[0]
    assert (change.section, change.name, change.action) == ("sla_policies", "P2 incident", "update")
    assert [(f.field, f.old, f.new) for f in change.fields] == [("response_minutes", 30, 20)]
    assert "  ~ P2 incident: response_minutes 30 → 20" in result.lines()
    with store.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "config.update")
        ).one()
    assert (event.record_number, event.field, event.old_value, event.new_value) == (
        "sla_policies/P2 incident",
        "response_minutes",
        "30",
        "20",
    )
    assert plan(store, load_desk_text(text, "desk.toml")).is_empty


def test_setting_update_lists_the_keys_that_changed(store: Store) -> None:
    apply(store, load_default_desk())
    text = default_desk_text().replace("csat_min = 4.0", "csat_min = 4.2")
    result = plan(store, load_desk_text(text, "desk.toml"))
    (change,) = result.changes
    assert (change.section, change.action) == ("kpi_targets", "update")
    assert [(f.field, f.old, f.new) for f in change.fields] == [("csat_min", 4.0, 4.2)]


def test_plan_tells_how_many_open_clocks_a_policy_change_touches(store: Store) -> None:
    apply(store, load_default_desk())
    with store.write() as session:
        ticket = add_ticket(session)
        policy = session.scalar(select(SlaPolicy).where(SlaPolicy.name == "P2 incident"))
        assert policy is not None
        session.add(
            SlaClock(
                ticket_id=ticket.id,
                kind="resolution",
                policy_id=policy.id,
                target_minutes=480,
                started_at=NOW,
                state="running",
            )
        )
    text = default_desk_text().replace("resolution_minutes = 480", "resolution_minutes = 600")
    (change,) = plan(store, load_desk_text(text, "desk.toml")).changes
    assert change.note == "1 open SLA clocks run on it"


def test_section_absent_from_the_file_is_left_alone(store: Store) -> None:
    apply(store, load_default_desk())
    before = config_rows(store)
    result = apply(store, load_desk_text("[kpi_targets]\ncsat_min = 4.5\n", "desk.toml"))
    assert [(c.section, c.action) for c in result.changes] == [("kpi_targets", "update")]
    after = config_rows(store)
    assert after["teams"] == before["teams"] and after["sla_policies"] == before["sla_policies"]


def test_partial_file_may_refer_to_items_already_in_the_desk(store: Store) -> None:
    apply(store, load_default_desk())
    text = (
        '[[sla_policies]]\nname = "Only one"\ncalendar = "24x7"\nresolution_minutes = 60\n'
        '[sla_policies.match]\nservices = ["ERP"]\n'
    )
    result = apply(store, load_desk_text(text, "desk.toml"))
    assert sorted(c.action for c in result.changes) == ["create"] + ["remove"] * 6


# ---------------------------------------------------------------------------
# Removal


def test_removed_team_with_nothing_on_it_is_deleted(store: Store) -> None:
    apply(store, load_default_desk())
    text = without(default_desk_text(), "teams", 'name = "Network"')
    text = text.replace('owner_team = "Network"', 'owner_team = "Infrastructure Engineering"')
    text = text.replace('team = "Network"', 'team = "Service Desk"')
    result = apply(store, load_desk_text(text, "desk.toml"))
    assert ("teams", "Network", "remove") in {(c.section, c.name, c.action) for c in result.changes}
    with store.read() as session:
        assert session.scalar(select(Team).where(Team.name == "Network")) is None
        removed = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "config.remove")
        ).one()
        assert removed.record_number == "teams/Network"
        assert json.loads(removed.old_value or "{}")["tier"] == 2
    assert plan(store, load_desk_text(text, "desk.toml")).is_empty


def test_removed_team_still_holding_tickets_is_refused(store: Store) -> None:
    apply(store, load_default_desk())
    with store.write() as session:
        add_ticket(session, team="Network")
    text = without(default_desk_text(), "teams", 'name = "Network"')
    text = text.replace('owner_team = "Network"', 'owner_team = "Infrastructure Engineering"')
    text = text.replace('team = "Network"', 'team = "Service Desk"')
    before = config_rows(store)
    with pytest.raises(DeskFileError) as caught, store.write() as session:
        apply_config(session, load_desk_text(text, "desk.toml"), now=NOW)
    # A removed item is not in the file: the error points at its section.
    section = text.splitlines().index("[[teams]]") + 1
    assert caught.value.errors == [
        f"desk.toml:{section}: team 'Network': cannot be removed: tickets "
        "still refer to it; move them elsewhere first, or keep it in the file"
    ]
    assert config_rows(store) == before


def test_removing_a_team_other_desk_items_still_use_is_refused(store: Store) -> None:
    apply(store, load_default_desk())
    # Only the teams section: the services (left alone) are still owned by Network.
    teams = (
        '[[teams]]\nname = "Service Desk"\ntier = 1\n'
        '[[teams]]\nname = "Desktop Support"\ntier = 2\n'
        '[[teams]]\nname = "Applications"\ntier = 2\n'
        '[[teams]]\nname = "Infrastructure Engineering"\ntier = 3\n'
    )
    with pytest.raises(DeskFileError) as caught:
        plan(store, load_desk_text(teams, "teams.toml"))
    assert (
        "teams.toml: service 'Corporate Network and Wi-Fi' (in the desk, not in this file): "
        "owner_team 'Network' is not defined (no such team)"
    ) in caught.value.errors


def test_removed_agent_with_history_is_deactivated_and_re_adding_reactivates(
    store: Store,
) -> None:
    apply(store, rich_desk())
    with store.write() as session:
        add_ticket(session, team="Network", assignee="zhao")
    text = without(rich_desk_text(), "agents", 'username = "zhao"')
    result = apply(store, load_desk_text(text, "desk.toml"))
    (change,) = result.changes
    assert (change.section, change.name, change.action) == ("agents", "zhao", "deactivate")
    assert change.note == "still referenced by tickets"
    with store.read() as session:
        zhao = session.scalar(select(Agent).where(Agent.username == "zhao"))
        assert zhao is not None and not zhao.active
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.record_number == "agents/zhao", AuditEvent.action == "config.remove"
            )
        ).one()
        assert (event.action, event.field, event.old_value, event.new_value) == (
            "config.remove",
            "active",
            "true",
            "false",
        )
    assert plan(store, load_desk_text(text, "desk.toml")).is_empty
    again = apply(store, rich_desk())
    assert [(c.name, c.action) for c in again.changes] == [("zhao", "update")]
    with store.read() as session:
        zhao = session.scalar(select(Agent).where(Agent.username == "zhao"))
        assert zhao is not None and zhao.active


def test_removed_agent_without_history_is_deleted(store: Store) -> None:
    apply(store, rich_desk())
    text = without(rich_desk_text(), "agents", 'username = "zhao"')
    (change,) = apply(store, load_desk_text(text, "desk.toml")).changes
    assert change.action == "remove"
    with store.read() as session:
        assert session.scalar(select(Agent).where(Agent.username == "zhao")) is None


def test_removed_supervisor_is_refused_while_a_team_names_them(store: Store) -> None:
    apply(store, rich_desk())
    text = without(rich_desk_text(), "agents", 'username = "lwang"')
    with pytest.raises(DeskFileError) as caught:
        plan(store, load_desk_text(text, "desk.toml"))
    (error,) = caught.value.errors
    assert "team 'Service Desk': supervisor 'lwang' is not defined (no such agent)" in error


def test_removed_catalogue_item_is_deactivated_when_requested_else_deleted(store: Store) -> None:
    apply(store, load_default_desk())
    with store.write() as session:
        add_ticket(session, item="new-laptop", number="REQ0000001")
    text = without(default_desk_text(), "catalogue_items", 'code = "new-laptop"')
    text = without(text, "catalogue_items", 'code = "vpn-access"')
    result = apply(store, load_desk_text(text, "desk.toml"))
    assert {(c.name, c.action) for c in result.changes} == {
        ("new-laptop", "deactivate"),
        ("vpn-access", "remove"),
    }
    with store.read() as session:
        laptop = session.scalar(select(CatalogueItem).where(CatalogueItem.code == "new-laptop"))
        assert laptop is not None and not laptop.active
        assert (
            session.scalar(select(CatalogueItem).where(CatalogueItem.code == "vpn-access")) is None
        )
    assert plan(store, load_desk_text(text, "desk.toml")).is_empty


def test_removed_sla_policy_is_refused_while_a_clock_runs_on_it(store: Store) -> None:
    apply(store, load_default_desk())
    with store.write() as session:
        ticket = add_ticket(session)
        policy = session.scalar(select(SlaPolicy).where(SlaPolicy.name == "P4 incident"))
        assert policy is not None
        session.add(
            SlaClock(
                ticket_id=ticket.id,
                kind="resolution",
                policy_id=policy.id,
                target_minutes=4500,
                started_at=NOW,
                state="running",
            )
        )
    text = without(default_desk_text(), "sla_policies", 'name = "P4 incident"')
    with pytest.raises(DeskFileError) as caught:
        plan(store, load_desk_text(text, "desk.toml"))
    section = text.splitlines().index("[[sla_policies]]") + 1
    assert caught.value.errors == [
        f"desk.toml:{section}: sla 'P4 incident': cannot be removed: "
        "1 open SLA clocks still run on it; keep it until they stop"
    ]
    with store.write() as session:
        clock = session.scalars(select(SlaClock)).one()
        clock.state, clock.stopped_at = "met", NOW
    apply(store, load_desk_text(text, "desk.toml"))
    with store.read() as session:
        clock = session.scalars(select(SlaClock)).one()
        assert clock.policy_id is None and clock.target_minutes == 4500


def test_empty_section_removes_every_item(store: Store) -> None:
    apply(store, load_default_desk())
    result = apply(store, load_desk_text("freeze_windows = []\n", "desk.toml"))
    # The default desk has two: the year-end close and the recurring month-end close.
    assert [(c.section, c.action) for c in result.changes] == [("freeze_windows", "remove")] * 2


# ---------------------------------------------------------------------------
# Who may apply


def test_non_admin_actor_is_refused_and_nothing_is_written(store: Store) -> None:
    apply(store, rich_desk())
    before = config_rows(store)
    changed = load_desk_text(
        default_desk_text().replace("csat_min = 4.0", "csat_min = 4.5"), "desk.toml"
    )
    with pytest.raises(PermissionDenied, match="lwang cannot configure the desk"):
        apply(store, changed, actor_name="lwang")
    assert config_rows(store) == before


def test_admin_actor_applies_and_is_named_in_the_audit(store: Store) -> None:
    apply(store, rich_desk())
    changed = load_desk_text(
        rich_desk_text().replace("csat_min = 4.0", "csat_min = 4.5"), "desk.toml"
    )
    apply(store, changed, actor_name="admin")
    with store.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "config.update")
        ).one()
        assert event.actor is not None and event.actor.username == "admin"
        assert (event.field, event.old_value, event.new_value) == ("csat_min", "4.0", "4.5")


def test_file_that_would_lock_out_the_acting_admin_is_refused(store: Store) -> None:
    apply(store, rich_desk())
    text = rich_desk_text().replace('roles = ["admin"]', 'roles = ["agent"]')
    with pytest.raises(DeskFileError) as caught:
        apply(store, load_desk_text(text, "desk.toml"), actor_name="admin")
    (error,) = caught.value.errors
    assert "agent 'admin': this file would take away your own right to configure the desk" in error
    line = text.splitlines().index('roles = ["agent"]') + 1
    assert error.startswith(f"desk.toml:{line}: ")


def test_sla_setting_from_the_desk_file_drives_the_write_path(store: Store) -> None:
    from itsm_tui.desk.sla import response_met_by

    with store.write() as session:
        apply_config(
            session, load_desk_text('[sla]\nresponse_met_by = ["reply"]\n', "d.toml"), now=NOW
        )
    with store.read() as session:
        assert response_met_by(session) == ("reply",)
        assert read_config(session).sla.response_met_by == ("reply",)


# ---------------------------------------------------------------------------
# Open due times that a calendar or policy change moves


SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


def desk_with_p2_incident(store: Store, opened: datetime) -> str:
    """The default desk, its admin, and one P2 incident (business hours: 30 min / 8 h)."""
    with store.write() as session:
        init_desk(session, os_user="root", now=opened)
        root = session.scalars(select(Agent).where(Agent.username == "root")).one()
        ticket = create_ticket(
            session, root, type="incident", title="Printer on fire", impact=1, urgency=2, now=opened
        )
        assert ticket.priority == 2
        return ticket.number


def due_times(store: Store) -> dict[str, datetime | None]:
    with store.read() as session:
        return {kind: due for kind, due in session.execute(select(SlaClock.kind, SlaClock.due_at))}


def with_business_hours(**changes: Any) -> DeskConfig:
    """The default desk with its business-hours calendar changed."""
    desk = load_default_desk()
    calendars = tuple(
        replace(c, **changes) if c.name == "business-hours" else c for c in desk.calendars or ()
    )
    return replace(desk, calendars=calendars)


def business_hours() -> Any:
    return next(c for c in load_default_desk().calendars or () if c.name == "business-hours")


def test_a_new_holiday_moves_the_open_due_time_it_falls_on(store: Store) -> None:
    # Tuesday 17:00 in Shanghai: response due 17:30 the same day, resolution (8 business
    # hours: 1 h Tuesday, then 7 h) Wednesday 17:30. Wednesday becomes a holiday.
    number = desk_with_p2_incident(store, sh(2026, 11, 24, 17, 0))
    assert due_times(store) == {
        "response": sh(2026, 11, 24, 17, 30),
        "resolution": sh(2026, 11, 25, 17, 30),
    }
    config = with_business_hours(holidays=(*business_hours().holidays, date(2026, 11, 25)))
    with store.read() as session:
        result = plan_config(session, config, now=sh(2026, 11, 24, 17, 10))
    assert result.moves is not None
    assert (result.moves.count, result.moves.earlier, result.moves.ticket) == (1, 0, number)
    assert result.moves.largest == timedelta(days=1)
    assert result.lines()[-2] == (
        f"1 open due times move (all later), the most by 1d: {number} due 2026-11-25 09:30 → "
        "2026-11-26 09:30 UTC"
    )
    assert due_times(store)["resolution"] == sh(2026, 11, 25, 17, 30)  # the dry run wrote nothing

    with store.write() as session:
        applied = apply_config(session, config, now=sh(2026, 11, 24, 17, 10))
    assert applied.moves == result.moves
    assert due_times(store) == {
        "response": sh(2026, 11, 24, 17, 30),
        "resolution": sh(2026, 11, 26, 17, 30),
    }
    with store.read() as session:
        assert session.scalar(select(Ticket.sla_due_at)) == sh(2026, 11, 24, 17, 30)
        assert plan_config(session, config, now=sh(2026, 11, 24, 17, 10)).is_empty
        # The ticket's timeline says where its due time went, and why.
        moved = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sla.due_moved")
        ).one()
        assert (moved.record_type, moved.record_number, moved.field) == (
            "ticket",
            number,
            "sla.resolution",
        )
        assert (moved.old_value, moved.new_value) == (
            sh(2026, 11, 25, 17, 30).isoformat(),
            sh(2026, 11, 26, 17, 30).isoformat(),
        )
        assert moved.reason == "desk file: calendar 'business-hours'"


def test_time_already_spent_stays_spent_when_its_day_becomes_a_holiday(store: Store) -> None:
    # Opened Tuesday 10:00; by Wednesday 09:30 the resolution clock has spent 7 h of 8 and
    # the response clock (30 min) ran out on Tuesday at 10:30, before any sweep saw it.
    desk_with_p2_incident(store, sh(2026, 11, 24, 10, 0))
    before = due_times(store)
    assert before == {"response": sh(2026, 11, 24, 10, 30), "resolution": sh(2026, 11, 25, 10, 30)}
    config = with_business_hours(holidays=(*business_hours().holidays, date(2026, 11, 24)))
    wednesday = sh(2026, 11, 25, 9, 30)
    with store.read() as session:
        moves = plan_config(session, config, now=wednesday).moves
    assert moves is not None and moves.count == 0
    with store.write() as session:
        apply_config(session, config, now=wednesday)
    assert due_times(store) == before
    with store.read() as session:
        breached = dict(session.execute(select(SlaClock.kind, SlaClock.breached_at)).all())
    assert breached == {"response": sh(2026, 11, 24, 10, 30), "resolution": None}


def test_a_make_up_saturday_brings_due_times_forward(store: Store) -> None:
    # Friday 27 November 17:00: resolution due Monday 17:30; working Saturday 28 November
    # on Monday's hours brings it to Saturday 17:30, and the response stays on Friday.
    number = desk_with_p2_incident(store, sh(2026, 11, 27, 17, 0))
    config = with_business_hours(workdays=(*business_hours().workdays, date(2026, 11, 28)))
    with store.read() as session:
        moves = plan_config(session, config, now=sh(2026, 11, 27, 17, 0)).moves
    assert moves is not None
    assert (moves.count, moves.earlier, moves.ticket) == (1, 1, number)
    assert (moves.old_due, moves.new_due) == (sh(2026, 11, 30, 17, 30), sh(2026, 11, 28, 17, 30))
    with store.write() as session:
        apply_config(session, config, now=sh(2026, 11, 27, 17, 0))
    assert due_times(store) == {
        "response": sh(2026, 11, 27, 17, 30),
        "resolution": sh(2026, 11, 28, 17, 30),
    }


def test_a_longer_target_moves_the_due_time_by_the_business_time_added(store: Store) -> None:
    desk_with_p2_incident(store, sh(2026, 11, 24, 17, 0))
    text = default_desk_text().replace("resolution_minutes = 480", "resolution_minutes = 600")
    with store.read() as session:
        moves = plan_config(session, load_desk_text(text), now=sh(2026, 11, 24, 17, 0)).moves
    # Two more business hours: Wednesday 17:30 becomes Thursday 10:30 (18:00 closes).
    assert moves is not None and moves.count == 1
    assert moves.new_due == sh(2026, 11, 26, 10, 30)


def test_a_change_no_open_clock_feels_moves_nothing(store: Store) -> None:
    desk_with_p2_incident(store, sh(2026, 11, 24, 17, 0))
    config = with_business_hours(holidays=(*business_hours().holidays, date(2027, 1, 1)))
    with store.read() as session:
        result = plan_config(session, config, now=sh(2026, 11, 24, 17, 0))
    assert result.moves is not None and result.moves.count == 0
    assert "No open due time moves." in result.lines()


def test_make_up_days_are_stored_shown_and_counted_by_the_clocks(store: Store) -> None:
    config = with_business_hours(workdays=(date(2026, 2, 14),), workdays_as="tue")
    apply(store, config)
    with store.read() as session:
        shown = next(c for c in read_config(session).calendars or () if c.name == "business-hours")
        assert (shown.workdays, shown.workdays_as) == ((date(2026, 2, 14),), "tue")
        row = session.scalars(
            select(BusinessCalendar).where(BusinessCalendar.name == "business-hours")
        ).one()
        assert row.workdays == ["2026-02-14"]
        saturday = calendar_of(row)
        assert is_working(saturday, sh(2026, 2, 14, 9, 0))
        assert not is_working(saturday, sh(2026, 2, 21, 9, 0))
    assert "workdays = [2026-02-14]" in dump_toml(config)
    assert 'workdays_as = "tue"' in dump_toml(config)
    with store.read() as session:
        assert plan_config(session, load_desk_text(dump_toml(config))).is_empty


def test_migration_0007_goes_down_and_up_with_breakdowns_and_make_up_days(store: Store) -> None:
    year = BudgetConfig("incident", date(2026, 1, 1), date(2026, 12, 31), Decimal("600000"))
    january = BudgetConfig("incident", date(2026, 1, 1), date(2026, 1, 31), Decimal("50000"))
    config = replace(load_default_desk(), budgets=(year, january))
    apply(store, config)
    alembic = alembic_config(store.engine)
    command.downgrade(alembic, "0006")
    store.engine.dispose()  # SQLite: no pooled connection holds the old schema
    with store.engine.connect() as conn:
        # The older key holds one budget per first day: the year stays, its January goes.
        ends = conn.execute(text("SELECT period_end FROM budgets")).scalars().all()
        assert [str(end)[:10] for end in ends] == ["2026-12-31"]
        columns = list(conn.execute(text("SELECT * FROM calendars WHERE 1 = 0")).keys())
        assert "workdays" not in columns
    command.upgrade(alembic, "head")
    store.engine.dispose()
    assert current_revision(store.engine) == head_revision()
    apply(store, config)
    with store.read() as session:
        assert plan_config(session, config).is_empty
        shown = read_config(session)
    assert shown.budgets == (year, january)
    assert (
        next(c for c in shown.calendars or () if c.workdays).workdays == business_hours().workdays
    )
