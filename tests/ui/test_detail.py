"""The ticket detail screen: fields, live SLA countdowns, links, timeline, literal user text."""

from __future__ import annotations

from datetime import timedelta

import pytest

from itsm_tui.data import record_json
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
    run_async,
    settle,
)


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
        monkeypatch.setattr(record_json, "ticket_detail", lambda *a, **k: loads.append(a))
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
async def test_a_reload_that_finds_the_ticket_unchanged_redraws_only_the_clocks(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        redrawn: list[str] = []
        for selector in ("#detail-heading", "#detail-title", "#detail-fields"):
            widget = app.screen.query_one(selector)
            update = widget.update  # type: ignore[attr-defined]

            def spy(*args: object, _update=update, _name=selector, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
                redrawn.append(_name)
                _update(*args, **kwargs)

            widget.update = spy  # type: ignore[attr-defined]
        await pilot.press("f5")
        await settle(pilot)
        assert redrawn == []  # over SSH each would be bytes for nothing
        with store.write() as session:
            transition_ticket(
                session, get_agent(session, "bob"), numbers["vpn"], "pending", now=CLOCK
            )
        await pilot.press("f5")
        await settle(pilot)
        assert redrawn == ["#detail-heading", "#detail-title", "#detail-fields"]
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


def test_a_cancelled_clock_keeps_a_space_before_its_time() -> None:
    """ "cancelled" fills the state's column: the line still reads as words."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from itsm_tui.domain.calendar import BusinessCalendar
    from itsm_tui.screens.detail import ClockSnapshot, clock_line

    stopped = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    clock = ClockSnapshot(
        kind="response",
        state="cancelled",
        policy="P3",
        target_minutes=60,
        spent_seconds=600,
        running_since=None,
        stopped_at=stopped,
        due_at=None,
        breached_at=None,
        warn_percents=(50, 75),
        calendar=BusinessCalendar("always", "UTC", always_open=True),
    )
    line = clock_line(clock, stopped, UTC).plain
    assert "cancelled stopped 2026-11-24 09:00" in line, line
    met = clock_line(replace(clock, state="met"), stopped, UTC).plain
    # The shorter states keep their column: the times line up under each other.
    assert met.index("stopped") == line.index("stopped") - 1


@run_async
async def test_a_reopen_shows_as_one_entry_with_its_reason_once(demo) -> None:  # type: ignore[no-untyped-def]
    from itsm_tui.desk import reopen_ticket

    store, numbers = demo
    with store.write() as session:
        reopen_ticket(
            session,
            get_agent(session, "bob"),
            numbers["resolved"],
            reason="Still jams on tray 2",
            now=NOW + timedelta(minutes=50),
        )
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["resolved"]))
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Timeline (newest first, times in UTC)" in text
        assert text.count("Still jams on tray 2") == 1
        newest = app.screen.query("#detail-timeline .entry").first()
        assert "1 h ago  bob  reopened" in screen_text(app)
        assert "entry-change" in newest.classes
        for internal in ("is_open", "resolved_at", "reopen_count", "→ true", "+00:00"):
            assert internal not in text
        assert "Status: resolved → in progress" in text


@run_async
async def test_times_are_in_the_agents_zone(demo) -> None:  # type: ignore[no-untyped-def]
    from itsm_tui.data.models import Agent

    store, numbers = demo
    with store.write() as session:
        session.execute(
            Agent.__table__.update()
            .where(Agent.username == "alice")
            .values(timezone="Asia/Shanghai")
        )
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        # Opened at NOW, 09:30 UTC: 17:30 in Shanghai; due 17:30 UTC is 01:30 the next day.
        assert "Opened     2026-11-24 17:30" in text
        assert "due 2026-11-25 01:30" in text
        assert "times in Asia/Shanghai" in text


@run_async
async def test_older_entries_are_read_a_page_at_a_time(
    demo, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    monkeypatch.setattr(TicketDetailScreen, "HISTORY_PAGE", 2)
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        screen = app.screen
        first = len(screen.query("#detail-timeline .entry"))
        older = screen.query_one("#timeline-older")
        assert older.display and first < 7
        for _ in range(10):
            if not older.display:
                break
            older.focus()
            await pilot.press("enter")
            await settle(pilot)
        assert not older.display
        kinds = [
            next(c for c in w.classes if c.startswith("entry-"))
            for w in screen.query("#detail-timeline .entry")
        ]
        # The demo ticket's whole history, each entry once, newest first.
        assert kinds == [
            "entry-escalation",
            "entry-change",
            "entry-change",
            "entry-work_note",
            "entry-reply",
            "entry-change",
            "entry-created",
        ]


@run_async
async def test_take_on_the_ticket_screen_makes_it_mine(demo) -> None:  # type: ignore[no-untyped-def]
    from itsm_tui.screens.detail import TicketDetailScreen as Detail

    store, numbers = demo
    app = DetailHarness(context(store), lambda: Detail(numbers["nasty"]))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert "Assignee: — → alice" in screen_text(app)
    with store.read() as session:
        assert record_json.ticket_detail(session, numbers["nasty"])["assignee"] == "alice"


@run_async
async def test_enter_on_a_link_opens_the_linked_ticket(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        link = app.screen.query_one("#detail-links .detail-link")
        link.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert app.screen.number == numbers["problem"]
        assert content(app, "#detail-title") == "Tunnel resets after firmware 9.2"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.number == numbers["vpn"]


@run_async
async def test_enter_on_a_change_link_shows_the_change_read_only(demo) -> None:  # type: ignore[no-untyped-def]
    from itsm_tui.desk import create_change, link_ticket
    from itsm_tui.screens.linked import LinkedRecordScreen

    store, numbers = demo
    with store.write() as session:
        change = create_change(
            session,
            get_agent(session, "sam"),
            title="Roll back firmware 9.2 [b]now[/b]",
            services=["VPN"],
            planned_start=NOW + timedelta(days=1),
            planned_end=NOW + timedelta(days=1, hours=2),
            now=NOW,
        )
        link_ticket(
            session, get_agent(session, "alice"), numbers["vpn"], change=change.number, now=NOW
        )
        change_number = change.number
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        links = {w.number: w for w in app.screen.query("#detail-links .detail-link")}
        assert set(links) == {numbers["problem"], change_number}
        links[change_number].focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LinkedRecordScreen)
        text = screen_text(app)
        assert f"{change_number}  Roll back firmware 9.2 [b]now[/b]" in text
        assert "Planned   2026-11-25 09:30 – 2026-11-25 11:30" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)


@run_async
async def test_clocks_are_drawn_again_only_when_they_read_differently(demo) -> None:  # type: ignore[no-untyped-def]
    # They are worked out every second; over SSH each drawing is a line on the agent's
    # link, so a clock that reads the same (stopped, paused, or this fixed clock) is not.
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen)
        clocks = screen.query_one("#detail-clocks")
        updates: list[object] = []
        update = clocks.update  # type: ignore[attr-defined]
        clocks.update = lambda content: (updates.append(content), update(content))  # type: ignore[attr-defined]
        screen.refresh_clocks()
        screen.refresh_clocks()
        assert updates == []
        assert screen.loaded is not None
        # The same clocks an hour later read differently, and are drawn.
        app.desk.clock = lambda: CLOCK + timedelta(hours=1)  # type: ignore[attr-defined]
        screen.refresh_clocks()
        assert len(updates) == 1 and "5h 00m 00s left" in content(app, "#detail-clocks")


@run_async
async def test_a_planned_request_shows_its_promise_and_its_steps(demo) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from itsm_tui.data.models import CatalogueItem
    from itsm_tui.desk import create_ticket
    from itsm_tui.desk.fulfilment import complete_task

    store, _numbers = demo
    with store.write() as session:
        item = session.scalars(select(CatalogueItem).where(CatalogueItem.code == "laptop")).one()
        item.requires_approval = False
        item.tasks = [
            {"name": "Image the laptop", "team": "Service Desk", "minutes": 90},
            {"name": "Register it [bold]now[/]", "team": "Network"},
        ]
        alice = get_agent(session, "alice")
        number = create_ticket(
            session,
            alice,
            type="request",
            title="Laptop for Wei",
            impact=3,
            urgency=3,
            catalogue_item="laptop",
            form_data={"model": "X1"},
            now=NOW,
        ).number
        complete_task(session, alice, number, now=NOW + timedelta(minutes=30))
    app = DetailHarness(context(store), lambda: TicketDetailScreen(number))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        fields = screen_text(app)
        # 2400 minutes around the clock (the demo's 24x7 policy) after 09:30 UTC.
        assert "Promised" in fields and "2026-11-26 01:30" in fields
        # The resolution clock's target is the delivery standard, said as the desk says it
        # (fulfilment.delivery_standard), not as 24-hour days ("1d 16h").
        clocks = content(app, "#detail-clocks")
        assert "of 40 h" in clocks and "1d 16h" not in clocks
        # Its due instant is the promise, shown once (on the Promised line).
        resolution = next(line for line in clocks.splitlines() if "Resolution" in line)
        assert "due" not in resolution and "left" in resolution
        assert "✓ 1. Image the laptop — Service Desk" in fields
        assert "▶ 2. Register it [bold]now[/] — Network" in fields
