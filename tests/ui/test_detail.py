"""The ticket detail screen: fields, live SLA countdowns, links, timeline, literal user text."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from itsm_tui.data import queries
from itsm_tui.desk import transition_ticket
from itsm_tui.desk.records import get_agent
from itsm_tui.screens.detail import TicketDetailScreen, printable
from tests.factories import NOW
from tests.ui.detail_apps import (
    CLOCK,
    NASTY_COMMENT,
    NASTY_TITLE,
    DetailHarness,
    context,
    demo_store,
    run_async,
    settle,
)


@pytest.fixture
def demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    store, numbers = demo_store(tmp_path)
    yield store, numbers
    store.dispose()


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def content(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return app.screen.query_one(selector).content.plain


@run_async
async def test_detail_shows_fields_clocks_links_and_timeline(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen)
        heading = content(app, "#detail-heading")
        assert numbers["vpn"] in heading and "P2" in heading and "assigned" in heading
        assert content(app, "#detail-title").startswith("VPN drops")
        clocks = content(app, "#detail-clocks")
        assert "Response" in clocks and "met" in clocks
        assert "Resolution running  6h 00m 00s left" in " ".join(clocks.split("  ", 0))
        links = [w.content.plain for w in screen.query("#detail-links .detail-link")]
        assert links == ["problem " + numbers["problem"]]
        text = screen_text(app)
        for value in ("VPN", "Service Desk", "alice", "li.wei@example.com"):
            assert value in text
        kinds = [
            next(c for c in w.classes if c.startswith("entry-"))
            for w in screen.query("#detail-timeline .entry")
        ]
        # Newest first: the escalation (+90 min), then time and link (+60), the note (+40),
        # the reply (+20), the assignment (+5) and the creation.
        assert kinds[0] == "entry-escalation"
        assert kinds.index("entry-work_note") < kinds.index("entry-reply")
        assert kinds[-1] == "entry-created"
        assert "opened the incident" in screen.query("#detail-timeline .entry").last().content.plain


@run_async
async def test_countdown_ticks_from_the_injected_clock_without_the_store(
    demo, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    now = [CLOCK]
    ctx = context(store)
    ctx.clock = lambda: now[0]
    app = DetailHarness(ctx, lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen)
        assert "6h 00m 00s left" in content(app, "#detail-clocks")
        loads = []
        monkeypatch.setattr(queries, "ticket_detail", lambda *a, **k: loads.append(a))
        now[0] = CLOCK + timedelta(seconds=5)
        screen.refresh_clocks()
        assert "5h 59m 55s left" in content(app, "#detail-clocks")
        # Past 50 % of the resolution target (8 h): the clock reads "warned".
        now[0] = NOW + timedelta(hours=4, minutes=30)
        screen.refresh_clocks()
        assert "warned" in content(app, "#detail-clocks")
        now[0] = NOW + timedelta(hours=9)
        screen.refresh_clocks()
        clocks = content(app, "#detail-clocks")
        assert "breached" in clocks and "overdue 1h 00m 00s" in clocks
        assert loads == []


@run_async
async def test_paused_clock_after_another_agent_sets_pending(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        with store.write() as session:
            transition_ticket(
                session, get_agent(session, "bob"), numbers["vpn"], "pending", now=CLOCK
            )
        # The periodic reload would pick it up within seconds; ask for it now.
        await pilot.press("f5")
        await settle(pilot)
        assert "paused" in content(app, "#detail-clocks")
        assert "pending" in content(app, "#detail-heading")


@run_async
async def test_markup_and_escapes_in_title_and_comment_are_shown_literally(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["nasty"]))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert content(app, "#detail-title") == printable(NASTY_TITLE)
        assert "[bold red]x[/] \\x1b[31mred\\x07 标题 🚀 ok" in content(app, "#detail-title")
        text = screen_text(app)
        assert "[bold red]x[/]" in text
        assert printable(NASTY_COMMENT) in text
        assert "\\u202eevil" in text
        for raw in ("\x1b", "\x07", "\u202e"):
            assert raw not in text


@run_async
async def test_unknown_ticket_says_so(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen("INC0999999"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "no ticket INC0999999" in content(app, "#detail-title")


def test_a_business_hours_clock_counts_down_wall_time_to_its_due_instant() -> None:
    """Evening, due at 10:00 tomorrow with one business hour left: the line says 14 hours
    left (what the queue's SLA column says too) and the share of the target spent."""
    from datetime import UTC, datetime

    from itsm_tui.domain.calendar import BusinessCalendar, WorkingInterval
    from itsm_tui.screens.detail import ClockSnapshot, clock_line

    nine_to_five = (WorkingInterval(9 * 60, 17 * 60),)
    calendar = BusinessCalendar(
        "office", "UTC", hours={d: nine_to_five for d in ("mon", "tue", "wed", "thu", "fri")}
    )
    evening = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # a Tuesday
    clock = ClockSnapshot(
        kind="resolution",
        state="running",
        policy="P3",
        target_minutes=8 * 60,
        spent_seconds=7 * 3600,
        running_since=evening,
        stopped_at=None,
        due_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        breached_at=None,
        warn_percents=(50, 75),
        calendar=calendar,
    )
    line = clock_line(clock, evening, UTC).plain
    assert "14h 00m 00s left" in line and "88% of 8h" in line
    late = clock_line(clock, datetime(2026, 11, 28, 10, 0, tzinfo=UTC), UTC).plain
    assert "breached" in late and "overdue 3d 00h 00m" in late
