"""The escalation sweep on SQLite and PostgreSQL: warnings, breach and escalation levels
fire once each at the right instant, whatever the number of sweeps; notices wait for
working time; paused and resolved clocks stay quiet.

Desk: tests/sla_desk.py (default desk; tia tier-1 agent, sue supervises Service Desk and
is the desk manager, eve and dan (supervisor) in Desktop Support, the escalation team).
A P3 incident opened Tuesday 2026-11-24 09:30 Shanghai, worked out by hand:

| clock      | 50%            | 75%              | 100% (breach, L1) | 150% (L2)      |
|------------|----------------|------------------|-------------------|----------------|
| response   | Tue 11:30      | Tue 14:00        | Tue 15:00         | Tue 17:00      |
| resolution | Wed 14:45      | Thu 11:22:30     | Fri 09:30         | Mon 30th 14:45 |

The response clock's level 2 (Tue 17:00) raises the ticket to P2, which re-targets both
clocks: the response clock (30 min) ran out at Tue 10:00; the resolution clock has spent
360 of P2's 480 minutes, so both its warnings are due at once, its breach and level 1
at Wed 10:00, its level 2 (720 min) at Wed 15:30.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from itsm_tui.data.models import AuditEvent, Escalation, Notification, SlaClock, Ticket
from itsm_tui.data.store import Store
from itsm_tui.desk import (
    Conflict,
    add_comment,
    resolve_ticket,
    transition_ticket,
    update_ticket,
)
from itsm_tui.desk.records import get_agent, get_ticket
from itsm_tui.escalation.sweep import SweepResult
from tests.conftest import BACKENDS
from tests.sla_desk import (
    build_sla_desk,
    clocks,
    create,
    desk_store,
    desk_text,
    local,
    notification_rows,
    run_sweep,
    ticket,
)

TUE_0930 = local(2026, 11, 24, 9, 30)

RESPONSE_50 = local(2026, 11, 24, 11, 30)
RESPONSE_75 = local(2026, 11, 24, 14, 0)
RESPONSE_100 = local(2026, 11, 24, 15, 0)
RESPONSE_150 = local(2026, 11, 24, 17, 0)
RESOLUTION_50 = local(2026, 11, 25, 14, 45)
RESOLUTION_75 = local(2026, 11, 26, 11, 22) + timedelta(seconds=30)
RESOLUTION_100 = local(2026, 11, 27, 9, 30)
RESOLUTION_150 = local(2026, 11, 30, 14, 45)
# After the raise to P2 at RESPONSE_150 (see the module's docstring).
RESPONSE_P2_100 = local(2026, 11, 24, 10, 0)
RESOLUTION_P2_100 = local(2026, 11, 25, 10, 0)
RESOLUTION_P2_150 = local(2026, 11, 25, 15, 30)
THRESHOLDS = (
    RESPONSE_50,
    RESPONSE_75,
    RESPONSE_100,
    RESPONSE_150,
    RESOLUTION_50,
    RESOLUTION_75,
    RESOLUTION_100,
    RESOLUTION_150,
    RESOLUTION_P2_100,
    RESOLUTION_P2_150,
)


@pytest.fixture(params=BACKENDS)
def sla_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Like `store` (each backend in turn), with the default desk and agents in it."""
    yield from desk_store(request, tmp_path)


def p3(store: Store, at: datetime = TUE_0930, **kwargs: Any) -> str:
    return create(store, at, impact=2, urgency=2, **kwargs)


def move(store: Store, number: str, status: str, at: datetime) -> None:
    with store.write() as session:
        transition_ticket(session, get_agent(session, "tia"), number, status, now=at)


def grid(start: datetime, end: datetime, step: timedelta, extra: Iterable[datetime] = ()) -> list:
    """Sweep instants from start to end every `step`, plus `extra` twice each, in order."""
    instants = []
    at = start
    while at <= end:
        instants.append(at)
        at += step
    instants += [x for x in extra if start <= x <= end] * 2
    return sorted(instants)


def sweep_all(store: Store, instants: Iterable[datetime]) -> SweepResult:
    """Run one sweep per instant; everything they did, merged."""
    total = SweepResult()
    for at in instants:
        one = run_sweep(store, at)
        total.warned += one.warned
        total.breached += one.breached
        total.escalated += one.escalated
        total.notifications += one.notifications
    return total


