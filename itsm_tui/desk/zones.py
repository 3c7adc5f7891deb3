"""Which time zone a person reads the desk's times in: one rule for every screen and the CLI."""

from __future__ import annotations

from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, BusinessCalendar
from itsm_tui.desk.records import desk_setting


def zone_named(name: str | None) -> tzinfo | None:
    """The IANA zone `name`, or None when it is empty or unknown to this machine."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def desk_zone(session: Session) -> tzinfo:
    """The zone of the desk's main calendar (`[desk] default_calendar`); else `[desk] timezone`.

    The main calendar is where the desk works, so an agent who set no zone of their own
    sees times as the desk's working day reads them; UTC only when the desk says nothing.
    """
    desk = desk_setting(session, "desk") or {}
    if not isinstance(desk, dict):
        desk = {}
    calendar_name = desk.get("default_calendar")
    if calendar_name:
        calendar_zone = session.scalars(
            select(BusinessCalendar.timezone).where(BusinessCalendar.name == calendar_name)
        ).first()
        zone = zone_named(calendar_zone)
        if zone is not None:
            return zone
    return zone_named(desk.get("timezone")) or UTC


def agent_zone(session: Session, agent: Agent | None) -> tzinfo:
    """The zone `agent` reads times in: their own (desk file `timezone`), else the desk's."""
    if agent is not None:
        own = zone_named(agent.timezone)
        if own is not None:
            return own
    return desk_zone(session)


def zone_label(zone: tzinfo) -> str:
    """How a zone is named to a person: its IANA key (`Asia/Shanghai`), `UTC` for UTC."""
    return "UTC" if zone is UTC else str(getattr(zone, "key", None) or zone)
