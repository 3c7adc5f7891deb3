"""Problem management on both databases: links both ways, the analysis, the known error,
the fix change, the article and the cascade that resolves the incidents."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from itsm_tui import desk as d
from itsm_tui.data import problem_reads as reads
from itsm_tui.data.models import AuditEvent, Change, Comment, KnowledgeArticle, Ticket
from itsm_tui.desk import problems as p
from tests.factories import NOW
from tests.store.test_desk_tickets import audit_of, incident, snapshot, ticket, write


def _problem_of(desk: Any, numbers: list[str], **kwargs: Any) -> str:
    return write(desk, "alice", p.create_problem, incidents=numbers, **kwargs).number


def test_problem_from_incidents_links_both_ways(desk: Any) -> None:
    a = incident(desk, service="VPN", impact=3, urgency=2)
    b = incident(desk, service="VPN", impact=2, urgency=3, title="VPN drops after lunch")
    number = _problem_of(desk, [a, b.lower(), a])
    prb = ticket(desk, number)
    assert prb.type == "problem" and prb.status == "new"
    assert prb.title == "Recurring: VPN drops every hour"
    assert prb.service.name == "VPN"
    # The highest impact and urgency among its incidents.
    assert (prb.impact, prb.urgency) == (2, 2)
    with desk.store.read() as s:
        linked = [i.number for i in reads.linked_incidents(s, p.get_problem(s, number))]
        assert sorted(linked) == sorted([a, b])
        assert {
            t.problem_id for t in s.scalars(select(Ticket).where(Ticket.number.in_([a, b])))
        } == {prb.id}
    # Both ends audited: the incident names its problem, the problem its incidents.
    assert [(e.field, e.new_value) for e in audit_of(desk, a) if e.action == "link"] == [
        ("problem", number)
    ]
    assert sorted(e.new_value for e in audit_of(desk, number) if e.field == "incident") == sorted(
        [a, b]
    )


def test_incident_of_another_problem_refused_and_nothing_written(desk: Any) -> None:
    a = incident(desk)
    b = incident(desk)
    first = _problem_of(desk, [a])
    before = snapshot(desk)
    with pytest.raises(d.InvalidInput, match=f"{a} is already linked to {first}"):
        _problem_of(desk, [b, a])
    assert snapshot(desk) == before
    request = write(
        desk, "alice", d.create_ticket, type="request", title="Laptop", impact=3, urgency=3
    ).number
    before = snapshot(desk)
    with pytest.raises(d.InvalidInput, match="only incidents"):
        write(desk, "alice", p.link_incidents, first, [request])
    assert snapshot(desk) == before


def test_link_and_unlink_incident(desk: Any) -> None:
    a, b = incident(desk), incident(desk)
    number = _problem_of(desk, [a])
    write(desk, "bob", p.link_incidents, number, [b])
    assert ticket(desk, b).problem_id == ticket(desk, number).id
    write(desk, "bob", p.unlink_incident, number, b)
    assert ticket(desk, b).problem_id is None
    assert [(e.field, e.old_value) for e in audit_of(desk, number) if e.old_value == b] == [
        ("incident", b)
    ]


def test_root_cause_with_five_whys_starts_investigation(desk: Any) -> None:
    number = _problem_of(desk, [incident(desk)])
    whys = ["tunnel drops", "rekey fails", "clock skew", "NTP blocked", "firewall rule"]
    write(desk, "alice", p.record_root_cause, number, root_cause="NTP blocked", whys=whys)
    prb = ticket(desk, number)
    assert prb.root_cause == "NTP blocked"
    assert prb.analysis == {"method": "five_whys", "whys": whys}
    assert prb.status == "investigating"
    write(desk, "alice", p.record_root_cause, number, root_cause="NTP", analysis="Packet capture")
    assert ticket(desk, number).analysis == {"method": "free_text", "text": "Packet capture"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"whys": ["a", " "]}, "each why needs an answer"),
        ({"whys": ["a"], "analysis": "b"}, "not both"),
        ({"whys": [str(n) for n in range(8)]}, "at most 7"),
    ],
)
def test_bad_analysis_refused(desk: Any, kwargs: dict[str, Any], message: str) -> None:
    number = _problem_of(desk, [incident(desk)])
    before = snapshot(desk)
    with pytest.raises(d.InvalidInput, match=message):
        write(desk, "alice", p.record_root_cause, number, root_cause="x", **kwargs)
    assert snapshot(desk) == before


def test_workaround_makes_a_known_error_and_cascade_resolves_chosen_incidents(desk: Any) -> None:
    a, b, c = incident(desk), incident(desk), incident(desk)
    number = _problem_of(desk, [a, b, c])
    with pytest.raises(d.TransitionRefused, match="neither a fix nor a published workaround"):
        write(desk, "alice", p.resolve_incidents, number, [a])
    write(desk, "alice", p.publish_workaround, number, workaround="Reconnect with split tunnel")
    prb = ticket(desk, number)
    assert (prb.status, prb.known_error) == ("known_error", True)
    write(desk, "alice", p.resolve_incidents, number, [a, c])
    assert ticket(desk, a).status == "resolved"
    assert ticket(desk, a).resolution_code == "workaround"
    assert ticket(desk, b).status != "resolved"
    with desk.store.read() as s:
        replies = s.scalars(
            select(Comment.body).where(
                Comment.ticket_id == ticket(desk, c).id, Comment.kind == "reply"
            )
        ).all()
    assert replies == [f"Workaround from known error {number}: Reconnect with split tunnel"]
    noted = [e.new_value for e in audit_of(desk, number) if e.action == "resolve_incidents"]
    assert noted == [f'["{a}", "{c}"]']


def test_cascade_is_all_or_nothing(desk: Any) -> None:
    a, b = incident(desk), incident(desk)
    stranger = incident(desk)
    number = _problem_of(desk, [a, b])
    write(desk, "alice", p.resolve_problem, number, notes="Patched the VPN gateway")
    before = snapshot(desk)
    with pytest.raises(d.InvalidInput, match=f"{stranger} is not linked to {number}"):
        write(desk, "alice", p.resolve_incidents, number, [a, stranger])
    assert snapshot(desk) == before
    write(desk, "alice", p.resolve_incidents, number, [a, b])
    assert ticket(desk, b).resolution_code == "fixed"
    assert ticket(desk, b).resolution_notes == f"{number} is resolved: Patched the VPN gateway"
    with pytest.raises(d.TransitionRefused, match=f"{a} is already resolved"):
        write(desk, "alice", p.resolve_incidents, number, [a])


def test_fix_change_carries_the_link(desk: Any) -> None:
    number = _problem_of(desk, [incident(desk, service="VPN")])
    write(desk, "alice", p.record_root_cause, number, root_cause="Gateway firmware")
    change = write(desk, "alice", p.raise_fix_change, number).number
    with desk.store.read() as s:
        row = s.scalars(select(Change).where(Change.number == change)).one()
        assert row.problem_id == p.get_problem(s, number).id
        assert row.services == ["VPN"]
        assert "Gateway firmware" in row.description
        assert [c.number for c in reads.changes_of(s, p.get_problem(s, number))] == [change]
    assert [e.new_value for e in audit_of(desk, number) if e.field == "change"] == [change]


def test_article_from_problem(desk: Any) -> None:
    number = _problem_of(desk, [incident(desk)])
    with pytest.raises(d.InvalidInput, match="an article needs something to tell"):
        write(desk, "alice", p.article_from_problem, number)
    write(desk, "alice", p.publish_workaround, number, workaround="Use the web client")
    kb = write(desk, "alice", p.article_from_problem, number, tags=["vpn"]).number
    with desk.store.read() as s:
        article = s.scalars(select(KnowledgeArticle).where(KnowledgeArticle.number == kb)).one()
        assert article.problem_id == p.get_problem(s, number).id
        assert "## Workaround\n\nUse the web client" in article.body
        assert article.tags == ["vpn"]
        events = s.scalars(select(AuditEvent).where(AuditEvent.record_number == kb)).all()
        assert [e.action for e in events] == ["create"]
    assert [e.new_value for e in audit_of(desk, number) if e.field == "article"] == [kb]


def test_now_is_the_injected_clock(desk: Any) -> None:
    number = _problem_of(desk, [incident(desk)])
    assert ticket(desk, number).opened_at == NOW
