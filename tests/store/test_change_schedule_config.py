"""The schedule's desk-file settings in the store: dependencies, maintenance windows and
recurring freezes applied, planned (dry run), shown and removed, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from itsm_tui.config import dump_toml, load_desk_text, read_config
from itsm_tui.config.load import default_desk_text
from itsm_tui.config.plan import apply_config, plan_config
from itsm_tui.data.change_schedule import find_conflicts, impacted_services
from itsm_tui.data.models import FreezeWindow, Service, ServiceDependency
from itsm_tui.data.store import Store
from tests.factories import NOW
from tests.store.schedule_scenarios import utc


def _apply(store: Store, text: str):  # type: ignore[no-untyped-def]
    with store.write() as session:
        return apply_config(session, load_desk_text(text, "desk.toml"), now=NOW)


def test_default_desk_applies_dependencies_windows_and_month_end_close(store: Store) -> None:
    _apply(store, default_desk_text())
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(ServiceDependency)) >= 10
        assert "Email and Calendar" in impacted_services(session, ["Identity and Access"])
        erp = session.scalar(select(Service).where(Service.name == "ERP"))
        assert [w["recurrence"] for w in erp.maintenance_windows] == ["FREQ=WEEKLY;BYDAY=SA"]
        close = session.scalar(select(FreezeWindow).where(FreezeWindow.name == "Month-end close"))
        assert close.recurrence == "FREQ=MONTHLY;BYMONTHDAY=-1"
        # Saturday 2027-02-27 22:00 Shanghai is inside ERP's window but the month-end
        # close holds from the 28th; Sunday 2027-03-07 is clear.
        at = utc(2027, 2, 27, 14)
        found = find_conflicts(session, services=["ERP"], start=at, end=at + timedelta(hours=3))
        assert [c.name for c in found] == ["Month-end close"]
        at = utc(2027, 3, 6, 14)
        assert (
            find_conflicts(session, services=["ERP"], start=at, end=at + timedelta(hours=3)) == []
        )


def test_dry_run_names_the_dependency_and_window_changes(store: Store) -> None:
    text = default_desk_text()
    _apply(store, text)
    intranet = 'owner_team = "Applications"\ndepends_on = ["Identity and Access"]\n\n'
    assert text.count(intranet) == 1
    changed = text.replace(
        intranet,
        'owner_team = "Applications"\n'
        'depends_on = ["File Storage and Backup", "Identity and Access"]\n\n',
    ).replace("BYMONTHDAY=-1", "BYMONTHDAY=-2")
    assert changed.count("BYMONTHDAY=-2") == 1 and 'Backup", "Identity' in changed
    with store.read() as session:
        lines = plan_config(session, load_desk_text(changed, "desk.toml")).lines()
    assert any(line.startswith("  ~ Intranet: depends_on") for line in lines), lines
    assert any("Month-end close: recurrence" in line and "BYMONTHDAY=-2" in line for line in lines)
    assert lines[-1] == "0 to create, 2 to update, 0 to remove, 0 to deactivate"
    # The dry run wrote nothing; applying does.
    with store.read() as session:
        assert impacted_services(session, ["File Storage and Backup"]).count("Intranet") == 0
    _apply(store, changed)
    with store.read() as session:
        assert "Intranet" in impacted_services(session, ["File Storage and Backup"])


def test_config_show_round_trips_windows_in_their_own_zone(store: Store) -> None:
    text = """\
[desk]
timezone = "Asia/Shanghai"

[[services]]
name = "Database"

[[services.maintenance_windows]]
name = "Sunday early"
starts_at = 2026-03-01T01:00:00+01:00
ends_at = 2026-03-01T05:00:00+01:00
recurrence = "FREQ=WEEKLY;BYDAY=SU"
timezone = "Europe/Berlin"

[[services]]
name = "Billing"
depends_on = ["Database"]

[[freeze_windows]]
name = "Month-end close"
starts_at = 2026-01-31T00:00:00+08:00
ends_at = 2026-02-02T09:00:00+08:00
recurrence = "FREQ=MONTHLY;BYMONTHDAY=-1"
services = ["Billing"]
"""
    _apply(store, text)
    with store.read() as session:
        shown = dump_toml(read_config(session))
    assert "[[services.maintenance_windows]]" in shown
    assert "starts_at = 2026-03-01 01:00:00+01:00" in shown  # Berlin's, not the desk's
    assert 'depends_on = ["Database"]' in shown
    assert 'recurrence = "FREQ=MONTHLY;BYMONTHDAY=-1"' in shown
    again = load_desk_text(shown, "shown.toml")
    with store.read() as session:
        assert plan_config(session, again).is_empty


def test_removing_services_takes_their_dependencies_along(store: Store) -> None:
    base = """\
[[services]]
name = "Database"

[[services]]
name = "Billing"
depends_on = ["Database"]
"""
    _apply(store, base)
    _apply(store, "services = []\n")
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(ServiceDependency)) == 0
        assert session.scalar(select(func.count()).select_from(Service)) == 0
