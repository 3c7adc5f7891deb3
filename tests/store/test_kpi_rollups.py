"""The KPI rollups (data/kpi/rollup.py) give every figure the base tables give: after the
seed, after writes through the desk and through raw SQL (the triggers mark the days),
after concurrent writers, after an import, and after the desk's zone moves its days.
Both databases.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import aliased

from itsm_tui.data.kpi import cut_named, kpi_report
from itsm_tui.data.kpi.period import Period, period_ending
from itsm_tui.data.kpi.rollup import coverage, refresh_rollups
from itsm_tui.data.models import (
    Agent,
    DeskSetting,
    KpiDay,
    KpiDirty,
    KpiRollup,
    SlaClock,
    Survey,
    Ticket,
)
from itsm_tui.data.seed import seed_store
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import assign_ticket, reopen_ticket, resolve_ticket, update_ticket
from itsm_tui.desk.measures import log_time, record_survey
from itsm_tui.desk.zones import desk_zone
from tests.conftest import _db_counter
from tests.store.test_seed import NOW, make_desk

CUTS = ({}, {"team": "Service Desk"}, {"service": "ERP"}, {"team": "Applications"})


@pytest.fixture
def other_store(store: Store, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A second migrated, empty store on the same database as `store`."""
    if store.is_sqlite:
        url = sqlite_url(tmp_path / "other.db")
    else:
        server = request.getfixturevalue("pg_server")
        url = server.create_database(f"itsm_rollup_{os.getpid()}_{next(_db_counter)}")
    other = open_store(url)
    try:
        yield other
    finally:
        other.dispose()


@pytest.fixture
def seeded(store: Store) -> Iterator[Store]:
    make_desk(store)
    seed_store(store, tickets=500, days=60, now=NOW)
    yield store


def figures(store: Store, *, rollups: bool, periods: tuple[str, ...] = ("365d", "30d", "7d")):
    """Every report's JSON document, for each period and cut."""
    out = {}
    with store.read() as session:
        session.info["kpi_rollups"] = rollups
        zone = desk_zone(session)
        for name in periods:
            period = period_ending(NOW, zone, name)
            for cut in CUTS:
                doc = kpi_report(session, period, cut_named(session, **cut), NOW).as_dict()
                out[(name, tuple(cut.items()))] = doc["kpis"]
    return out


def assert_rollups_agree(store: Store) -> None:
    with_rollups, from_tables = figures(store, rollups=True), figures(store, rollups=False)
    for key, kpis in from_tables.items():
        for name, kpi in kpis.items():
            assert with_rollups[key][name] == approx(kpi), (key, name)


def approx(doc: Any) -> Any:
    """Sums of floats in another order: equal to the last few bits."""
    if isinstance(doc, dict):
        return {k: approx(v) for k, v in doc.items()}
    if isinstance(doc, float):
        return pytest.approx(doc, rel=1e-9, abs=1e-9)
    return doc


def built_days(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(KpiDay)) or 0)


def dirty_marks(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(KpiDirty)) or 0)


def test_the_seed_leaves_every_day_unbuilt_and_one_refresh_builds_them(seeded: Store) -> None:
    assert built_days(seeded) == 0
    assert dirty_marks(seeded) == 0  # the seed's triggers were off, and it forgot the rollups
    built = refresh_rollups(seeded, NOW)
    assert built >= 60
    assert built_days(seeded) == built
    with seeded.read() as session:
        zone = desk_zone(session)
        cover = coverage(session, period_ending(NOW, zone, "30d"), NOW)
        rows = session.scalar(select(func.count()).select_from(KpiRollup))
    # Every day from the rollups, today's too: built up to now.
    assert (len(cover.days), cover.live) == (30, ())
    assert rows
    assert_rollups_agree(seeded)
    assert refresh_rollups(seeded, NOW) == 0  # nothing changed: nothing to build


