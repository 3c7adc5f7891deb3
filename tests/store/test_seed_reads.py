"""The seed leaves each agent a read mark a few hours before `now`: the demo opens on a
handful of recent notices, never the hundreds its history delivered (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from itsm_tui.cli.setup import DEMO_DAYS, DEMO_TICKETS
from itsm_tui.config import apply_config, load_default_desk
from itsm_tui.data import inbox
from itsm_tui.data.models import Agent, NotificationRead
from itsm_tui.data.seed import reads, seed_store
from itsm_tui.data.store import Store

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def _default_desk(store: Store) -> None:
    with store.write() as s:
        apply_config(s, load_default_desk(), now=NOW - timedelta(days=DEMO_DAYS + 1))


def _inboxes(store: Store) -> dict[str, tuple[datetime | None, int, int]]:
    """username → (read mark, unread without the mark, unread with it)."""
    with store.read() as s:
        return {
            a.username: (
                a.notices_read_through,
                inbox.unread_count(s, a.id, a.team_id, NOW),
                inbox.unread_count(s, a.id, a.team_id, NOW, read_through=a.notices_read_through),
            )
            for a in s.scalars(select(Agent).order_by(Agent.id))
        }


@pytest.fixture
def demo_store(store: Store) -> Store:
    """The demo's history: its ticket count over its span, on the default desk."""
    _default_desk(store)
    seed_store(store, tickets=DEMO_TICKETS, days=DEMO_DAYS, seed=1, now=NOW)
    return store


def test_each_demo_agent_opens_on_at_most_a_handful_of_recent_notices(demo_store: Store) -> None:
    seen = _inboxes(demo_store)
    low, high = reads.READ_LAG_MINUTES
    with demo_store.read() as s:
        ids = {u: i for u, i in s.execute(select(Agent.username, Agent.id))}
        agents = list(s.scalars(select(Agent)))
        days_unread = {
            a.username: inbox.unread_count(
                s, a.id, a.team_id, NOW, read_through=NOW - timedelta(days=1)
            )
            for a in agents
        }
        # Moved earlier, a mark sits a second before a delivery it leaves unread (with any
        # others at that instant): fewer than the fewest come strictly after that instant.
        after_next_second = {
            a.username: inbox.unread_count(
                s, a.id, a.team_id, NOW, read_through=seen[a.username][0] + timedelta(seconds=1)
            )
            for a in agents
            if a.username in seen and seen[a.username][0] is not None
        }
    for username, (mark, _without, unread) in seen.items():
        assert mark is not None, username
        # Read through now − the agent's own lag (one to four hours); later where that
        # left more than the most, earlier (within the day) where it left fewer than the
        # fewest the day delivered.
        lag = timedelta(minutes=reads.read_lag_minutes(ids[username]))
        assert timedelta(minutes=low) <= lag <= timedelta(minutes=high)
        day = days_unread[username]
        assert (
            mark == NOW - lag
            or (mark > NOW - lag and unread == reads.MOST_UNREAD)
            or (
                NOW - timedelta(days=1) <= mark < NOW - lag
                and after_next_second[username] < reads.FEWEST_UNREAD
            )
        ), (username, mark, unread)
        assert min(reads.FEWEST_UNREAD, day) <= unread <= reads.MOST_UNREAD, (username, unread)
    # What the history delivered is still there: hundreds a team, unread without the mark.
    assert max(without for _, without, _ in seen.values()) > 200
    # The handful is real: agents open on notices, and not all read at one instant.
    assert sum(unread > 0 for _, _, unread in seen.values()) > len(seen) // 2
    assert len({mark for mark, _, _ in seen.values()}) > 1
    with demo_store.read() as s:
        assert s.scalar(select(func.count()).select_from(NotificationRead)) == 0


def test_a_busy_inbox_is_read_but_for_the_newest_few(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the lag leaves more than MOST_UNREAD, the mark moves up to the newest one
    past them: exactly MOST_UNREAD stay unread, the newest."""
    monkeypatch.setattr(reads, "MOST_UNREAD", 1)
    monkeypatch.setattr(reads, "READ_LAG_MINUTES", (24 * 60, 24 * 60))
    _default_desk(store)
    seed_store(store, tickets=DEMO_TICKETS, days=DEMO_DAYS, seed=1, now=NOW)
    seen = _inboxes(store)
    capped = {u for u, (mark, _, _) in seen.items() if mark > NOW - timedelta(days=1)}
    assert capped, seen
    with store.read() as s:
        for username in capped:
            agent = s.scalars(select(Agent).where(Agent.username == username)).one()
            mark = agent.notices_read_through
            listed = inbox.unread(s, agent.id, agent.team_id, NOW, read_through=mark)
            newest = inbox.unread(s, agent.id, agent.team_id, NOW, limit=2)
            # The mark is the second newest's delivery: only the newest is after it.
            assert newest[1].deliver_at == mark
            assert [i.id for i in listed] == [i.id for i in newest if i.deliver_at > mark]
    assert all(unread <= 1 for _, _, unread in seen.values())


def test_a_later_mark_is_kept_when_the_desk_is_seeded_again(store: Store) -> None:
    _default_desk(store)
    seed_store(store, tickets=200, days=10, seed=1, now=NOW)
    with store.write() as s:
        first = s.scalars(select(Agent).order_by(Agent.id)).first()
        assert first is not None
        first.notices_read_through = NOW
        username = first.username
    seed_store(store, tickets=200, days=10, seed=2, now=NOW)
    assert _inboxes(store)[username][0] == NOW


def _at(minutes: int) -> str:
    """An instant `minutes` after 09:00 as the store writes it (text)."""
    return (datetime(2026, 11, 24, 9, 0) + timedelta(minutes=minutes)).strftime(
        "%Y-%m-%d %H:%M:%S.%f"
    )


def test_the_mark_leaves_between_the_fewest_and_the_most_unread() -> None:
    caught_up = _at(60)
    # Busy: 20 after the lag; read through the 13th newest, 12 stay.
    busy = [_at(61 + k) for k in range(20)]
    assert reads.read_mark(caught_up, busy) == busy[7]
    # Quiet: one after the lag, five in the day: a second before the third newest.
    quiet = [_at(5), _at(10), _at(20), _at(30), _at(70)]
    mark = reads.read_mark(caught_up, quiet)
    assert mark == "2026-11-24 09:19:59.000000"
    assert sum(at > mark for at in quiet) == reads.FEWEST_UNREAD
    # The day delivered two: both stay. Nothing at all: the lag as it is.
    assert sum(at > reads.read_mark(caught_up, [_at(1), _at(2)]) for at in [_at(1), _at(2)]) == 2
    assert reads.read_mark(caught_up, []) == caught_up
    # Enough after the lag: the lag as it is.
    assert reads.read_mark(caught_up, [_at(61), _at(62), _at(63), _at(64)]) == caught_up
    # Twenty at one instant before the lag: leaving three would leave all twenty, so
    # they are read.
    tied = [_at(30)] * 20
    assert sum(at > reads.read_mark(caught_up, tied) for at in tied) == 0
