"""The wall panel in a Pilot: large figures, rotation through the teams, the store going away
and coming back (fixed desk, fixed clock)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

from itsm_tui.screens.kpi.wall import Figure, WallApp, parse_rotation
from tests.ui.snapshot_apps import build_queue_store, queue_context, run_async, settle


def wall_app(path: Path, **kwargs: object) -> WallApp:
    store = build_queue_store(path)
    return WallApp(queue_context(store, "sam"), poll_seconds=0, **kwargs)  # type: ignore[arg-type]


def _text(app: WallApp, selector: str) -> str:
    return str(app.query_one(selector).render())


@contextmanager
def _unreachable() -> Iterator[None]:
    raise OperationalError("connect", {}, Exception("server closed the connection"))
    yield  # pragma: no cover


class Covering(ModalScreen[None]):
    """Anything over the panel (the command palette, a question)."""

    def compose(self) -> ComposeResult:
        yield Static("over the wall")


@run_async
async def test_wall_shows_breaches_and_backlog_first(tmp_path: Path) -> None:
    app = wall_app(tmp_path / "desk.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.report is not None
        digits = [f.value for f in app.query(Figure)]
        by_key = app.report.by_key()
        # breaches today, nearing breach, backlog: in that order, as the report measured.
        assert digits == [
            str(int(by_key[key].value or 0))
            for key in ("breaches_today", "nearing_breach", "backlog")
        ]
        assert digits[2] == "8"
        assert "whole desk" in _text(app, "#wall-title")


@run_async
async def test_wall_rotates_through_the_teams_then_the_desk(tmp_path: Path) -> None:
    app = wall_app(tmp_path / "desk.db", rotate_seconds=30)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.teams == ("Network", "Service Desk")
        seen = []
        for _ in range(3):
            app.rotate()
            await settle(pilot)
            assert app.report is not None
            seen.append((app.scope.team, app.report.cut.team))
            assert (app.scope.team or "whole desk") in _text(app, "#wall-title")
        assert seen == [("Network", "Network"), ("Service Desk", "Service Desk"), (None, None)]


@run_async
async def test_wall_says_reconnecting_and_carries_on(tmp_path: Path) -> None:
    app = wall_app(tmp_path / "desk.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = app.report
        store = app.desk.store
        real_read = store.read
        store.read = _unreachable  # type: ignore[method-assign]
        app.reload()
        await settle(pilot)
        app.reload()
        await settle(pilot)
        assert "reconnecting" in _text(app, "#wall-state")
        assert app.has_class("-stale")
        # The last figures stay up (dimmed) while the store is away.
        assert app.report is before
        assert app.query(Figure).last().value == "8"
        store.read = real_read  # type: ignore[method-assign]
        app.reload()
        await settle(pilot)
        assert "reconnecting" not in _text(app, "#wall-state")
        assert not app.has_class("-stale")
        assert app.unreachable_since is None
        assert app.report is not before


@run_async
async def test_wall_reconnects_on_its_own_refresh(tmp_path: Path) -> None:
    """A failed read arms the next one like a good one: the panel tries again by itself and
    carries on once the store is back (the interval's wait skipped by `poll_now`)."""
    store = build_queue_store(tmp_path / "desk.db")
    app = WallApp(queue_context(store, "sam"), poll_seconds=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.live is not None and app.live.armed
        reads = app.reads
        real_read = store.read
        store.read = _unreachable  # type: ignore[method-assign]
        app.poll_now()
        await settle(pilot)
        assert "reconnecting" in _text(app, "#wall-state")
        assert app.live.armed  # the next try is on its timer
        app.poll_now()
        await settle(pilot)
        assert "reconnecting" in _text(app, "#wall-state") and app.live.armed
        store.read = real_read  # type: ignore[method-assign]
        app.poll_now()
        await settle(pilot)
        assert "reconnecting" not in _text(app, "#wall-state")
        assert not app.has_class("-stale")
        assert app.reads == reads + 1 and app.live.armed


@run_async
async def test_wall_reads_nothing_while_a_modal_covers_it(tmp_path: Path) -> None:
    app = wall_app(tmp_path / "desk.db", rotate_seconds=30)
    app._poll_seconds = 3600
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.live is not None
        reads, scope = app.reads, app.scope
        await app.push_screen(Covering())
        await settle(pilot)
        app.poll_now()
        app.rotate()
        await settle(pilot)
        assert (app.reads, app.scope) == (reads, scope)
        # Still looking, to read again once uncovered.
        assert app.live.armed
        app.pop_screen()
        app.poll_now()
        await settle(pilot)
        assert app.reads == reads + 1


@run_async
async def test_wall_reads_do_not_stack(tmp_path: Path) -> None:
    """Refreshes asked for while a read is under way make one more read, not one each."""
    app = wall_app(tmp_path / "desk.db")
    app._poll_seconds = 3600
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.live is not None
        reads = app.reads
        for _ in range(5):
            app.poll_now()
        await settle(pilot)
        assert app.reads == reads + 2
        assert app.live.armed


def test_rotation_times() -> None:
    assert parse_rotation("30s") == 30
    assert parse_rotation("2m") == 120
    assert parse_rotation("1h") == 3600
    with pytest.raises(ValueError, match="30s, 2m or 1h"):
        parse_rotation("soon")
    with pytest.raises(ValueError, match="between 5s and 24h"):
        parse_rotation("1s")
