"""The store's change marker (`Store.change_marker`), on both databases: the same while
only reads happen (and, on SQLite, across a rolled-back write; PostgreSQL gives a write
its xid even when it rolls back, so the marker moves: a poll reads once more), different
after every commit, made by this process's store or by another one on the same database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from itsm_tui.data.models import Ticket
from itsm_tui.data.store import open_store
from itsm_tui.desk import create_ticket
from tests.factories import NOW, Desk


def _create(store, title: str) -> None:  # type: ignore[no-untyped-def]
    from itsm_tui.desk.records import get_agent

    with store.write() as s:
        create_ticket(
            s, get_agent(s, "alice"), type="incident", title=title, impact=3, urgency=3, now=NOW
        )


def test_marker_stands_still_while_nothing_is_committed(desk: Desk) -> None:
    first = desk.store.change_marker()
    assert first is not None
    with desk.store.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) is not None
    assert desk.store.change_marker() == first

    if not desk.store.is_sqlite:
        return  # PostgreSQL gives a write its xid even when it rolls back: it moves then

    class Refused(Exception):
        pass

    with pytest.raises(Refused), desk.store.write() as s:
        from itsm_tui.desk.records import get_agent

        create_ticket(
            s, get_agent(s, "alice"), type="incident", title="never", impact=3, urgency=3, now=NOW
        )
        raise Refused
    assert desk.store.change_marker() == first


def test_marker_moves_with_each_commit_here_and_elsewhere(desk: Desk) -> None:
    before = desk.store.change_marker()
    _create(desk.store, "written here")
    after_own = desk.store.change_marker()
    assert after_own != before

    # Another process's store on the same database (a second console, the CLI).
    other = open_store(desk.store.url, upgrade=False)
    try:
        _create(other, "written elsewhere")
    finally:
        other.dispose()
    assert desk.store.change_marker() not in (before, after_own)
