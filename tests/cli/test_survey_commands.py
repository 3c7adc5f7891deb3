"""`itsm survey send|record` on both databases: one link per ticket, one use per link."""

from __future__ import annotations

from sqlalchemy import select

from itsm_tui.data.models import AuditEvent, Survey, SurveyInvitation, Ticket
from tests.cli.conftest import NOW_ISO, Itsm, assert_refused, snapshot


def _resolved(itsm: Itsm) -> None:
    itsm.ok(
        "ticket", "create", "--type", "incident", "--title", "VPN down", "--impact", "2",
        "--urgency", "2", "--requester", "wei@example.com",
    )  # fmt: skip
    itsm.ok("ticket", "resolve", "INC0000001", "--code", "fixed", "--notes", "Rebooted")


def test_a_link_records_the_requesters_rating_once(itsm: Itsm) -> None:
    _resolved(itsm)
    sent = itsm.json("survey", "send", "INC0000001")
    assert (sent["ticket"], sent["requester"]) == ("INC0000001", "wei@example.com")
    token = sent["token"]
    with itsm.store.read() as s:
        # Only the hash is kept: the store does not hold a usable link.
        assert s.scalar(select(SurveyInvitation.token_hash)) != token
    recorded = itsm.json("survey", "record", token, "--rating", "4", "--comment", "quick fix")
    assert recorded == {
        "ticket": "INC0000001",
        "rating": 4,
        "comment": "quick fix",
        "submitted_at": NOW_ISO,
    }
    with itsm.store.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "survey")).one()
        assert (event.actor_id, event.new_value) == (None, "4")
    before = snapshot(itsm.store)
    assert_refused(itsm("survey", "record", token, "--rating", "1"), says="already used")
    assert snapshot(itsm.store) == before
    detail = itsm.json("ticket", "show", "INC0000001")
    assert detail["version"] == before["tickets"][0]["version"]


def test_one_survey_per_ticket_whichever_way_it_comes(itsm: Itsm) -> None:
    _resolved(itsm)
    token = itsm.json("survey", "send", "INC0000001")["token"]
    assert_refused(itsm("survey", "send", "INC0000001"), says="already has a survey link")
    itsm.ok("ticket", "survey", "INC0000001", "5")
    before = snapshot(itsm.store)
    assert_refused(itsm("survey", "record", token, "--rating", "2"), says="already has a survey")
    assert snapshot(itsm.store) == before
    with itsm.store.read() as s:
        assert s.scalar(select(SurveyInvitation.used_at)) is None
        assert [r for (r,) in s.execute(select(Survey.rating))] == [5]


def test_bad_links_and_ratings_are_one_line_and_write_nothing(itsm: Itsm) -> None:
    itsm.ok(
        "ticket", "create", "--type", "incident", "--title", "Open still", "--impact", "2",
        "--urgency", "2",
    )  # fmt: skip
    before = snapshot(itsm.store)
    assert_refused(itsm("survey", "send", "INC0000001"), says="is not resolved")
    assert_refused(itsm("survey", "record", "x" * 32, "--rating", "3"), says="not valid")
    assert_refused(itsm("survey", "record", "short", "--rating", "3"), says="not valid")
    assert snapshot(itsm.store) == before
    itsm.ok("ticket", "resolve", "INC0000001", "--code", "fixed", "--notes", "done")
    token = itsm.json("survey", "send", "INC0000001")["token"]
    before = snapshot(itsm.store)
    assert_refused(itsm("survey", "record", token, "--rating", "6"), says="1 to 5")
    assert snapshot(itsm.store) == before
    with itsm.store.read() as s:
        assert s.scalar(select(SurveyInvitation.used_at)) is None
        assert s.scalar(select(Ticket.number)) == "INC0000001"
    # The refusal spent nothing: the link still works.
    assert itsm.json("survey", "record", token, "--rating", "3")["rating"] == 3
