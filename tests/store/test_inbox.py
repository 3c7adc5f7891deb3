"""The notification inbox: what an agent sees (theirs and their team's, delivered, unread,
newest first, in keyset pages) and marking notices read, on both databases."""

from __future__ import annotations

import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, insert, inspect, select, text

from itsm_tui.data import directory, inbox
from itsm_tui.data.migrate import alembic_config, current_revision, head_revision
from itsm_tui.data.models import Agent, Notification, NotificationRead
from itsm_tui.data.store import Store
from itsm_tui.desk import assign_ticket, create_ticket
from itsm_tui.desk.errors import PermissionDenied
from itsm_tui.desk.notifications import mark_read
from itsm_tui.desk.records import get_agent, get_team
from tests.factories import NOW, Desk, build_desk


def _notice(session, *, agent=None, team=None, kind="escalation", minutes=0, message="m"):
    at = NOW + timedelta(minutes=minutes)
    n = Notification(
        agent_id=agent.id if agent else None,
        team_id=team.id if team else None,
        kind=kind,
        message=message,
        created_at=at,
        deliver_at=at,
    )
    session.add(n)
    session.flush()
    return n.id


def _ids(desk: Desk, username: str, now=NOW, **kw) -> list[int]:
    with desk.store.read() as session:
        agent = get_agent(session, username)
        return [i.id for i in inbox.unread(session, agent.id, agent.team_id, now, **kw)]


def test_inbox_holds_own_and_team_notices_delivered_newest_first(desk: Desk) -> None:
    with desk.store.write() as session:
        alice, bob = get_agent(session, "alice"), get_agent(session, "bob")
        service_desk, network = get_team(session, "Service Desk"), get_team(session, "Network")
        mine = _notice(session, agent=alice, minutes=-30)
        team = _notice(session, team=service_desk, minutes=-10)
        _notice(session, agent=bob, minutes=-5)  # a colleague's
        _notice(session, team=network, minutes=-5)  # another team's
        _notice(session, agent=bob, team=service_desk, minutes=-5)  # to bob via the team
        later = _notice(session, agent=alice, minutes=+60)  # not delivered yet
    assert _ids(desk, "alice") == [team, mine]
    assert _ids(desk, "alice", now=NOW + timedelta(hours=2)) == [later, team, mine]
    with desk.store.read() as session:
        alice = get_agent(session, "alice")
        assert inbox.unread_count(session, alice.id, alice.team_id, NOW) == 2


