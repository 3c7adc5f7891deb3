"""The inbox's read mark: "mark all read" moves one timestamp per agent, and the inbox
reads only what was delivered after it, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from itsm_tui.data import inbox
from itsm_tui.data.models import Agent, Notification
from itsm_tui.desk.errors import PermissionDenied
from itsm_tui.desk.notifications import mark_all_read, mark_read
from itsm_tui.desk.records import get_agent, get_team
from tests.factories import NOW, Desk
from tests.store.test_inbox import _bulk_notices, _explain, _notice, _receipts


def _ids(desk: Desk, username: str, now: datetime = NOW) -> list[int]:
    """What the agent's inbox lists, with their read mark as the app passes it."""
    with desk.store.read() as session:
        agent = get_agent(session, username)
        return [
            i.id
            for i in inbox.unread(
                session,
                agent.id,
                agent.team_id,
                now,
                read_through=agent.notices_read_through,
            )
        ]


def _count(desk: Desk, username: str, now: datetime = NOW) -> int:
    with desk.store.read() as session:
        agent = get_agent(session, username)
        return inbox.unread_count(
            session, agent.id, agent.team_id, now, read_through=agent.notices_read_through
        )


def _mark_all(desk: Desk, username: str, now: datetime = NOW) -> datetime:
    with desk.store.write() as session:
        return mark_all_read(session, get_agent(session, username), now)


def _mark(desk: Desk, username: str, ids: list[int], now: datetime = NOW) -> int:
    with desk.store.write() as session:
        return mark_read(session, get_agent(session, username), ids, now)


def _read_mark(desk: Desk, username: str) -> datetime | None:
    with desk.store.read() as session:
        return get_agent(session, username).notices_read_through


def test_mark_all_read_hides_older_own_and_team_notices_for_the_reader_only(desk: Desk) -> None:
    with desk.store.write() as session:
        alice, bob = get_agent(session, "alice"), get_agent(session, "bob")
        network = get_team(session, "Network")
        mine = _notice(session, agent=alice, minutes=-30)
        at_the_mark = _notice(session, agent=alice, minutes=0)
        team = _notice(session, team=alice.team, minutes=-10)
        his = _notice(session, agent=bob, minutes=-5)
        other_team = _notice(session, team=network, minutes=-5)
        not_yet = _notice(session, agent=alice, minutes=+60)
    assert _ids(desk, "alice") == [at_the_mark, team, mine]
    assert _mark_all(desk, "alice") == NOW == _read_mark(desk, "alice")
    # Delivered at or before the mark: read, however many there were.
    assert _ids(desk, "alice") == [] and _count(desk, "alice") == 0
    # Her own notices delivered by now carry the time she read them; one not delivered yet
    # does not, and shows once it is.
    with desk.store.read() as session:
        read = {n.id: n.read_at for n in session.scalars(select(Notification))}
    assert read[mine] == read[at_the_mark] == NOW and read[not_yet] is None
    assert _ids(desk, "alice", NOW + timedelta(hours=2)) == [not_yet]
    # No receipt was written, and nobody else's inbox changed.
    assert _receipts(desk) == {}
    assert read[team] is None and read[his] is None
    assert _ids(desk, "bob") == [his, team] and _count(desk, "bob") == 2
    assert _ids(desk, "nina") == [other_team]
    assert _read_mark(desk, "bob") is None


def test_a_notice_delivered_after_the_mark_is_unread_until_read(desk: Desk) -> None:
    with desk.store.write() as session:
        alice = get_agent(session, "alice")
        old_team = _notice(session, team=alice.team, minutes=-10)
    _mark_all(desk, "alice")
    with desk.store.write() as session:
        alice = get_agent(session, "alice")
        team = _notice(session, team=alice.team, minutes=+5)
        mine = _notice(session, agent=alice, minutes=+7)
    later = NOW + timedelta(minutes=10)
    assert _ids(desk, "alice", later) == [mine, team] and _count(desk, "alice", later) == 2
    # A receipt still reads one team notice after the mark; one under the mark needs none.
    assert _mark(desk, "alice", [team, old_team], later) == 1
    assert _receipts(desk) == {(team, "alice"): later}
    assert _ids(desk, "alice", later) == [mine] and _count(desk, "alice", later) == 1
    assert _mark(desk, "alice", [mine], later) == 1
    assert _ids(desk, "alice", later) == [] and _count(desk, "alice", later) == 0
    # Marking all again moves the mark; what came after the first stays read.
    assert _mark_all(desk, "alice", later) == later
    assert _ids(desk, "alice", later) == []


