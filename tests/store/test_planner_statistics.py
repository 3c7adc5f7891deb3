"""SQLite planner statistics stay whole across migrations that add indexes."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from itsm_tui.data import migrate, queue_pages
from itsm_tui.data.queue_views import QueueQuery
from itsm_tui.data.store import Store, sqlite_url
from itsm_tui.data.ticket_filter import TicketFilter
from tests.factories import NOW, build_desk
from tests.store.test_queries import _bulk


def _analysed_store_at_0002(tmp_path: Path) -> Store:
    """A store analysed at revision 0002, before 0003 added ix_tickets_open_age."""
    store = Store(sqlite_url(tmp_path / "desk.db"))
    command.upgrade(migrate.alembic_config(store.engine), "0002")
    build_desk(store)
    _bulk(store)  # inserts tickets, then ANALYZE
    return store


def _open_queue_plan(store: Store) -> list[str]:
    statement = queue_pages.queue_statement(
        QueueQuery(TicketFilter(open_only=True)), now=NOW, limit=100
    )
    compiled = statement.compile(store.engine)
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}",
            tuple(compiled.params[name] for name in compiled.positiontup or ()),
        )
        return [row[-1] for row in rows]


def test_an_upgrade_analyses_the_indexes_it_added(tmp_path: Path) -> None:
    store = _analysed_store_at_0002(tmp_path)
    try:
        store.upgrade()
        plan = _open_queue_plan(store)
        # The open queue by priority reads its first rows from ix_tickets_queue, in order.
        assert any("ix_tickets_queue" in line for line in plan), plan
        assert not any("TEMP B-TREE" in line for line in plan), plan
        assert migrate.analyze_new_indexes(store.engine) == []
    finally:
        store.dispose()


def test_without_the_analysis_the_new_index_steals_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the analysis prevents: the unanalysed index looks selective and wins."""
    monkeypatch.setattr(migrate, "analyze_new_indexes", lambda engine: [])
    store = _analysed_store_at_0002(tmp_path)
    try:
        store.upgrade()
        plan = _open_queue_plan(store)
        assert any("TEMP B-TREE" in line for line in plan), plan
    finally:
        store.dispose()


def test_a_store_never_analysed_is_left_alone(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "desk.db"))
    try:
        store.upgrade()
        assert migrate.analyze_new_indexes(store.engine) == []
        with store.engine.connect() as conn:
            stats = conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).scalar_one()
        assert stats == 0
    finally:
        store.dispose()