def fired(store: Store, number: str) -> list[tuple[str, str, int, datetime]]:
    """(clock kind, event kind, level, at) of the ticket's escalation rows, in order."""
    with store.read() as session:
        t = get_ticket(session, number)
        rows = session.execute(
            select(SlaClock.kind, Escalation.kind, Escalation.level, Escalation.at)
            .join(SlaClock, SlaClock.id == Escalation.clock_id)
            .where(Escalation.ticket_id == t.id)
            .order_by(Escalation.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def notices(store: Store) -> list[tuple[Any, ...]]:
    with store.read() as session:
        return notification_rows(session)


def escalation_audit(store: Store, number: str) -> list[tuple[Any, ...]]:
    with store.read() as session:
        t = get_ticket(session, number)
        rows = session.execute(
            select(
                AuditEvent.at,
                AuditEvent.actor_id,
                AuditEvent.field,
                AuditEvent.old_value,
                AuditEvent.new_value,
                AuditEvent.reason,
                AuditEvent.record_version,
            )
            .where(AuditEvent.record_id == t.id, AuditEvent.action == "escalation")
            .order_by(AuditEvent.id)
        ).all()
    return [tuple(r) for r in rows]


FULL_LIFE = [
    ("response", "warning", 50, RESPONSE_50),
    ("response", "warning", 75, RESPONSE_75),
    ("response", "breach", 0, RESPONSE_100),
    ("response", "escalation", 1, RESPONSE_100),
    ("response", "escalation", 2, RESPONSE_150),
    # Re-targeted to P2 by the level-2 raise: 75% spent, both warnings at once.
    ("resolution", "warning", 50, RESPONSE_150),
    ("resolution", "warning", 75, RESPONSE_150),
    ("resolution", "breach", 0, RESOLUTION_P2_100),
    ("resolution", "escalation", 1, RESOLUTION_P2_100),
    ("resolution", "escalation", 2, RESOLUTION_P2_150),
]


def full_life_notices(number: str, at: dict[str, datetime] | None = None) -> list:
    """What the P3 incident assigned to tia gets told over its whole life."""
    at = at or {}

    def when(name: str, default: datetime) -> datetime:
        return at.get(name, default)

    ds = "Desktop Support"
    rows = [
        ("tia", None, "warning", number, when("r50", RESPONSE_50)),
        ("tia", None, "warning", number, when("r75", RESPONSE_75)),
        # Breach: to the assignee; level 1: the supervisor, then the team it moved to.
        ("tia", None, "breach", number, when("r100", RESPONSE_100)),
        ("sue", None, "escalation", number, when("r100", RESPONSE_100)),
        (None, ds, "escalation", number, when("r100", RESPONSE_100)),
        # Level 2: the desk manager (supervisor of the first line).
        ("sue", None, "escalation", number, when("r150", RESPONSE_150)),
        # Nobody holds it now: the resolution clock's notices go to the team and its
        # supervisor; the ticket is not reassigned again.
        (None, ds, "warning", number, when("s50", RESPONSE_150)),
        (None, ds, "warning", number, when("s75", RESPONSE_150)),
        (None, ds, "breach", number, when("s100", RESOLUTION_P2_100)),
        ("dan", None, "escalation", number, when("s100", RESOLUTION_P2_100)),
        ("sue", None, "escalation", number, when("s150", RESOLUTION_P2_150)),
    ]
    return sorted(rows, key=repr)


# ---------------------------------------------------------------------------
# Warnings


def test_warnings_fire_once_each_at_50_and_75_percent_however_many_sweeps_run(
    sla_store: Store,
) -> None:
    number = p3(sla_store, assignee="tia")
    just_before = [RESPONSE_50 - timedelta(seconds=1), RESPONSE_75 - timedelta(seconds=1)]
    instants = grid(
        TUE_0930,
        RESPONSE_100 - timedelta(seconds=1),
        timedelta(minutes=10),
        extra=[RESPONSE_50, RESPONSE_75, *just_before],
    )
    assert len(instants) > 40
    done = sweep_all(sla_store, instants)
    assert done.warned == [
        {"number": number, "kind": "response", "threshold": 50},
        {"number": number, "kind": "response", "threshold": 75},
    ]
    assert done.breached == done.escalated == []
    assert fired(sla_store, number) == [
        ("response", "warning", 50, RESPONSE_50),
        ("response", "warning", 75, RESPONSE_75),
    ]
    assert notices(sla_store) == [
        ("tia", None, "warning", number, RESPONSE_50),
        ("tia", None, "warning", number, RESPONSE_75),
    ]
    response = clocks(sla_store, number)["response"]
    assert (response.fired_percent, response.warnings_fired) == (75, 2)
    assert response.next_event_at == RESPONSE_100
    assert response.state == "running"


def test_warning_notifies_the_team_when_nobody_is_assigned(sla_store: Store) -> None:
    number = p3(sla_store)
    run_sweep(sla_store, RESPONSE_50)
    assert notices(sla_store) == [(None, "Service Desk", "warning", number, RESPONSE_50)]


# ---------------------------------------------------------------------------
# Breach and escalation levels


def test_breach_and_each_escalation_level_fire_once_at_their_instants(sla_store: Store) -> None:
    number = p3(sla_store, assignee="tia")
    before = ticket(sla_store, number)
    assert (before.status, before.team.name, before.priority) == ("assigned", "Service Desk", 3)
    instants = grid(TUE_0930, local(2026, 11, 30, 18, 0), timedelta(minutes=30), extra=THRESHOLDS)
    done = sweep_all(sla_store, instants)

    assert fired(sla_store, number) == FULL_LIFE
    assert done.breached == [
        {"number": number, "kind": "response"},
        {"number": number, "kind": "resolution"},
    ]
    assert done.escalated == [
        {"number": number, "kind": kind, "level": level}
        for kind in ("response", "resolution")
        for level in (1, 2)
    ]
    got = clocks(sla_store, number)
    # Both clocks are judged by P2's targets now: the response ran out at 10:00.
    assert got["response"].breached_at == got["response"].due_at == RESPONSE_P2_100
    assert got["resolution"].breached_at == got["resolution"].due_at == RESOLUTION_P2_100
    assert (got["response"].target_minutes, got["resolution"].target_minutes) == (30, 480)
    assert got["response"].state == got["resolution"].state == "breached"
    assert got["response"].escalation_level == got["resolution"].escalation_level == 2
    # Nothing left to fire: the sweep no longer sees these clocks.
    assert got["response"].next_event_at is None and got["resolution"].next_event_at is None

    after = ticket(sla_store, number)
    # Level 1 reassigned to the escalation team and cleared the assignee; level 2 raised
    # the priority once, although both clocks reached level 2.
    assert after.team.name == "Desktop Support"
    assert after.assignee_id is None
    assert after.status == "new"
    assert after.priority == 2
    assert after.escalation_level == 2
    assert after.version == before.version + 2  # one write per ticket level

    assert notices(sla_store) == full_life_notices(number)
    level_1 = "rule Breach: 100% of the response target"
    level_2 = "rule Long breach: 150% of the response target"
    v = before.version
    assert escalation_audit(sla_store, number) == [
        (RESPONSE_100, None, "escalation_level", "0", "1", level_1, v + 1),
        (RESPONSE_100, None, "team", "Service Desk", "Desktop Support", level_1, v + 1),
        (RESPONSE_100, None, "assignee", "tia", None, level_1, v + 1),
        (RESPONSE_100, None, "status", "assigned", "new", level_1, v + 1),
        (RESPONSE_150, None, "escalation_level", "1", "2", level_2, v + 2),
        (RESPONSE_150, None, "priority", "P3", "P2", level_2, v + 2),
    ]
    with sla_store.read() as session:
        reasons = dict(
            session.execute(
                select(Escalation.level, Escalation.reason).where(
                    Escalation.kind == "escalation", Escalation.clock_id == got["response"].id
                )
            ).all()
        )
        actions = session.scalars(
            select(Escalation.actions).where(Escalation.kind == "escalation", Escalation.level == 1)
        ).all()
    assert reasons == {1: level_1, 2: level_2}
    assert actions == [["notify_supervisor", "reassign_escalation_team"]] * 2


def test_sweep_after_a_long_outage_fires_all_past_thresholds_in_order_in_one_go(
    sla_store: Store,
) -> None:
    number = p3(sla_store, assignee="tia")
    version = ticket(sla_store, number).version
    back = local(2026, 11, 30, 15, 0)  # Monday afternoon: every threshold is past
    done = run_sweep(sla_store, back)
    assert done.as_dict() == {
        "warned": [
            {"number": number, "kind": "response", "threshold": 50},
            {"number": number, "kind": "response", "threshold": 75},
            {"number": number, "kind": "resolution", "threshold": 50},
            {"number": number, "kind": "resolution", "threshold": 75},
        ],
        "breached": [
            {"number": number, "kind": "response"},
            {"number": number, "kind": "resolution"},
        ],
        "escalated": [
            {"number": number, "kind": "response", "level": 1},
            {"number": number, "kind": "response", "level": 2},
            {"number": number, "kind": "resolution", "level": 1},
            {"number": number, "kind": "resolution", "level": 2},
        ],
        "paged": [],
    }
    # Rows in firing order, all stamped with the sweep's instant; the breach itself is
    # dated when the target ran out, not when the sweeper came back.
    assert fired(sla_store, number) == [(c, k, lvl, back) for c, k, lvl, _ in FULL_LIFE]
    got = clocks(sla_store, number)
    # Fired under P3, then re-targeted by the raise: dated when P2's targets ran out.
    assert got["response"].breached_at == RESPONSE_P2_100
    assert got["resolution"].breached_at == RESOLUTION_P2_100
    after = ticket(sla_store, number)
    assert (after.team.name, after.assignee_id, after.priority) == ("Desktop Support", None, 2)
    assert (after.escalation_level, after.version) == (2, version + 1)  # one write
    # The warnings are recorded but, overtaken by the breach in the same sweep, not sent.
    everything_now = dict.fromkeys(("r100", "r150", "s100", "s150"), back)
    sent = [n for n in full_life_notices(number, everything_now) if n[2] != "warning"]
    assert notices(sla_store) == sent
    assert done.notifications == len(sent) == 7
    # Again at once, and much later: nothing more.
    assert run_sweep(sla_store, back).empty
    assert run_sweep(sla_store, local(2027, 6, 1)).empty
    assert len(fired(sla_store, number)) == 10


def test_paused_clock_fires_nothing_while_paused_and_then_fires_at_shifted_times(
    sla_store: Store,
) -> None:
    number = p3(sla_store, assignee="tia")
    move(sla_store, number, "pending", local(2026, 11, 24, 10, 30))  # 60 min spent
    resumed = local(2026, 11, 25, 14, 30)  # Wednesday
    quiet = grid(
        local(2026, 11, 24, 10, 30),
        resumed - timedelta(seconds=1),
        timedelta(minutes=20),
        extra=THRESHOLDS,
    )
    assert sweep_all(sla_store, quiet).empty
    assert fired(sla_store, number) == []

    move(sla_store, number, "assigned", resumed)
    # Response: 60 of 240 spent; 50% (120) an hour later, 75% two, the breach three
    # (Wed 17:30), 150% (360) after 300 more: 210 on Wednesday, 90 on Thursday → 10:30.
    level_2 = local(2026, 11, 26, 10, 30)
    shifted = [
        ("response", "warning", 50, local(2026, 11, 25, 15, 30)),
        ("response", "warning", 75, local(2026, 11, 25, 16, 30)),
        ("response", "breach", 0, local(2026, 11, 25, 17, 30)),
        ("response", "escalation", 1, local(2026, 11, 25, 17, 30)),
        ("response", "escalation", 2, level_2),
        # Level 2 raised it to P2: the resolution clock has spent 60 + 210 + 90 = 360 of
        # P2's 480 minutes (the pause still excluded), so both warnings are due at once.
        ("resolution", "warning", 50, level_2),
        ("resolution", "warning", 75, level_2),
    ]
    sweep_all(
        sla_store,
        grid(resumed, local(2026, 11, 26, 11, 0), timedelta(minutes=15), [s[3] for s in shifted]),
    )
    assert fired(sla_store, number) == shifted
    resolution = clocks(sla_store, number)["resolution"]
    # The last 120 minutes from Thu 10:30: 90 before lunch, 30 after → Thu 14:00.
    assert resolution.due_at == resolution.next_event_at == local(2026, 11, 26, 14, 0)


def test_ticket_resolved_before_its_due_time_is_never_escalated(sla_store: Store) -> None:
    number = p3(sla_store, assignee="tia")
    run_sweep(sla_store, RESPONSE_50)  # the 50% warning of the response clock
    with sla_store.write() as session:
        resolve_ticket(
            session, get_agent(session, "tia"), number, code="fixed", notes="ok", now=RESPONSE_75
        )
    later = grid(RESPONSE_75, local(2026, 12, 31), timedelta(hours=6), extra=THRESHOLDS)
    assert sweep_all(sla_store, later).empty
    assert fired(sla_store, number) == [("response", "warning", 50, RESPONSE_50)]
    after = ticket(sla_store, number)
    assert (after.team.name, after.assignee.username, after.escalation_level) == (
        "Service Desk",
        "tia",
        0,
    )
    assert {c.state for c in clocks(sla_store, number).values()} == {"met"}


# ---------------------------------------------------------------------------
# When notices are delivered


def test_business_hours_breach_at_friday_close_is_delivered_monday_morning_and_pages_at_once(
    store: Store,
) -> None:
    # The default desk, with the P2–P4 level-1 rule also paging on-call.
    text = desk_text().replace(
        'actions = ["notify_supervisor", "reassign_escalation_team"]',
        'actions = ["page_on_call", "notify_supervisor", "reassign_escalation_team"]',
        1,
    )
    assert '"page_on_call", "notify_supervisor"' in text
    build_sla_desk(store, text)
    # P4: a response target of one business day; opened Friday 09:00, due Friday 18:00.
    number = create(store, local(2026, 11, 27, 9, 0), impact=2, urgency=3, assignee="tia")
    friday_close = local(2026, 11, 27, 18, 0)
    assert clocks(store, number)["response"].due_at == friday_close
    run_sweep(store, local(2026, 11, 27, 17, 0))  # both warnings, in working time
    done = run_sweep(store, friday_close)
    assert done.breached == [{"number": number, "kind": "response"}]
    assert done.escalated == [{"number": number, "kind": "response", "level": 1}]
    monday_0900 = local(2026, 11, 30, 9, 0)
    assert notices(store) == sorted(
        [
            ("tia", None, "warning", number, local(2026, 11, 27, 17, 0)),
            ("tia", None, "warning", number, local(2026, 11, 27, 17, 0)),
            ("tia", None, "breach", number, monday_0900),
            (None, "Service Desk", "page", number, friday_close),
            ("sue", None, "page", number, friday_close),
            ("sue", None, "escalation", number, monday_0900),
            (None, "Desktop Support", "escalation", number, monday_0900),
        ],
        key=repr,
    )
    with store.read() as session:
        created = set(
            session.scalars(
                select(Notification.created_at).where(
                    Notification.kind != "warning", Notification.kind != "assignment"
                )
            )
        )
    assert created == {friday_close}  # created at the breach, delivered when someone works


def test_breach_at_night_on_a_24x7_calendar_is_delivered_at_once(sla_store: Store) -> None:
    opened = local(2026, 11, 24, 2, 45)
    number = create(sla_store, opened, impact=1, urgency=1, assignee="tia")
    three_am = local(2026, 11, 24, 3, 0)
    done = run_sweep(sla_store, three_am)
    assert done.breached == [{"number": number, "kind": "response"}]
    rows = notices(sla_store)
    assert {r[4] for r in rows} == {three_am}
    # Breach to tia; level 1: supervisor, the new team, two pages. The two warnings the
    # breach overtook in this sweep are recorded, not sent.
    assert sorted(r[2] for r in rows) == ["breach", "escalation", "escalation", "page", "page"]
    assert done.warned == [
        {"number": number, "kind": "response", "threshold": 50},
        {"number": number, "kind": "response", "threshold": 75},
    ]


def test_p1_page_after_reassignment_reaches_the_team_that_now_holds_the_ticket(
    sla_store: Store,
) -> None:
    """Level 1 of a P1: the old team's supervisor is told, the ticket moves to the
    escalation team, and the page goes to that team and ITS supervisor (who must act)."""
    opened = local(2026, 11, 24, 2, 45)
    create(sla_store, opened, impact=1, urgency=1, assignee="tia")
    run_sweep(sla_store, local(2026, 11, 24, 3, 0))
    pages = {(r[0], r[1]) for r in notices(sla_store) if r[2] == "page"}
    assert pages == {("dan", None), (None, "Desktop Support")}
    told = [(r[0], r[1]) for r in notices(sla_store) if r[2] == "escalation"]
    assert ("sue", None) in told


# ---------------------------------------------------------------------------
# Result shape and what the write path sees afterwards


def test_sweep_result_as_dict_shape(sla_store: Store) -> None:
    opened = local(2026, 11, 24, 2, 0)
    number = create(sla_store, opened, impact=1, urgency=1, assignee="tia")  # P1, 24x7
    assert run_sweep(sla_store, opened).as_dict() == {
        "warned": [],
        "breached": [],
        "escalated": [],
        "paged": [],
    }
    done = run_sweep(sla_store, opened + timedelta(minutes=15))
    assert done.as_dict() == {
        "warned": [
            {"number": number, "kind": "response", "threshold": 50},
            {"number": number, "kind": "response", "threshold": 75},
        ],
        "breached": [{"number": number, "kind": "response"}],
        "escalated": [{"number": number, "kind": "response", "level": 1}],
        "paged": [],
    }
    # The breach to tia, the supervisor, the new team, two pages (the overtaken warnings
    # are recorded, not sent).
    assert done.notifications == 5
    assert not done.empty


def test_agent_holding_a_stale_version_after_an_escalation_gets_conflict(
    sla_store: Store,
) -> None:
    number = p3(sla_store, assignee="tia")
    loaded = ticket(sla_store, number).version  # tia's screen has this version
    run_sweep(sla_store, RESPONSE_100)  # level 1: reassigned to Desktop Support
    with pytest.raises(Conflict) as caught, sla_store.write() as session:
        update_ticket(
            session,
            get_agent(session, "tia"),
            number,
            title="tia's edit",
            expected_version=loaded,
            now=RESPONSE_100 + timedelta(minutes=5),
        )
    conflict = caught.value
    assert conflict.current_version == loaded + 1
    assert {(c.actor, c.field, c.new) for c in conflict.changes} >= {
        ("the desk", "team", "Desktop Support"),
        ("the desk", "assignee", None),
    }
    after = ticket(sla_store, number)
    assert after.title != "tia's edit"
    assert after.version == loaded + 1


def test_reply_after_escalation_leaves_the_fired_events_alone(sla_store: Store) -> None:
    number = p3(sla_store, assignee="tia")
    run_sweep(sla_store, RESPONSE_100)
    with sla_store.write() as session:
        add_comment(
            session, get_agent(session, "eve"), number, "on it", kind="reply", now=RESPONSE_150
        )
    assert run_sweep(sla_store, RESPONSE_150).empty  # the response clock stopped
    response = clocks(sla_store, number)["response"]
    assert (response.state, response.escalation_level) == ("breached", 1)
    with sla_store.read() as session:
        total = session.scalar(select(func.count()).select_from(Escalation))
        level = session.scalar(select(Ticket.escalation_level).where(Ticket.number == number))
    assert (total, level) == (4, 1)


# ---------------------------------------------------------------------------
# Bugs found by this suite (kept apart so each can be fixed on its own)


def test_retarget_to_a_policy_with_other_warning_thresholds_keeps_the_sweep_working(
    store: Store,
) -> None:
    """Warnings are keyed by their position in the policy's list (level 1, 2…). A clock
    that fired its 50% warning (level 1) under the P3 policy and is re-targeted to a
    policy warning at [90] has a "level 1" warning pending again: the sweep inserts a
    second (clock, warning, 1) row, the unique key refuses it, and the whole sweep
    transaction fails — for every ticket, at every sweep, from then on."""
    text = desk_text().replace(
        "resolution_minutes = 480             # 8 business hours",
        "resolution_minutes = 480\nwarn_at_percent = [90]",
        1,
    )
    assert "warn_at_percent = [90]" in text
    build_sla_desk(store, text)
    number = p3(store)
    # A P1 (24x7, 120 minutes) whose resolution target runs out at 11:32.
    bystander = create(store, TUE_0930 + timedelta(minutes=2), impact=1, urgency=1)
    run_sweep(store, RESPONSE_50)  # P3 response 50% warning: (clock, warning, 1)
    with store.write() as session:  # urgency 1: P3 → P2, response target 240 → 30
        update_ticket(session, get_agent(session, "tia"), number, urgency=1, now=RESPONSE_50)
    later = RESPONSE_50 + timedelta(minutes=2)
    done = run_sweep(store, later)  # raises IntegrityError (uq_escalations_once)
    assert {"number": number, "kind": "response"} in done.breached
    assert {"number": bystander, "kind": "resolution"} in done.breached
    kinds = [(k, lvl) for c, k, lvl, _ in fired(store, number) if c == "response"]
    assert kinds.count(("breach", 0)) == 1
    assert kinds.count(("escalation", 1)) == 1
