"""The notification inbox: what an agent sees (theirs and their team's, delivered, unread,
newest first, in keyset pages) and marking notices read, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from itsm_tui.data import directory, inbox
from itsm_tui.data.models import Notification
from itsm_tui.desk import assign_ticket, create_ticket
from itsm_tui.desk.errors import PermissionDenied
from itsm_tui.desk.notifications import mark_read
from itsm_tui.desk.records import get_agent, get_team
from tests.factories import NOW, Desk


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
    assert _ids(desk, "bob") == [others]
    with desk.store.write() as session:
        # Already read: nothing changes, and that is not an error.
        assert mark_read(session, get_agent(session, "alice"), [mine], NOW) == 0
        assert mark_read(session, get_agent(session, "alice"), [], NOW) == 0
    with desk.store.read() as session:
        assert session.get(Notification, mine).read_at == NOW


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