def test_today_is_extended_from_the_last_refresh_and_writes_now_keep_it_clean(
    seeded: Store,
) -> None:
    earlier = NOW - timedelta(hours=2)
    refresh_rollups(seeded, earlier)
    with seeded.read() as session:
        zone = desk_zone(session)
        today = period_ending(NOW, zone, "today")
        cover = coverage(session, today, NOW)
    # Today's rollups up to the refresh, the two hours since from the tables.
    assert cover.days == (today.first_day,)
    assert cover.live == ((earlier, NOW),)
    assert_rollups_agree(seeded)
    number = open_numbers(seeded, 1, untouched_past=True)[0]
    at = NOW - timedelta(minutes=5)
    with seeded.write() as session:
        resolve_ticket(session, actor(session), number, code="fixed", notes="done", now=at)
    assert dirty_marks(seeded) > 0
    with seeded.read() as session:
        # A write after what the rollups cover leaves the day clean: the tables' stretch
        # holds it.
        assert coverage(session, today, NOW).days == (today.first_day,)
    assert_rollups_agree(seeded)
    assert refresh_rollups(seeded, NOW) == 1  # today extended, nothing else
    with seeded.read() as session:
        assert coverage(session, today, NOW).live == ()
    assert dirty_marks(seeded) == 0
    assert_rollups_agree(seeded)


def actor(session: Any) -> Agent:
    return session.scalars(select(Agent).where(Agent.roles.contains("admin"))).first()


def resolved_numbers(store: Store, days_ago: int, count: int) -> list[str]:
    with store.read() as session:
        return list(
            session.scalars(
                select(Ticket.number)
                .where(
                    Ticket.resolved_at < NOW - timedelta(days=days_ago),
                    Ticket.resolved_at >= NOW - timedelta(days=days_ago + 10),
                    Ticket.type == "incident",
                    Ticket.status == "resolved",  # not closed: it can be reassigned
                )
                .order_by(Ticket.id)
                .limit(count)
            )
        )


def open_numbers(store: Store, count: int, *, untouched_past: bool = False) -> list[str]:
    """Open incidents whose response clock stopped before today; `untouched_past`: never
    resolved and with no clock breached before today (resolving one moves its last
    resolution or stops a clock breached then: marks of a past day)."""
    breached = aliased(SlaClock)
    untouched = (
        Ticket.resolved_at.is_(None),
        ~exists(
            select(breached.id).where(
                breached.ticket_id == Ticket.id,
                breached.breached_at < NOW - timedelta(days=1),
            )
        ),
    )
    with store.read() as session:
        numbers = list(
            session.scalars(
                select(Ticket.number)
                .join(SlaClock, SlaClock.ticket_id == Ticket.id)
                .where(
                    Ticket.is_open.is_(True),
                    *(untouched if untouched_past else ()),
                    Ticket.type == "incident",
                    SlaClock.kind == "response",
                    SlaClock.stopped_at < NOW - timedelta(days=1),
                )
                .order_by(Ticket.id)
                .limit(count)
            )
        )
    assert len(numbers) == count
    return numbers


def test_desk_writes_on_past_days_mark_them_and_figures_stay_right(seeded: Store) -> None:
    refresh_rollups(seeded, NOW)
    numbers = resolved_numbers(seeded, 0, 4)
    assert len(numbers) == 4
    moving = open_numbers(seeded, 2)
    at = NOW - timedelta(hours=1)
    with seeded.write() as session:
        me = actor(session)
        # A reopening, a reassignment and a new resolution today; an open ticket's team and
        # priority changed after its response clock stopped on a past day; time and a
        # survey logged on past days: each moves figures of days already built.
        reopen_ticket(session, me, numbers[0], reason="back", now=at)
        assign_ticket(session, me, numbers[0], team="Infrastructure", now=at)
        resolve_ticket(session, me, numbers[0], code="fixed", notes="again", now=at)
        assign_ticket(session, me, moving[0], team="Infrastructure", now=at)
        update_ticket(session, me, moving[1], impact=1, urgency=1, now=at)
        log_time(session, me, numbers[2], 90, at=NOW - timedelta(days=15), now=at)
    with seeded.write() as session:
        unsurveyed = session.scalar(
            select(Ticket.number)
            .where(
                Ticket.resolved_at < NOW - timedelta(days=10),
                ~Ticket.id.in_(select(Survey.ticket_id)),
            )
            .limit(1)
        )
        record_survey(session, actor(session), unsurveyed, 2, at=NOW - timedelta(days=9), now=at)
    assert dirty_marks(seeded) > 0
    assert_rollups_agree(seeded)  # dirty days read from the tables
    refresh_rollups(seeded, NOW)
    assert dirty_marks(seeded) == 0
    assert_rollups_agree(seeded)  # and rebuilt