def test_inbox_pages_by_key_without_gaps_or_repeats(desk: Desk) -> None:
    with desk.store.write() as session:
        alice = get_agent(session, "alice")
        # Several notices share a delivery instant: the id breaks the tie.
        made = [_notice(session, agent=alice, minutes=-(i // 3)) for i in range(10)]
    seen: list[int] = []
    after = None
    with desk.store.read() as session:
        alice = get_agent(session, "alice")
        while True:
            page = inbox.unread(session, alice.id, alice.team_id, NOW, limit=4, after=after)
            if not page:
                break
            seen += [i.id for i in page]
            after = inbox.next_key(page)
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen)) == 10
    # Newest first: deliver_at descending, then id descending.
    with desk.store.read() as session:
        rows = {n.id: n for n in session.query(Notification).all()}
    keys = [(rows[i].deliver_at, i) for i in seen]
    assert keys == sorted(keys, reverse=True)


def test_inbox_names_the_ticket_of_an_assignment(desk: Desk) -> None:
    with desk.store.write() as session:
        bob = get_agent(session, "bob")
        ticket = create_ticket(
            session, bob, type="incident", title="VPN down", impact=2, urgency=2, now=NOW
        )
        assign_ticket(session, bob, ticket.number, assignee="alice", now=NOW)
        number = ticket.number
    with desk.store.read() as session:
        alice = get_agent(session, "alice")
        (item,) = inbox.unread(session, alice.id, alice.team_id, NOW)
    assert item.ticket == number and item.kind == "assignment" and not item.to_team


def test_mark_read_marks_only_own_and_team_notices(desk: Desk) -> None:
    with desk.store.write() as session:
        alice, bob = get_agent(session, "alice"), get_agent(session, "bob")
        network = get_team(session, "Network")
        mine = _notice(session, agent=alice)
        team = _notice(session, team=alice.team)
        others = _notice(session, agent=bob)
        other_team = _notice(session, team=network)
    with desk.store.write() as session:
        alice = get_agent(session, "alice")
        changed = mark_read(session, alice, [mine, team, others, other_team], NOW)
    assert changed == 2
    assert _ids(desk, "alice") == []
    # Bob's own notice is not alice's to read; the team notice is read by alice only.
    assert _ids(desk, "bob") == [others, team]
    with desk.store.write() as session:
        # Already read: nothing changes, and that is not an error.
        assert mark_read(session, get_agent(session, "alice"), [mine], NOW) == 0
        assert mark_read(session, get_agent(session, "alice"), [], NOW) == 0
    with desk.store.read() as session:
        assert session.get(Notification, mine).read_at == NOW
        assert session.get(Notification, team).read_at is None
    assert _receipts(desk) == {(team, "alice"): NOW}


def _receipts(desk: Desk) -> dict[tuple[int, str], datetime]:
    """Every receipt of a team notice: (notice, reader) → when."""
    with desk.store.read() as session:
        rows = session.execute(
            select(NotificationRead.notification_id, Agent.username, NotificationRead.read_at).join(
                Agent, Agent.id == NotificationRead.agent_id
            )
        ).all()
    return {(notice, who): at for notice, who, at in rows}


def _count(desk: Desk, username: str, now=NOW) -> int:
    with desk.store.read() as session:
        agent = get_agent(session, username)
        return inbox.unread_count(session, agent.id, agent.team_id, now)


def _mark(desk: Desk, username: str, ids: list[int], now=NOW) -> int:
    with desk.store.write() as session:
        return mark_read(session, get_agent(session, username), ids, now)


def test_each_agent_of_the_team_reads_a_team_notice_for_themselves(desk: Desk) -> None:
    with desk.store.write() as session:
        team = _notice(session, team=get_team(session, "Service Desk"), minutes=-10)
    # alice, bob and sam are the Service Desk.
    for who in ("alice", "bob", "sam"):
        assert _ids(desk, who) == [team] and _count(desk, who) == 1
    assert _mark(desk, "alice", [team]) == 1
    assert _ids(desk, "alice") == [] and _count(desk, "alice") == 0
    assert _ids(desk, "bob") == [team] and _count(desk, "bob") == 1
    assert _ids(desk, "sam") == [team] and _count(desk, "sam") == 1
    # Reading it again is no change, and not an error.
    assert _mark(desk, "alice", [team], NOW + timedelta(minutes=1)) == 0
    assert _mark(desk, "bob", [team], NOW + timedelta(minutes=5)) == 1
    assert _ids(desk, "bob") == [] and _count(desk, "bob") == 0
    assert _ids(desk, "sam") == [team] and _count(desk, "sam") == 1
    # Each receipt keeps its reader's own time; the notice's read_at stays unset.
    assert _receipts(desk) == {(team, "alice"): NOW, (team, "bob"): NOW + timedelta(minutes=5)}
    with desk.store.read() as session:
        assert session.get(Notification, team).read_at is None


def test_reading_ones_own_notice_leaves_colleagues_alone(desk: Desk) -> None:
    with desk.store.write() as session:
        alice, bob = get_agent(session, "alice"), get_agent(session, "bob")
        hers = _notice(session, agent=alice, minutes=-1)
        his = _notice(session, agent=bob, minutes=-2)
        team = _notice(session, team=alice.team, minutes=-3)
    assert _mark(desk, "alice", [hers]) == 1
    assert _ids(desk, "alice") == [team] and _count(desk, "alice") == 1
    assert _ids(desk, "bob") == [his, team] and _count(desk, "bob") == 2
    # A colleague's own notice is not hers to mark.
    assert _mark(desk, "alice", [his]) == 0
    assert _ids(desk, "bob") == [his, team]
    assert _receipts(desk) == {}


def test_another_team_neither_sees_nor_marks_a_team_notice(desk: Desk) -> None:
    with desk.store.write() as session:
        service_desk, network = get_team(session, "Service Desk"), get_team(session, "Network")
        theirs = _notice(session, team=service_desk, minutes=-1)
        ours = _notice(session, team=network, minutes=-2)
    assert _ids(desk, "nina") == [ours] and _count(desk, "nina") == 1
    assert _mark(desk, "nina", [theirs]) == 0
    # root has no team: only notices addressed to root.
    assert _ids(desk, "root") == [] and _count(desk, "root") == 0
    assert _mark(desk, "root", [theirs, ours]) == 0
    assert _receipts(desk) == {}
    assert _ids(desk, "alice") == [theirs] and _ids(desk, "bob") == [theirs]
    assert _mark(desk, "nina", [theirs, ours]) == 1
    assert _receipts(desk) == {(ours, "nina"): NOW}
    assert _ids(desk, "carol") == [ours]  # nina's colleague still has it


def test_marking_twice_changes_nothing_the_second_time(desk: Desk) -> None:
    with desk.store.write() as session:
        alice = get_agent(session, "alice")
        mine = _notice(session, agent=alice)
        team = _notice(session, team=alice.team)
    # An id given twice is one notice.
    assert _mark(desk, "alice", [mine, team, mine, team]) == 2
    assert _mark(desk, "alice", [mine, team]) == 0
    assert _mark(desk, "alice", [team]) == 0
    assert _receipts(desk) == {(team, "alice"): NOW}


def test_a_team_notice_read_before_receipts_stays_read_for_everyone(desk: Desk) -> None:
    """Before revision 0004 the first reader set the team notice's read_at for the team."""
    with desk.store.write() as session:
        team = _notice(session, team=get_team(session, "Service Desk"))
        session.get(Notification, team).read_at = NOW - timedelta(days=1)
    for who in ("alice", "bob"):
        assert _ids(desk, who) == [] and _count(desk, who) == 0
        assert _mark(desk, who, [team]) == 0
    assert _receipts(desk) == {}


def test_inbox_pages_across_own_and_team_notices_each_once_in_order(desk: Desk) -> None:
    with desk.store.write() as session:
        alice, bob = get_agent(session, "alice"), get_agent(session, "bob")
        service_desk, network = get_team(session, "Service Desk"), get_team(session, "Network")
        # Own and team notices alternate and share delivery instants (three to a minute).
        made = [
            _notice(
                session,
                agent=alice if i % 2 else None,
                team=None if i % 2 else service_desk,
                minutes=-(i // 3),
            )
            for i in range(17)
        ]
        # Not alice's: a colleague's, one to bob through the team, another team's, and
        # one not delivered yet.
        _notice(session, agent=bob, minutes=-1)
        _notice(session, agent=bob, team=service_desk, minutes=-2)
        _notice(session, team=network, minutes=-3)
        _notice(session, team=service_desk, minutes=+5)
    to_team = {n: i % 2 == 0 for i, n in enumerate(made)}
    read_by_alice = [made[0], made[3], made[7], made[12]]  # team, own, own, team
    read_by_bob = [made[2], made[4], made[10]]  # team notices: bob's reading is not hers
    assert _mark(desk, "alice", read_by_alice) == 4
    assert _mark(desk, "bob", read_by_bob) == 3
    expected = [i for i in made if i not in read_by_alice]
    with desk.store.read() as session:
        when = {n.id: n.deliver_at for n in session.scalars(select(Notification))}
    expected.sort(key=lambda i: (when[i], i), reverse=True)
    for limit in (1, 3, 4, 50):
        seen: list[int] = []
        pages = 0
        after = None
        with desk.store.read() as session:
            alice = get_agent(session, "alice")
            while True:
                page = inbox.unread(session, alice.id, alice.team_id, NOW, limit=limit, after=after)
                assert len(page) <= limit
                if not page:
                    break
                pages += 1
                seen += [i.id for i in page]
                assert all(i.read_at is None for i in page)
                assert [i.to_team for i in page] == [to_team[i.id] for i in page]
                after = inbox.next_key(page)
        assert seen == expected, limit
        assert pages == -(-len(expected) // limit)
    assert _count(desk, "alice") == len(expected) == 13


def test_one_agent_marking_in_two_sessions_at_once_is_not_an_error(desk: Desk) -> None:
    """The second insert of the same receipt waits for the first and then does nothing."""
    with desk.store.write() as session:
        team = _notice(session, team=get_team(session, "Service Desk"))
    with ThreadPoolExecutor(max_workers=1) as pool, desk.store.write() as first:
        assert mark_read(first, get_agent(first, "alice"), [team], NOW) == 1
        second = pool.submit(_mark, desk, "alice", [team], NOW + timedelta(minutes=1))
        if desk.store.is_sqlite:
            time.sleep(0.2)  # the second writer waits on the busy timeout
        else:
            _wait_until_blocked(desk)
        assert not second.done()
    # The first commits here; the second then finds the receipt and changes nothing.
    assert second.result(timeout=30) == 0
    assert _receipts(desk) == {(team, "alice"): NOW}


def _wait_until_blocked(desk: Desk) -> None:
    """Until some PostgreSQL backend waits for a lock (the second insert on the key)."""
    deadline = time.monotonic() + 10
    with desk.store.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second session never waited for the first")


def test_mark_read_refuses_an_inactive_agent(desk: Desk) -> None:
    with desk.store.write() as session:
        alice = get_agent(session, "alice")
        mine = _notice(session, agent=alice)
        alice.active = False
    with pytest.raises(PermissionDenied), desk.store.write() as session:
        mark_read(session, get_agent(session, "alice"), [mine], NOW)
    assert _ids(desk, "alice") == [mine]


def test_form_choices_list_active_agents_and_teams_by_tier(desk: Desk) -> None:
    with desk.store.write() as session:
        get_agent(session, "bob").active = False
    with desk.store.read() as session:
        choices = directory.form_choices(session)
    assert choices.teams == ("Service Desk", "Network")
    names = [a.username for a in choices.agents]
    assert "bob" not in names and "alice" in names
    assert choices.services == ("Email", "VPN")
    assert [c.code for c in choices.catalogue] == ["laptop"]
    assert choices.catalogue[0].form[0]["name"] == "model"


# ---------------------------------------------------------------------------
# Plans: index ranges and key probes however many notices the desk holds


def _bulk_notices(desk: Desk, n: int = 3000) -> tuple[int, int]:
    """`n` notices straight into the tables, most of them read; alice's id and team."""
    rng = random.Random(4)
    with desk.store.write() as session:
        agents = list(session.scalars(select(Agent).where(Agent.team_id.is_not(None))))
        alice = get_agent(session, "alice")
        rows = []
        for i in range(n):
            at = NOW - timedelta(minutes=i)
            to = rng.choice(agents)
            to_team = rng.random() < 0.4
            rows.append(
                {
                    "id": i + 1,
                    "agent_id": None if to_team else to.id,
                    "team_id": to.team_id if to_team else None,
                    "kind": "warning",
                    "message": "m",
                    "created_at": at,
                    "deliver_at": at,
                    "read_at": None if to_team or i < 50 else at,
                }
            )
        session.execute(insert(Notification), rows)
        receipts = [
            {"notification_id": r["id"], "agent_id": a.id, "read_at": r["deliver_at"]}
            for r in rows
            if r["team_id"] is not None and r["id"] > 50
            for a in agents
            if a.team_id == r["team_id"]
        ]
        session.execute(insert(NotificationRead), receipts)
        ids = (alice.id, alice.team_id)
    with desk.store.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return ids


def _explain(desk: Desk, statement: Any) -> list[tuple[int, int, str]]:
    """(id, parent, line) of the plan. On PostgreSQL, full scans and sorts are priced out:
    on a few thousand rows they are cheapest, so this asks instead whether the indexes
    deliver the rows and their order at all, which is the plan a LIMIT over millions picks."""
    compiled = statement.compile(desk.store.engine)
    with desk.store.engine.connect() as conn:
        if desk.store.is_sqlite:
            params = tuple(compiled.params[k] for k in compiled.positiontup or ())
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params).all()
            return [(row[0], row[1], row[3]) for row in rows]
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            conn.exec_driver_sql(f"SET LOCAL {setting} = off")
        rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).all()
        conn.rollback()
        return [(i, -1, row[0]) for i, row in enumerate(rows)]


def test_unread_pages_walk_the_indexes_and_probe_receipts_by_key(desk: Desk) -> None:
    agent_id, team_id = _bulk_notices(desk)
    with desk.store.read() as session:
        first = inbox.unread(session, agent_id, team_id, NOW, limit=20)
    for after in (None, inbox.next_key(first)):
        plan = _explain(desk, inbox.unread_statement(agent_id, team_id, NOW, limit=20, after=after))
        text_plan = "\n".join(line for _, _, line in plan)
        if desk.store.is_sqlite:
            assert (
                "SEARCH notifications USING COVERING INDEX ix_notifications_inbox"
                " (agent_id=? AND read_at=?" in text_plan
            )
            assert (
                "SEARCH notifications USING COVERING INDEX ix_notifications_team"
                " (team_id=? AND agent_id=? AND read_at=?" in text_plan
            )
            assert (
                "SEARCH notification_reads USING COVERING INDEX"
                " sqlite_autoindex_notification_reads_1 (notification_id=? AND agent_id=?)"
                in text_plan
            )
            assert "SCAN notifications" not in text_plan
            # Only the merge sorts (at most 2 × limit rows): no branch sorts its range.
            arms = {i for i, _, line in plan if line in ("LEFT", "RIGHT")}
            sorts = [parent for _, parent, line in plan if "TEMP B-TREE" in line]
            assert sorts and set(sorts) <= arms, plan
        else:
            assert "Index Only Scan Backward using ix_notifications_team" in text_plan, text_plan
            assert "Scan Backward using ix_notifications_inbox" in text_plan, text_plan
            assert "Anti Join" in text_plan and "using pk_notification_reads" in text_plan
            assert "Seq Scan" not in text_plan
            # The merge sorts at most 2 × limit rows; no branch sorts its range (the own
            # branch only breaks ties on deliver_at by id, incrementally).
            full_sorts = [line for _, _, line in plan if re.match(r"\s*(->\s+)?Sort\s+\(", line)]
            assert len(full_sorts) == 1, text_plan


def test_unread_count_walks_the_indexes_and_probes_receipts_by_key(desk: Desk) -> None:
    agent_id, team_id = _bulk_notices(desk)
    branches = [
        select(func.count()).select_from(Notification).where(*b.where).scalar_subquery()
        for b in inbox._branches(agent_id, team_id, NOW)
    ]
    plan = "\n".join(line for _, _, line in _explain(desk, select(branches[0] + branches[1])))
    if desk.store.is_sqlite:
        assert "COVERING INDEX ix_notifications_inbox (agent_id=? AND read_at=?" in plan
        assert (
            "COVERING INDEX ix_notifications_team (team_id=? AND agent_id=? AND read_at=?" in plan
        )
        assert "sqlite_autoindex_notification_reads_1 (notification_id=? AND agent_id=?)" in plan
        assert "SCAN notifications" not in plan
    else:
        assert "using ix_notifications_inbox" in plan and "using ix_notifications_team" in plan
        assert "Seq Scan" not in plan
    with desk.store.read() as session:
        listed = inbox.unread(session, agent_id, team_id, NOW, limit=10_000)
        assert inbox.unread_count(session, agent_id, team_id, NOW) == len(listed) > 0


# ---------------------------------------------------------------------------
# The upgrade to receipts


def test_upgrading_keeps_team_notices_read_before_it_read(db_url: str) -> None:
    store = Store(db_url)
    try:
        command.upgrade(alembic_config(store.engine), "0003")
        old = build_desk(store)
        with store.write() as session:
            team = get_team(session, "Service Desk")
            was_read = _notice(session, team=team, minutes=-2)
            session.get(Notification, was_read).read_at = NOW - timedelta(minutes=1)
            unread_one = _notice(session, team=team, minutes=-1)
        store.upgrade()
        assert current_revision(store.engine) == head_revision()
        assert _ids(old, "alice") == [unread_one] and _ids(old, "bob") == [unread_one]
        assert _mark(old, "alice", [was_read, unread_one]) == 1
        assert _ids(old, "bob") == [unread_one]
        # And back: the receipts go, the notices stay.
        command.downgrade(alembic_config(store.engine), "0003")
        assert "notification_reads" not in inspect(store.engine).get_table_names()
        store.upgrade()
        assert _ids(old, "alice") == [unread_one]
    finally:
        store.dispose()
