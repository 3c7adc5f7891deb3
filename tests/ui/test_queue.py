"""The queue screen: rows from the store, views, search, filter, sort, paging, refresh, take."""

from __future__ import annotations

import threading
from datetime import timedelta
from itertools import pairwise

import pytest
from rich.cells import cell_len
from rich.style import Style
from sqlalchemy import func, select, update
from textual.widgets import Input

from itsm_tui.data import queue_pages
from itsm_tui.data.models import Agent, Team, Ticket
from itsm_tui.data.store import Store
from itsm_tui.desk import create_ticket
from itsm_tui.desk.records import get_agent
from itsm_tui.screens.detail import TicketDetailScreen
from itsm_tui.screens.queue import QueueScreen
from itsm_tui.screens.widgets.ticket_table import PAGE_SIZE, TicketTable, clean_text, format_sla
from tests.ui.snapshot_apps import (
    BREACHED_TITLE,
    CLOCK,
    OVERDUE_TITLE,
    TICKETS,
    queue_app,
    run_async,
    settle,
)


def queue(app) -> QueueScreen:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, QueueScreen)
    return screen


def numbers(table: TicketTable) -> list[str]:
    return [row.number for row in table.cached_rows()]


def line_text(table: TicketTable, y: int) -> str:
    return "".join(segment.text for segment in table.render_line(y))


def style_at(table: TicketTable, y: int, x: int) -> Style | None:
    """The style of the cell at column `x` of line `y` as drawn."""
    start = 0
    for segment in table.render_line(y):
        end = start + cell_len(segment.text)
        if start <= x < end:
            return segment.style
        start = end
    raise IndexError(x)


def open_count(store: Store) -> int:
    with store.read() as s:
        return s.scalar(select(func.count()).select_from(Ticket).where(Ticket.is_open)) or 0


