"""The CLI's text output reads in the agent's zone, by the same rule as the screens."""

from __future__ import annotations

from sqlalchemy import update

from itsm_tui.data.models import Agent, BusinessCalendar, DeskSetting
from tests.cli.conftest import Itsm


def test_text_output_uses_the_main_calendars_zone_then_the_agents_own(itsm: Itsm) -> None:
    itsm.json("ticket", "create", "--type", "incident", "--title", "VPN", "--impact", "2",
              "--urgency", "2")  # fmt: skip
    # Opened at the test's NOW, 09:30 UTC.
    assert "2026-11-24 09:30 UTC" in itsm.ok("ticket", "show", "INC0000001").stdout
    with itsm.store.write() as session:
        session.add(
            BusinessCalendar(name="office", timezone="Asia/Shanghai", hours={}, holidays=[])
        )
        session.merge(DeskSetting(key="desk", value={"name": "D", "default_calendar": "office"}))
    shown = itsm.ok("ticket", "show", "INC0000001").stdout
    assert "2026-11-24 17:30 CST" in shown and "09:30" not in shown
    assert "2026-11-24 17:30 CST" in itsm.ok("ticket", "list").stdout
    with itsm.store.write() as session:
        session.execute(
            update(Agent).where(Agent.username == "alice").values(timezone="Europe/Berlin")
        )
    assert "2026-11-24 10:30 CET" in itsm.ok("ticket", "show", "INC0000001").stdout
    # JSON stays UTC whatever the zone.
    assert itsm.json("ticket", "show", "INC0000001")["opened_at"].startswith("2026-11-24T09:30")