def test_raw_sql_writes_are_marked_by_the_triggers(seeded: Store) -> None:
    refresh_rollups(seeded, NOW)
    with seeded.write() as session:
        # What no desk function does: a clock's time and a ticket's team rewritten in SQL.
        clock_id = session.scalar(
            select(SlaClock.id)
            .where(SlaClock.stopped_at < NOW - timedelta(days=5), SlaClock.state == "met")
            .order_by(SlaClock.id)
            .limit(1)
        )
        session.execute(
            update(SlaClock).where(SlaClock.id == clock_id).values(spent_seconds=987_654)
        )
        ticket_id = session.scalar(
            select(Ticket.id).where(Ticket.resolved_at < NOW - timedelta(days=3)).limit(1)
        )
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(team_id=None))
    assert dirty_marks(seeded) > 0
    assert_rollups_agree(seeded)
    refresh_rollups(seeded, NOW)
    assert_rollups_agree(seeded)


def test_a_day_of_another_zone_is_not_read_and_is_rebuilt(seeded: Store) -> None:
    refresh_rollups(seeded, NOW)
    with seeded.write() as session:
        # The desk moves to a zone with DST: its local days are other instants.
        session.merge(DeskSetting(key="desk", value={"timezone": "Europe/London"}))
    with seeded.read() as session:
        zone = desk_zone(session)
        assert zone == ZoneInfo("Europe/London")
        assert coverage(session, period_ending(NOW, zone, "30d"), NOW).days == ()
    assert_rollups_agree(seeded)
    refresh_rollups(seeded, NOW)
    with seeded.read() as session:
        # 30 days across the end of British summer time (25 October 2026): one is 25 hours.
        period = Period(NOW.date() - timedelta(days=40), NOW.date() - timedelta(days=1), zone)
        assert len(coverage(session, period, NOW).days) == 40
    assert_rollups_agree(seeded)


def test_concurrent_writers_during_a_refresh_leave_it_right(seeded: Store) -> None:
    numbers = open_numbers(seeded, 3)
    errors: list[BaseException] = []

    def writer() -> None:
        # Team moves back and forth (each re-files the ticket's stopped clocks) and time
        # logged on past days, in their own transactions while the refresh builds.
        try:
            for i in range(8):
                for number in numbers:
                    with seeded.write() as session:
                        me = actor(session)
                        team = ("Infrastructure", "Applications")[i % 2]
                        assign_ticket(session, me, number, team=team, now=NOW)
                        log_time(session, me, number, 5, at=NOW - timedelta(days=i + 1), now=NOW)
        except BaseException as exc:  # the test reports it
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    refresh_rollups(seeded, NOW)
    thread.join()
    assert not errors
    assert_rollups_agree(seeded)  # what the refresh missed is still marked
    refresh_rollups(seeded, NOW)
    assert dirty_marks(seeded) == 0
    assert_rollups_agree(seeded)


def test_an_import_gives_rollups_equal_to_the_tables(
    store: Store, other_store: Store, tmp_path: Path
) -> None:
    from tests.cli.conftest import Itsm

    itsm = Itsm(store, agent="root")
    itsm.ok("init")
    itsm.ok("seed", "--tickets", "300", "--days", "60")
    desk_file, export = tmp_path / "desk.toml", tmp_path / "desk.jsonl"
    desk_file.write_text(itsm.ok("config", "show").stdout, encoding="utf-8")
    itsm.ok("export", "--output", str(export))
    moved = Itsm(other_store, agent="root")
    moved.ok("init")
    moved.ok("config", "apply", str(desk_file))
    refresh_rollups(other_store, NOW)
    moved.json("import", str(export))
    assert dirty_marks(other_store) > 0  # the import's rows went through the triggers
    assert_rollups_agree(other_store)
    refresh_rollups(other_store, NOW)
    assert built_days(other_store) >= 60
    assert_rollups_agree(other_store)
    # `itsm kpi` refreshes, then reads the rollups: the same document as the tables give.
    assert moved.json("kpi", "--period", "365d")["kpis"] == approx(
        figures(other_store, rollups=False, periods=("365d",))[("365d", ())]
    )
