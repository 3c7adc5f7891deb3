"""A small desk with a ticket for alice and one for bob, for the remote sessions' tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from itsm_tui.data.store import Store
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.tickets import create_ticket
from tests.factories import NOW, build_desk


@pytest.fixture
def desk_store(sqlite_store: Store) -> Iterator[Store]:
    build_desk(sqlite_store)
    with sqlite_store.write() as session:
        for agent, title in (("alice", "VPN drops every hour"), ("bob", "Printer jams on floor 3")):
            create_ticket(
                session,
                get_agent(session, agent),
                type="incident",
                title=title,
                impact=2,
                urgency=2,
                assignee=agent,
                now=NOW,
            )
    yield sqlite_store
