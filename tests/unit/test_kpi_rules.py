"""The KPI rules that need no store: green/amber/red, the 90th percentile, periods."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from itsm_tui.data.kpi import AMBER, GREEN, NO_DATA, NO_TARGET, RED, Period, period_ending
from itsm_tui.data.kpi.figures import distribution, shown
from itsm_tui.data.kpi.judgement import judge
from itsm_tui.data.kpi.period import period_between

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(4.0, GREEN), (4.5, GREEN), (3.6, AMBER), (3.59, RED)],
)
def test_at_least_is_amber_down_to_the_margin_below_the_target(value: float, expected: str) -> None:
    assert judge(value, 4.0, "at_least", 10) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(15.0, GREEN), (16.5, AMBER), (16.51, RED), (0.0, GREEN)],
)
def test_at_most_is_amber_up_to_the_margin_above_the_target(value: float, expected: str) -> None:
    assert judge(value, 15.0, "at_most", 10) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    # 99.9 % allows 0.1 % down; the margin widens that to 0.11 %.
    [(99.9, GREEN), (99.95, GREEN), (99.89, AMBER), (99.889, RED), (89.9, RED)],
)
def test_share_applies_the_margin_to_what_the_target_allows_to_fail(
    value: float, expected: str
) -> None:
    assert judge(value, 99.9, "share", 10) == expected


def test_no_value_is_no_data_and_no_target_is_not_judged() -> None:
    assert judge(None, 15.0, "at_most", 10) == NO_DATA
    assert judge(3.0, None, "at_most", 10) == NO_TARGET
    assert judge(None, None, "at_most", 10) == NO_DATA


def test_a_zero_margin_has_no_amber() -> None:
    assert judge(15.01, 15.0, "at_most", 0) == RED


def test_p90_is_the_nearest_rank_from_a_histogram() -> None:
    # 1 … 10 once each: rank ⌈9⌉ = 9.
    d = distribution((v, 1) for v in range(1, 11))
    assert (d.samples, d.mean, d.p90) == (10, 5.5, 9.0)
    # 100 × 60 s and 1 × 3600 s: 90 % of 101 is rank 91, still 60 s.
    d = distribution([(3600, 1), (60, 100)])
    assert (d.samples, d.p90) == (101, 60.0)
    assert d.mean == pytest.approx((6000 + 3600) / 101)
    # One sample is its own percentile.
    assert distribution([(42, 1)]).p90 == 42.0


def test_no_samples_is_no_mean_and_no_percentile() -> None:
    d = distribution([])
    assert (d.samples, d.mean, d.p90) == (0, None, None)
    assert d.minutes() == (None, None)


def test_a_period_is_whole_local_days() -> None:
    p = Period(date(2026, 12, 1), date(2026, 12, 31), SHANGHAI)
    assert p.start == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert p.end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert p.days == 31
    assert p.previous() == Period(date(2026, 10, 31), date(2026, 11, 30), SHANGHAI)


def test_local_days_across_a_dst_change_are_23_and_25_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    spring = Period(date(2026, 3, 29), date(2026, 3, 29), berlin)
    autumn = Period(date(2026, 10, 25), date(2026, 10, 25), berlin)
    assert (spring.end - spring.start).total_seconds() == 23 * 3600
    assert (autumn.end - autumn.start).total_seconds() == 25 * 3600


def test_a_year_earlier_keeps_the_dates_and_29_february_becomes_the_28th() -> None:
    leap = Period(date(2028, 2, 1), date(2028, 2, 29), UTC)
    assert leap.year_earlier() == Period(date(2027, 2, 1), date(2027, 2, 28), UTC)


def test_named_periods_end_today_in_the_desk_zone() -> None:
    # 17:00 UTC on 31 December is already 1 January in Shanghai.
    now = datetime(2026, 12, 31, 17, tzinfo=UTC)
    assert period_ending(now, SHANGHAI, "today") == Period(
        date(2027, 1, 1), date(2027, 1, 1), SHANGHAI
    )
    assert period_ending(now, UTC, "30d") == Period(date(2026, 12, 2), date(2026, 12, 31), UTC)
    assert period_ending(now, UTC, "quarter").first_day == date(2026, 10, 1)
    assert period_ending(now, UTC, "year").first_day == date(2026, 1, 1)
    for wrong in ("0d", "30", "month", "-5d", "30D"):
        with pytest.raises(ValueError, match="a period is today, quarter, year"):
            period_ending(now, UTC, wrong)


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends"):
        period_between(date(2026, 2, 1), date(2026, 1, 1), UTC)


def test_figures_read_as_people_write_them() -> None:
    assert shown(None, "percent") == "no data"
    assert shown(99.95, "percent") == "99.95 %"
    assert shown(12.25, "minutes") == "12.2 min"
    assert shown(4.0, "of 5") == "4.00 / 5"
    assert shown(1234, "tickets") == "1,234"
    assert shown(7.5, "tickets") == "7.5"
