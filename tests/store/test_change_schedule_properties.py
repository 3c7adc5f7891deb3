"""find_conflicts, next_free_slot and the calendar's conflict marks against a brute-force
oracle: random dependency graphs, maintenance windows, one-off and recurring freezes (in a
zone with a DST change inside the range) and changes, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from itsm_tui.data.change_schedule import calendar, find_conflicts, next_free_slot
from itsm_tui.data.models import Agent
from tests.factories import NOW
from tests.store.schedule_scenarios import (
    ChangeSpec,
    FreezeSpec,
    MaintenanceSpec,
    Scenario,
    ensure_services,
    install,
)

NAMES = ("S0", "S1", "S2", "S3", "S4")
# Berlin leaves summer time on 2026-10-25: the range crosses it.
BASE = datetime(2026, 10, 22, tzinfo=UTC)
DAYS = 8
HOUR = timedelta(hours=1)
RULES = ("FREQ=DAILY", "FREQ=DAILY;INTERVAL=2", "FREQ=WEEKLY;BYDAY=SA,SU", "FREQ=WEEKLY;BYDAY=MO")
ZONES = ("UTC", "Europe/Berlin")
STATUSES = ("draft", "authorization", "scheduled", "implementing", "closed", "cancelled")
HOLDING = {"authorization", "scheduled", "implementing"}
IMPLEMENTERS = (None, "alice", "nina")


def _at(hours: int) -> datetime:
    return BASE + timedelta(hours=hours)


@st.composite
def _local_window(draw, name: str):  # type: ignore[no-untyped-def]
    """A window on whole local hours of its zone, maybe recurring."""
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.integers(-3, DAYS - 1))
    hour = draw(st.integers(0, 23))
    length = draw(st.integers(1, 14))
    start = datetime(2026, 10, 22, tzinfo=ZoneInfo(zone)) + timedelta(days=day, hours=hour)
    start = start.replace(tzinfo=ZoneInfo(zone))
    end = (start.replace(tzinfo=None) + timedelta(hours=length)).replace(tzinfo=ZoneInfo(zone))
    rule = draw(st.one_of(st.none(), st.sampled_from(RULES)))
    return name, start.astimezone(UTC), end.astimezone(UTC), rule, zone


@st.composite
def scenarios(draw):  # type: ignore[no-untyped-def]
    # A random DAG: a service may only depend on services listed before it.
    deps = tuple(
        (NAMES[i], NAMES[j])
        for i in range(len(NAMES))
        for j in range(i)
        if draw(st.integers(0, 3)) == 0
    )
    maintenance = {}
    for name in NAMES:
        if draw(st.integers(0, 2)) == 0:
            windows = []
            for k in range(draw(st.integers(1, 2))):
                n, s, e, rule, zone = draw(_local_window(f"{name}-m{k}"))
                windows.append(MaintenanceSpec(n, s, e, rule, zone))
            maintenance[name] = tuple(windows)
    freezes = []
    for k in range(draw(st.integers(0, 3))):
        n, s, e, rule, zone = draw(_local_window(f"F{k}"))
        scope = tuple(draw(st.lists(st.sampled_from(NAMES), max_size=2, unique=True)))
        freezes.append(FreezeSpec(n, s, e, scope, rule, zone))
    changes = []
    for k in range(draw(st.integers(0, 8))):
        start = draw(st.integers(0, DAYS * 24 - 2))
        length = draw(st.integers(1, 8))
        changes.append(
            ChangeSpec(
                f"CHG{k:07d}",
                tuple(draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2, unique=True))),
                _at(start),
                _at(start + length),
                draw(st.sampled_from(STATUSES)),
                draw(st.sampled_from(IMPLEMENTERS)),
            )
        )
    return Scenario(deps, maintenance, tuple(freezes), tuple(changes))


@st.composite
def questions(draw):  # type: ignore[no-untyped-def]
    start = draw(st.integers(0, DAYS * 24 - 2))
    return (
        tuple(draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2, unique=True))),
        start,
        draw(st.integers(1, 6)),
        draw(st.sampled_from(IMPLEMENTERS)),
    )


# ---------------------------------------------------------------------------
# The oracle: every occurrence enumerated from the first, every change compared with every
# other, maintenance checked hour by hour.


def _oracle_occurrences(start, end, rule, zone, until):  # type: ignore[no-untyped-def]
    yield start, end
    if not rule:
        return
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    wall = end.astimezone(tz).replace(tzinfo=None) - local.replace(tzinfo=None)
    for occ in rrulestr(rule, dtstart=local):
        if occ.astimezone(UTC) > until:
            return
        s = occ.astimezone(UTC)
        e = (occ.replace(tzinfo=None) + wall).replace(tzinfo=tz).astimezone(UTC)
        if (s, e) != (start, end):
            yield s, e


def _close(names, edges):  # type: ignore[no-untyped-def]
    found = set(names)
    grew = True
    while grew:
        grew = False
        for a, b in edges:
            if a in found and b not in found:
                found.add(b)
                grew = True
    return found


def oracle(scn: Scenario, services, start, end, implementer, exclude=None):  # type: ignore[no-untyped-def]
    dependents = [(b, a) for a, b in scn.dependencies]  # b is depended on by a
    impacted = _close(services, dependents)
    upstream = _close(services, scn.dependencies)
    found = set()
    for f in scn.freezes:
        if f.services and not set(f.services) & impacted:
            continue
        for s, e in _oracle_occurrences(f.starts_at, f.ends_at, f.recurrence, f.timezone, end):
            if s < end and start < e:
                found.add(("freeze", f.name, s, e))
    for c in scn.changes:
        if c.number == exclude or c.status not in HOLDING:
            continue
        if not (c.starts_at < end and start < c.ends_at):
            continue
        if set(c.services) & (impacted | upstream):
            found.add(("change", c.number, c.starts_at, c.ends_at))
        if implementer is not None and c.implementer == implementer:
            found.add(("implementer", c.number, c.starts_at, c.ends_at))
    for name in set(services):
        windows = scn.maintenance.get(name)
        if not windows:
            continue
        occ = [
            o
            for w in windows
            for o in _oracle_occurrences(w.starts_at, w.ends_at, w.recurrence, w.timezone, end)
        ]
        t = start
        while t < end:
            if not any(s <= t < e for s, e in occ):
                found.add(("maintenance", name, start, end))
                break
            t += HOUR
    return found


def _ids(session):  # type: ignore[no-untyped-def]
    return {u: i for u, i in session.execute(select(Agent.username, Agent.id))}


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scn=scenarios(), asks=st.lists(questions(), min_size=1, max_size=3))
def test_find_conflicts_matches_the_brute_force_oracle(desk, scn, asks) -> None:  # type: ignore[no-untyped-def]
    with desk.store.write() as session:
        ensure_services(session, NAMES)
        install(session, scn, now=NOW)
    with desk.store.read() as session:
        agents = _ids(session)
        for services, start, length, implementer in asks:
            s, e = _at(start), _at(start + length)
            got = find_conflicts(
                session,
                services=list(services),
                start=s,
                end=e,
                implementer_id=agents[implementer] if implementer else None,
            )
            assert {(c.kind, c.name, c.starts_at, c.ends_at) for c in got} == oracle(
                scn, services, s, e, implementer
            )
            assert len(got) == len({(c.kind, c.name, c.starts_at) for c in got})
            assert all(c.message for c in got)
        # Every change the calendar shows is marked exactly when the oracle finds a conflict.
        cal = calendar(session, start=_at(0), end=_at(DAYS * 24))
        by_number = {c.number: c for c in scn.changes}
        for row in cal.rows:
            for item in row.changes:
                spec = by_number[item.number]
                assert item.in_conflict == bool(
                    oracle(
                        scn,
                        spec.services,
                        spec.starts_at,
                        spec.ends_at,
                        spec.implementer,
                        exclude=spec.number,
                    )
                ), item.number
        shown = {c.number for row in cal.rows for c in row.changes}
        assert shown == {c.number for c in scn.changes if c.status != "cancelled"}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scn=scenarios(), ask=questions())
def test_next_free_slot_is_free_and_earliest(desk, scn, ask) -> None:  # type: ignore[no-untyped-def]
    services, start, length, implementer = ask
    horizon = timedelta(days=4)
    duration = length * HOUR
    after = _at(start)
    with desk.store.write() as session:
        ensure_services(session, NAMES)
        install(session, scn, now=NOW)
    with desk.store.read() as session:
        agents = _ids(session)
        slot = next_free_slot(
            session,
            services=list(services),
            duration=duration,
            after=after,
            implementer_id=agents[implementer] if implementer else None,
            horizon=horizon,
        )
    # Every boundary lies on a whole hour: the earliest free start is one of them.
    expected = None
    t = after
    while t + duration <= after + horizon:
        if not oracle(scn, services, t, t + duration, implementer):
            expected = (t, t + duration)
            break
        t += HOUR
    assert slot == expected