@run_async
async def test_queue_paints_my_tickets_from_the_store(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        table = screen.table
        mine = [t for t in TICKETS if t[4] == "alice"]
        assert screen.view_key == "mine"
        assert table.total == len(mine) == screen.count
        assert "My tickets · 3" in str(screen.query_one("#view-name").render())
        assert "Number" in line_text(table, 0) and "Title" in line_text(table, 0)
        assert table.row_at(0) is not None
        assert table.row_at(0).number in line_text(table, 1)


@run_async
async def test_views_switch_and_show_their_counts(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6")  # all open
        await settle(pilot)
        assert screen.count == open_count(queue_store) == len(TICKETS)
        await pilot.press("3")  # unassigned
        await settle(pilot)
        assert screen.count == sum(1 for t in TICKETS if t[4] is None)
        assert all(row.assignee is None for row in screen.table.cached_rows())
        await pilot.press("5")  # breached: the rows whose SLA cell says so, swept or not
        await settle(pilot)
        rows = screen.table.cached_rows()
        assert [row.title for row in rows] == [BREACHED_TITLE, OVERDUE_TITLE]
        assert {row.sla_state for row in rows} == {"breached"}
        await pilot.press("v", "v")  # next views: all open, then recently resolved
        await settle(pilot)
        assert screen.view_key == "resolved" and screen.count == 0


@run_async
async def test_search_filter_and_sort_change_the_rows(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("slash", *"printer", "enter")
        await settle(pilot)
        assert [row.title for row in screen.table.cached_rows()] == ["Printer on 3rd floor jams"]
        await pilot.press("slash", "ctrl+u", "enter")  # clear the search
        await settle(pilot)
        assert screen.count == len(TICKETS)
        await pilot.press("f", *"service:Email", "enter")
        await settle(pilot)
        assert {row.service for row in screen.table.cached_rows()} == {"Email"}
        assert screen.count == sum(1 for t in TICKETS if t[3] == "Email")
        await pilot.press("f", "ctrl+u", *"priority:P9", "enter")  # refused, view unchanged
        await settle(pilot)
        assert screen.count == sum(1 for t in TICKETS if t[3] == "Email")
        await pilot.press("f", "ctrl+u", "enter")
        await settle(pilot)
        by_priority = numbers(screen.table)
        await pilot.press("o")  # next sort column: number
        await settle(pilot)
        assert screen.queue_query.sort == "number"
        assert numbers(screen.table) == sorted(by_priority)
        await pilot.press("O")  # reversed
        await settle(pilot)
        assert numbers(screen.table) == sorted(by_priority, reverse=True)


@run_async
async def test_paging_through_thousands_reads_only_pages(seeded_store: Store) -> None:
    app = queue_app(seeded_store, actor="tao.he")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6")
        await settle(pilot)
        table = screen.table
        total = table.total
        assert total == open_count(seeded_store) and total > 5 * PAGE_SIZE
        table.reset_counters()
        await pilot.press("pagedown", "pagedown", "pagedown")
        await settle(pilot)
        assert table.cursor == 3 * table.visible_rows
        await pilot.press("end")
        await settle(pilot)
        assert table.cursor == total - 1
        last = table.selected
        assert last is not None and last.number in line_text(table, table.visible_rows)
        await pilot.press("home")
        await settle(pilot)
        assert table.cursor == 0 and table.selected is not None
        # The first pages were already read; the end is one page read backwards: a handful
        # of pages, never the view.
        assert table.pages_fetched <= 4
        assert table.rows_fetched <= 4 * PAGE_SIZE < total
        # A scroll far into the middle reads the pages that came into view, and no others.
        table.reset_counters()
        table.scroll_to(y=total // 2, animate=False, immediate=True)
        await settle(pilot)
        assert 1 <= table.pages_fetched <= 2
        assert table.row_at(total // 2) is not None


@run_async
async def test_a_shrunk_terminal_still_shows_the_highlighted_ticket(seeded_store: Store) -> None:
    # Seen over SSH: the window went from 40 lines to 24 with a ticket open; back on the
    # queue its cursor was below the last row shown.
    app = queue_app(seeded_store, actor="tao.he")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        table = queue(app).table
        await pilot.press(*["down"] * 30)
        await settle(pilot)
        selected = table.selected
        assert selected is not None and table.cursor - table.top_row == 30
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert table.selected is not None and table.selected.number == selected.number
        assert table.top_row <= table.cursor < table.top_row + table.visible_rows
        assert selected.number in line_text(table, table.cursor - table.top_row + 1)


@run_async
async def test_live_refresh_shows_a_new_ticket_and_keeps_the_cursor(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6", "down", "down", "down")
        await settle(pilot)
        chosen = screen.table.selected
        assert chosen is not None
        with queue_store.write() as session:  # another agent opens a P1 (sorts first)
            bob = get_agent(session, "bob")
            create_ticket(
                session, bob, type="incident", title="Core switch on fire", impact=1,
                urgency=1, now=CLOCK,
            )  # fmt: skip
        screen.poll_now()
        await settle(pilot)
        assert screen.polls == 1
        assert screen.count == len(TICKETS) + 1
        assert "Core switch on fire" in [row.title for row in screen.table.cached_rows()]
        assert screen.table.selected is not None
        assert screen.table.selected.number == chosen.number
        assert screen.table.cursor == 4  # one row further down: the new P1 sorts above


@run_async
async def test_a_poll_read_before_a_move_does_not_put_the_cursor_back(
    queue_store: Store,
) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6", "down")
        await settle(pilot)
        table = screen.table
        assert table.cursor == 1
        # The poll reads in its worker; the agent moves before its answer is handled.
        screen.poll_now()
        table.action_cursor_down()
        table.action_cursor_down()
        await settle(pilot)
        assert table.cursor == 3
        assert table.selected is not None and table.selected.number == numbers(table)[3]
        # The next poll reads from where the cursor is now, and keeps it there.
        screen.poll_now()
        await settle(pilot)
        assert screen.polls == 1
        assert table.cursor == 3


@run_async
async def test_take_assigns_to_me(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("3")  # unassigned
        await settle(pilot)
        row = screen.table.selected
        assert row is not None
        await pilot.press("t")
        await settle(pilot)
        with queue_store.read() as s:
            assignee = s.scalar(
                select(Agent.username).join(Ticket, Ticket.assignee_id == Agent.id)
                .where(Ticket.number == row.number)
            )  # fmt: skip
        assert assignee == "alice"
        assert row.number not in numbers(screen.table)  # no longer unassigned
        assert any("is yours" in n.message for n in app._notifications)


@run_async
async def test_refused_take_keeps_the_screen_and_says_why(queue_store: Store) -> None:
    with queue_store.write() as s:
        s.execute(update(Agent).where(Agent.username == "alice").values(active=False))
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("3")
        await settle(pilot)
        before = screen.table.selected
        assert before is not None
        await pilot.press("t")
        await settle(pilot)
        assert app.screen is screen
        messages = [n.message for n in app._notifications]
        assert any("inactive" in m for m in messages), messages
        assert screen.table.selected is not None
        assert screen.table.selected.number == before.number


@run_async
async def test_breached_rows_stand_out(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6", "end")  # cursor away from the breached row
        await settle(pilot)
        table = screen.table
        rows = table.cached_rows()
        breached = next(i for i, r in enumerate(rows) if r.title == BREACHED_TITLE)
        plain = next(i for i, r in enumerate(rows) if r.sla_state == "running")
        assert rows[breached].sla_state == "breached"
        assert format_sla(rows[breached].sla_left, "breached").startswith("-")
        breached_bg = {s.style.bgcolor for s in table.render_line(breached + 1) if s.style}
        plain_bg = {s.style.bgcolor for s in table.render_line(plain + 1) if s.style}
        assert breached_bg - plain_bg  # a background of its own
        sla_cell = [s for s in table.render_line(breached + 1) if "-1h20" in s.text]
        assert sla_cell and sla_cell[0].style and sla_cell[0].style.bold


@run_async
async def test_markup_and_escapes_in_titles_are_shown_literally(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6")
        await settle(pilot)
        table = screen.table
        lines = [line_text(table, y) for y in range(1, table.total + 1)]
        assert any("[bold red]x[/] markup stays literal" in line for line in lines)
        assert not any("\x1b" in line for line in lines)
    assert clean_text("a\x1b[31mb\x07c\x1b]0;title\x07d\nq") == "ab cd q"


async def all_open_lines(app, pilot) -> tuple[TicketTable, list[str]]:  # type: ignore[no-untyped-def]
    """The "All open" view's header and every row as drawn."""
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)
    table = queue(app).table
    return table, [line_text(table, y) for y in range(0, table.total + 1)]


@run_async
async def test_wide_characters_keep_the_columns_aligned(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        table, lines = await all_open_lines(app, pilot)
        width = table.scrollable_content_region.width
        cjk = next(line for line in lines if "打印机" in line)
        assert all(cell_len(line) == width for line in lines)
        # The column after the title (assignee at this width) starts at the same cell.
        header = lines[0]
        column = cell_len(header[: header.index("Assignee")])
        for line in lines[1:]:
            row = table.row_at(lines.index(line) - 1)
            assert row is not None
            if row.assignee:
                at = line.index(row.assignee)
                assert cell_len(line[:at]) == column, line
        assert "alice" in cjk


@run_async
async def test_cut_titles_end_in_an_ellipsis_and_keep_the_columns(queue_store: Store) -> None:
    long = "Conference room display shows no signal from any laptop since Monday"
    wide = "会议室显示器无信号，所有笔记本电脑都无法投屏，从周一开始一直如此"
    with queue_store.write() as session:
        bob = get_agent(session, "bob")
        for title in (long, wide):
            create_ticket(
                session, bob, type="incident", title=title, impact=3, urgency=3, now=CLOCK
            )
    app = queue_app(queue_store)
    async with app.run_test(size=(80, 24)) as pilot:
        table, lines = await all_open_lines(app, pilot)
        width = table.scrollable_content_region.width
        cut = [line for line in lines if "Conference room" in line or "会议室" in line]
        short_title = next(line for line in lines if "New starter laptop" in line)
        assert len(cut) == 2 and long not in cut[0] + cut[1]
        assert all("…" in line for line in cut) and "…" not in short_title
        # CJK cut inside a wide character still fills the column exactly.
        assert all(cell_len(line) == width for line in lines)


def test_sla_cells_fit_their_column_however_late() -> None:
    assert format_sla(timedelta(days=-34, hours=-17), "breached") == "-34d17"
    assert format_sla(timedelta(days=-119, hours=-1), "breached") == "-119d"
    assert format_sla(timedelta(days=250), "running") == "250d"
    assert format_sla(timedelta(minutes=-5), "breached") == "-5m"


@run_async
async def test_rows_paint_before_the_count_of_a_big_view(
    seeded_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from itsm_tui.screens import queue as queue_module

    release = threading.Event()
    counted = queue_module.count_view

    def held_count(ctx, query):  # type: ignore[no-untyped-def]
        release.wait(30)
        return counted(ctx, query)

    app = queue_app(seeded_store, actor="tao.he")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        monkeypatch.setattr(queue_module, "count_view", held_count)
        generation = screen.table.generation
        await pilot.press("6")
        for _ in range(500):
            if screen.table.generation > generation:
                break
            await pilot.pause()
        table = screen.table
        # The rows are on screen while the count is still being read.
        assert table.generation > generation and table.row_at(0) is not None
        assert screen.count is None and not table.counted
        assert "All open · …" in str(screen.query_one("#view-name").render())
        await pilot.press("end")  # the end is not known yet: taken when the count lands
        release.set()
        await settle(pilot)
        assert screen.count == table.total == open_count(seeded_store) > table.visible_rows
        assert table.counted and table.cursor == table.total - 1
        assert f"All open · {screen.count:,}" in str(screen.query_one("#view-name").render())


def team_count(store: Store, team: str) -> int:
    with store.read() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(Ticket)
                .join(Team, Team.id == Ticket.team_id)
                .where(Ticket.is_open, Team.name == team)
            )
            or 0
        )


@run_async
async def test_filter_names_a_team_with_a_space_completed_as_typed(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6", "f", *"team:serv")
        await settle(pilot)
        box = screen.query_one("#filter", Input)
        # The completion continues what was typed; Tab takes it, quoted.
        assert box._suggestion == "team:service Desk"
        await pilot.press("tab")
        assert box.value == 'team:"Service Desk"'
        await pilot.press(*" sla:r", "right", "enter")
        await settle(pilot)
        assert screen.filter_text == 'team:"Service Desk" sla:running'
        rows = screen.table.cached_rows()
        assert rows and {row.team for row in rows} == {"Service Desk"}
        assert {row.sla_state for row in rows} == {"running"}
        detail = str(screen.query_one("#view-detail").render())
        assert 'team:"Service Desk" sla:running' in detail
        await pilot.press("f", "ctrl+u", *'team:"Service Desk"', "enter")
        await settle(pilot)
        assert screen.count == team_count(queue_store, "Service Desk") > len(rows)


@run_async
async def test_a_misspelt_team_is_refused_with_a_hint_and_the_view_kept(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6", "f", *"team:Service_Desk", "enter")
        await settle(pilot)
        assert screen.count == len(TICKETS) and screen.filter_text == ""
        # The box keeps the text to fix; the toast says how to write it.
        assert screen.query_one("#filter", Input).value == "team:Service_Desk"
        messages = [n.message for n in app._notifications]
        assert messages[-1] == "no team named 'Service_Desk'; did you mean team:\"Service Desk\"?"


@run_async
async def test_sla_breached_filter_is_the_breached_view(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("5")
        await settle(pilot)
        breached_view = numbers(screen.table)
        await pilot.press("6", "f", *"sla:breached", "enter")
        await settle(pilot)
        assert numbers(screen.table) == breached_view != []
        await pilot.press("f", "ctrl+u", *"sla:paused", "enter")
        await settle(pilot)
        assert [row.title for row in screen.table.cached_rows()] == [
            t[0] for t in TICKETS if t[5] == "pending"
        ]


@run_async
async def test_a_new_sort_keeps_the_ticket_selected_among_its_new_neighbours(
    seeded_store: Store,
) -> None:
    app = queue_app(seeded_store, actor="tao.he")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6", "down", "down", "down")
        await settle(pilot)
        table = screen.table
        chosen = table.selected
        assert chosen is not None and table.cursor - table.top_row == 3
        for keys, sort, descending in (
            (["o"], "number", False),
            (["O"], "number", True),
            (["o"], "sla", False),
        ):
            await pilot.press(*keys)
            await settle(pilot)
            assert (screen.queue_query.sort, screen.queue_query.descending) == (sort, descending)
            # Still the same ticket, drawn in the middle of the screen with the rows that
            # now sort around it read and drawn above and below.
            assert table.selected is not None and table.selected.number == chosen.number
            with seeded_store.read() as session:
                rows = queue_pages.queue_page(
                    session, screen.queue_query, now=CLOCK, limit=table.total
                )
            position = [r.number for r in rows].index(chosen.number)
            assert table.cursor == position
            middle = (table.visible_rows - 1) // 2
            assert table.top_row == max(0, min(position - middle, table.total - table.visible_rows))
            above, below = table.row_at(position - 1), table.row_at(position + 1)
            if position > 0:
                assert above is not None and above.number == rows[position - 1].number
                assert above.number in line_text(table, position - table.top_row)
            assert below is not None and below.number == rows[position + 1].number
            assert chosen.number in line_text(table, position - table.top_row + 1)


@run_async
async def test_rows_go_out_as_one_run_per_style(queue_store: Store) -> None:
    # Over SSH each run costs a colour sequence and a reset: a run per cell and per gap
    # more than doubled a page-down's bytes (bench/remote.py: 19.8 KB → 8.7 KB).
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        table, lines = await all_open_lines(app, pilot)
        for y in range(len(lines)):
            strip = list(table.render_line(y))
            assert all(a.style != b.style for a, b in pairwise(strip)), y
            assert "".join(s.text for s in strip) == lines[y]
        # The header and a plain row: one run for the text, one for the priority at most.
        assert len(list(table.render_line(0))) <= 3


@run_async
async def test_at_80_columns_every_row_says_who_holds_it(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(80, 24)) as pilot:
        table, lines = await all_open_lines(app, pilot)
        header = lines[0]
        for label in ("Number", "Pri", "SLA", "Status", "Title", "Held by", "Age"):
            assert label in header
        column = cell_len(header[: header.index("Held by")])
        for y, line in enumerate(lines[1:], start=1):
            row = table.row_at(y - 1)
            assert row is not None
            holder = row.assignee or row.team
            assert holder and row.number in line and row.status in line
            # The holder starts in its column: the assignee, else the team waiting on it.
            assert cell_len(line[: line.index(holder)]) == column, line
            style = style_at(table, y, column)
            assert style is not None and bool(style.italic) == (row.assignee is None)
        # A click on its header sorts by assignee.
        await pilot.click(TicketTable, offset=(column + 2, 0))
        await settle(pilot)
        assert queue(app).queue_query.sort == "assignee"
        assert "Held by ▲" in line_text(table, 0)


@run_async
async def test_wide_terminals_show_team_and_assignee_apart(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 24)) as pilot:
        _table, lines = await all_open_lines(app, pilot)
        assert "Team" in lines[0] and "Assignee" in lines[0] and "Held by" not in lines[0]


def note_lines(table: TicketTable) -> list[str]:
    return [line_text(table, y).strip() for y in range(1, len(table.empty_note) + 1)]


@run_async
async def test_an_empty_view_lists_the_other_views_and_their_counts(queue_store: Store) -> None:
    app = queue_app(queue_store, actor="sam")  # the supervisor holds no ticket
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = queue(app)
        table = screen.table
        assert screen.view_key == "mine" and screen.count == 0
        lines = note_lines(table)
        assert lines[0] == "No tickets in My tickets."
        listed = {line.split()[0]: line for line in lines if line[:1].isdigit()}
        assert list(listed) == ["2", "3", "4", "5", "6", "7"]
        assert "Unassigned" in listed["3"] and "All open" in listed["6"]
        assert listed["6"].split()[-1] == str(open_count(queue_store))
        assert listed["3"].split()[-1] == str(sum(1 for t in TICKETS if t[4] is None))
        # The note stays through polls.
        screen.poll_now()
        await settle(pilot)
        assert note_lines(table) == lines
        # Each number is what its view holds when you go there.
        for key, line in listed.items():
            await pilot.press(key)
            await settle(pilot)
            assert screen.count == int(line.split()[-1]), line
        # A search with no match here: the other views are counted with the search.
        await pilot.press("slash", *"printer", "enter", "1")
        await settle(pilot)
        lines = note_lines(table)
        assert lines[0] == "Nothing in My tickets matches this search or filter."
        counts = {line.split()[0]: line.split()[-1] for line in lines if line[:1].isdigit()}
        assert counts["6"] == "1" and counts["3"] == "1" and counts["5"] == "0"
        await pilot.press("slash", *"nowhere-at-all", "enter")
        await settle(pilot)
        assert note_lines(table)[1:] == ["Nothing in the other views either."]


@run_async
async def test_a_box_submitted_empty_goes_and_one_with_text_stays(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        box = screen.query_one("#filter", Input)
        await pilot.press("f", *"priority:P3", "enter")
        await settle(pilot)
        assert box.has_class("shown") and screen.table.has_focus
        await pilot.press("f", "ctrl+u", "enter")
        await settle(pilot)
        assert not box.has_class("shown") and screen.table.has_focus
        assert screen.filter_text == ""


@run_async
async def test_a_ticket_open_over_the_queue_is_not_redrawn_by_the_queue_below(
    queue_store: Store,
) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        below = queue(app)
        await pilot.press("6", "enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TicketDetailScreen) and detail.loaded is not None
        drawn: list[object] = []
        render_update = detail._compositor.render_update

        def spy(*args: object, **kwargs: object) -> object:
            update = render_update(*args, **kwargs)  # type: ignore[arg-type]
            drawn.append(update)
            return update

        detail._compositor.render_update = spy  # type: ignore[method-assign]
        # The queue below has something to draw (its header's clock turning, a poll's
        # timer): over SSH every redraw of the ticket is bytes on the agent's link.
        below.refresh()
        below.poll_now()
        await settle(pilot)
        below.poll_now()
        await settle(pilot)
        assert drawn == []
        # The ticket's own changes are still drawn.
        detail.refresh_clocks()
        detail.query_one("#detail-title").update("x")  # type: ignore[attr-defined]
        await settle(pilot)
        assert drawn


@run_async
async def test_a_poll_redraws_only_the_rows_that_changed(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = queue(app)
        await pilot.press("6")
        await settle(pilot)
        table = screen.table
        redrawn: list[tuple[object, ...]] = []
        refresh = table.refresh

        def spy(*regions: object, **kwargs: object) -> object:
            redrawn.append(regions)
            return refresh(*regions, **kwargs)  # type: ignore[arg-type]

        table.refresh = spy  # type: ignore[method-assign]
        screen.poll_now()
        await settle(pilot)
        assert screen.polls == 1
        assert redrawn == []  # nothing changed: nothing drawn
        third = table.row_at(2)
        assert third is not None
        with queue_store.write() as session:
            session.execute(
                update(Ticket).where(Ticket.id == third.id).values(title="Renamed in place")
            )
        screen.poll_now()
        await settle(pilot)
        assert screen.polls == 2
        assert [r[0].y for r in redrawn] == [3]  # type: ignore[attr-defined]
        assert "Renamed in place" in line_text(table, 3)