def test_mark_read_leaves_notices_under_the_mark_alone(desk: Desk) -> None:
    """A notice under the mark is read already: no receipt, no read_at, no change counted
    (a seeded agent's own notices have only the mark, not a read_at)."""
    with desk.store.write() as session:
        alice = get_agent(session, "alice")
        mine = _notice(session, agent=alice, minutes=-20)
        team = _notice(session, team=alice.team, minutes=-20)
        alice.notices_read_through = NOW - timedelta(minutes=10)
    assert _ids(desk, "alice") == [] and _count(desk, "alice") == 0
    assert _mark(desk, "alice", [mine, team]) == 0
    assert _receipts(desk) == {}
    with desk.store.read() as session:
        assert session.get(Notification, mine).read_at is None


def test_mark_all_read_by_an_agent_without_a_team(desk: Desk) -> None:
    with desk.store.write() as session:
        root, alice = get_agent(session, "root"), get_agent(session, "alice")
        hers = _notice(session, agent=root, minutes=-3)
        team = _notice(session, team=alice.team, minutes=-2)
    # Nothing to read is no error either: the mark moves all the same.
    assert _mark_all(desk, "carol") == NOW
    assert _ids(desk, "root") == [hers]
    assert _mark_all(desk, "root") == NOW
    assert _ids(desk, "root") == [] and _count(desk, "root") == 0
    assert _ids(desk, "alice") == [team] and _receipts(desk) == {}


def test_the_mark_only_moves_forward(desk: Desk) -> None:
    """Two sessions whose clocks disagree: the earlier one leaves the later mark alone."""
    with desk.store.write() as session:
        alice = get_agent(session, "alice")
        between = _notice(session, agent=alice, minutes=+30)
    ahead = NOW + timedelta(hours=1)
    assert _mark_all(desk, "alice", ahead) == ahead
    assert _mark_all(desk, "alice", NOW) == ahead == _read_mark(desk, "alice")
    assert _ids(desk, "alice", ahead) == []
    with desk.store.read() as session:
        assert session.get(Notification, between).read_at == ahead


def test_mark_all_read_refuses_an_inactive_agent(desk: Desk) -> None:
    with desk.store.write() as session:
        get_agent(session, "alice").active = False
    with pytest.raises(PermissionDenied), desk.store.write() as session:
        mark_all_read(session, get_agent(session, "alice"), NOW)
    assert _read_mark(desk, "alice") is None


def test_a_page_and_the_count_read_only_the_index_range_after_the_mark(desk: Desk) -> None:
    agent_id, team_id = _bulk_notices(desk)
    mark = NOW - timedelta(minutes=20)
    with desk.store.read() as session:
        everything = inbox.unread(session, agent_id, team_id, NOW, limit=10_000)
    after_mark = [i.id for i in everything if i.deliver_at > mark]
    assert 0 < len(after_mark) < len(everything)
    with desk.store.read() as session:
        listed = inbox.unread(session, agent_id, team_id, NOW, limit=10_000, read_through=mark)
        count = inbox.unread_count(session, agent_id, team_id, NOW, read_through=mark)
    assert [i.id for i in listed] == after_mark and count == len(after_mark)
    page = inbox.unread_statement(agent_id, team_id, NOW, limit=20, read_through=mark)
    branches = [
        select(func.count()).select_from(Notification).where(*b.where).scalar_subquery()
        for b in inbox._branches(agent_id, team_id, NOW, mark)
    ]
    counted = select(branches[0] + branches[1])
    for statement in (page, counted):
        plan = "\n".join(line for _, _, line in _explain(desk, statement))
        if desk.store.is_sqlite:
            # Both ends of deliver_at in the index's key: the range starts at the mark.
            assert (
                "INDEX ix_notifications_inbox (agent_id=? AND read_at=? AND deliver_at>? AND"
                " deliver_at<?)" in plan
            ), plan
            assert (
                "INDEX ix_notifications_team (team_id=? AND agent_id=? AND read_at=? AND"
                " deliver_at>? AND deliver_at<?)" in plan
            ), plan
            assert "SCAN notifications" not in plan
        else:
            conditions = [line for line in plan.splitlines() if "Index Cond" in line]
            assert len([c for c in conditions if "deliver_at >" in c]) == 2, plan
            assert "using ix_notifications_inbox" in plan and "using ix_notifications_team" in plan
            assert "Seq Scan" not in plan


def test_a_new_agent_has_no_mark(desk: Desk) -> None:
    with desk.store.write() as session:
        session.add(Agent(username="newcomer", display_name="New", roles="agent"))
    assert _read_mark(desk, "newcomer") is None
