"""The on-call rota's rules: handovers, overrides, DST changes, the schedule, the chain."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_tui.domain.oncall import (
    Override,
    Rotation,
    chain_order,
    on_call_at,
    schedule,
    shift_start,
)

LONDON = ZoneInfo("Europe/London")


def london(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


# Weekly, Mondays 09:00 London, from Monday 2 March 2026. Clocks go forward on Sunday
# 29 March (GMT → BST) and back on Sunday 25 October.
WEEKLY = Rotation(
    team="Network",
    members=("ann", "bob", "cat"),
    starts=date(2026, 3, 2),
    handover=time(9, 0),
    shift_days=7,
    timezone="Europe/London",
)


def who(rotation: Rotation, instant: datetime) -> str | None:
    on = on_call_at(rotation, instant)
    return on.agent if on is not None else None


def test_members_take_weekly_shifts_in_order_handing_over_at_nine() -> None:
    assert who(WEEKLY, london(2026, 3, 2, 9, 0)) == "ann"
    assert who(WEEKLY, london(2026, 3, 9, 8, 59)) == "ann"
    assert who(WEEKLY, london(2026, 3, 9, 9, 0)) == "bob"
    assert who(WEEKLY, london(2026, 3, 16, 9, 0)) == "cat"
    assert who(WEEKLY, london(2026, 3, 23, 9, 0)) == "ann"  # round again


def test_nobody_is_on_call_before_the_rota_starts() -> None:
    assert who(WEEKLY, london(2026, 3, 2, 8, 59)) is None
    assert schedule(WEEKLY, london(2026, 2, 1), london(2026, 3, 2, 9, 0)) == []


def test_handover_stays_at_nine_local_across_both_dst_changes() -> None:
    # The shift from 23 March spans the spring change: 09:00 GMT to 09:00 BST.
    spring = shift_start(WEEKLY, 4)
    assert spring.astimezone(LONDON).hour == 9
    assert spring == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert shift_start(WEEKLY, 3) == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)  # 09:00 GMT
    # That shift lasted an hour less than a week.
    assert spring - shift_start(WEEKLY, 3) == timedelta(days=7, hours=-1)
    assert who(WEEKLY, london(2026, 3, 30, 8, 59)) == "ann"
    assert who(WEEKLY, london(2026, 3, 30, 9, 0)) == "bob"
    # Autumn: Monday 26 October 09:00 GMT, after the change the day before.
    autumn = london(2026, 10, 26, 9, 0)
    assert autumn.utcoffset() == timedelta(0)
    shift = (date(2026, 10, 26) - WEEKLY.starts).days // 7
    assert shift_start(WEEKLY, shift) == autumn.astimezone(UTC)
    assert shift_start(WEEKLY, shift) - shift_start(WEEKLY, shift - 1) == timedelta(days=7, hours=1)


def test_daily_shift_with_a_handover_in_the_skipped_hour_comes_after_the_jump() -> None:
    nightly = Rotation(
        "Network", ("ann", "bob"), date(2026, 3, 27), time(1, 30), 1, "Europe/London"
    )
    # 01:30 on 29 March does not exist in London: the handover is at 02:30 BST (01:30 UTC).
    assert shift_start(nightly, 2) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert who(nightly, datetime(2026, 3, 29, 1, 29, tzinfo=UTC)) == "bob"
    assert who(nightly, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) == "ann"
    # The next night is back at 01:30 local (00:30 UTC, BST).
    assert shift_start(nightly, 3) == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)


def test_a_swap_covers_only_the_named_members_shifts() -> None:
    swap = Override("cat", london(2026, 3, 5, 18, 0), london(2026, 3, 12, 9, 0), covers="ann")
    rota = Rotation(**{**WEEKLY.__dict__, "overrides": (swap,)})
    assert who(rota, london(2026, 3, 5, 17, 59)) == "ann"
    on = on_call_at(rota, london(2026, 3, 5, 18, 0))
    assert on is not None and (on.agent, on.member, on.override) == ("cat", "ann", swap)
    # Bob's shift began on the 9th: the swap was for Ann's, so Bob holds it.
    assert who(rota, london(2026, 3, 10, 12, 0)) == "bob"


def test_a_holiday_cover_takes_whoevers_shift_it_is_and_the_later_override_wins() -> None:
    holiday = Override("dan", london(2026, 3, 8), london(2026, 3, 11), reason="holiday")
    later = Override("eve", london(2026, 3, 10), london(2026, 3, 10, 12, 0))
    rota = Rotation(**{**WEEKLY.__dict__, "overrides": (holiday, later)})
    assert who(rota, london(2026, 3, 8, 12, 0)) == "dan"  # Ann's shift
    assert who(rota, london(2026, 3, 9, 12, 0)) == "dan"  # Bob's shift
    assert who(rota, london(2026, 3, 10, 6, 0)) == "eve"
    assert who(rota, london(2026, 3, 10, 13, 0)) == "dan"
    assert who(rota, london(2026, 3, 11, 0, 0)) == "bob"


def test_schedule_lists_each_stretch_cut_at_overrides() -> None:
    swap = Override("cat", london(2026, 3, 5, 18, 0), london(2026, 3, 6, 9, 0), covers="ann")
    rota = Rotation(**{**WEEKLY.__dict__, "overrides": (swap,)})
    rows = schedule(rota, london(2026, 3, 4), london(2026, 3, 12))
    assert [(r.agent, r.starts.astimezone(LONDON), r.ends.astimezone(LONDON)) for r in rows] == [
        ("ann", london(2026, 3, 4), london(2026, 3, 5, 18, 0)),
        ("cat", london(2026, 3, 5, 18, 0), london(2026, 3, 6, 9, 0)),
        ("ann", london(2026, 3, 6, 9, 0), london(2026, 3, 9, 9, 0)),
        ("bob", london(2026, 3, 9, 9, 0), london(2026, 3, 12)),
    ]


def test_chain_goes_on_in_rota_order_and_leaves_out_the_member_away() -> None:
    assert chain_order(WEEKLY, london(2026, 3, 10)) == ["cat", "ann", "bob"]
    holiday = Override("dan", london(2026, 3, 9), london(2026, 3, 16), covers="bob")
    rota = Rotation(**{**WEEKLY.__dict__, "overrides": (holiday,)})
    # Dan covers Bob's week: after Dan, Cat then Ann; Bob is away.
    assert who(rota, london(2026, 3, 10)) == "dan"
    assert chain_order(rota, london(2026, 3, 10)) == ["cat", "ann"]


ZONES = st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "UTC"])


@st.composite
def rotations(draw: st.DrawFn) -> Rotation:
    members = draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=5, unique=True))
    return Rotation(
        team="T",
        members=tuple(members),
        starts=draw(st.dates(date(2025, 1, 1), date(2027, 1, 1))),
        handover=time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30]))),
        shift_days=draw(st.integers(1, 14)),
        timezone=draw(ZONES),
    )


@settings(max_examples=150, deadline=None)
@given(rotation=rotations(), offset=st.integers(0, 3 * 365 * 24 * 60))
def test_who_is_on_call_agrees_with_the_schedule_and_handovers_are_local_wall_time(
    rotation: Rotation, offset: int
) -> None:
    begin = shift_start(rotation, 0)
    instant = begin + timedelta(minutes=offset)
    on = on_call_at(rotation, instant)
    assert on is not None and on.starts <= instant < on.ends
    window = schedule(rotation, instant - timedelta(days=20), instant + timedelta(days=20))
    assert window[0].starts == max(begin, instant - timedelta(days=20))
    assert window[-1].ends == instant + timedelta(days=20)
    for a, b in pairwise(window):
        assert a.ends == b.starts  # no gap, no overlap
    holding = [s for s in window if s.starts <= instant < s.ends]
    assert [s.agent for s in holding] == [on.agent]
    # Every handover is at the rota's wall time, unless that time does not exist that day.
    for s in window[1:]:
        local = s.starts.astimezone(rotation.zone)
        wall = datetime.combine(local.date(), rotation.handover, tzinfo=rotation.zone)
        exists = wall.astimezone(UTC).astimezone(rotation.zone).time() == rotation.handover
        if exists:
            assert local.time() == rotation.handover
