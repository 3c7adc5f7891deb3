"""The wall panel in a Pilot: large figures, rotation through the teams, the store going away
and coming back (fixed desk, fixed clock)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from itsm_tui.screens.kpi.wall import WallApp, parse_rotation
from tests.ui.snapshot_apps import build_queue_store, queue_context, run_async, settle


def wall_app(path: Path, **kwargs: object) -> WallApp:
    store = build_queue_store(path)
    return WallApp(queue_context(store, "sam"), poll_seconds=0, **kwargs)  # type: ignore[arg-type]


def _text(app: WallApp, selector: str) -> str:
    return str(app.query_one(selector).render())


@run_async
async def test_wall_shows_breaches_and_backlog_first(tmp_path: Path) -> None:
    app = wall_app(tmp_path / "desk.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.report is not None
        digits = [d.value for d in app.query("Digits")]  # type: ignore[attr-defined]
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

        @contextmanager
        def unreachable() -> Iterator[None]:
            raise OperationalError("connect", {}, Exception("server closed the connection"))
            yield  # pragma: no cover

        store.read = unreachable  # type: ignore[method-assign]
        app.reload()
        await settle(pilot)
        app.reload()
        await settle(pilot)
        assert "reconnecting" in _text(app, "#wall-state")
        assert app.has_class("-stale")
        # The last figures stay up (dimmed) while the store is away.
        assert app.report is before
        assert app.query("Digits").last().value == "8"  # type: ignore[attr-defined]
        store.read = real_read  # type: ignore[method-assign]
        app.reload()
        await settle(pilot)
        assert "reconnecting" not in _text(app, "#wall-state")
        assert not app.has_class("-stale")
        assert app.unreachable_since is None
        assert app.report is not before


def test_rotation_times() -> None:
    assert parse_rotation("30s") == 30
    assert parse_rotation("2m") == 120
    assert parse_rotation("1h") == 3600
    with pytest.raises(ValueError, match="30s, 2m or 1h"):
        parse_rotation("soon")
    with pytest.raises(ValueError, match="between 5s and 24h"):
        parse_rotation("1s")
