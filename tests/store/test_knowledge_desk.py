"""Knowledge articles through the one write path: statuses, roles, versions, counters, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from itsm_tui import desk as d
from itsm_tui.data.models import AuditEvent, KnowledgeArticle
from itsm_tui.desk import knowledge as kb
from itsm_tui.desk.records import get_article
from tests.factories import NOW, Desk


def write(desk: Desk, username: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with desk.store.write() as session:
        kwargs.setdefault("now", NOW)
        result = fn(session, desk.actor(session, username), *args, **kwargs)
        return getattr(result, "number", result)


def article(desk: Desk, number: str) -> KnowledgeArticle:
    with desk.store.read() as session:
        found = get_article(session, number)
        session.expunge(found)
        return found


def draft(desk: Desk, **kwargs: Any) -> str:
    fields: dict[str, Any] = {"title": "VPN drops every hour", "body": "Renew the lease."}
    fields.update(kwargs)
    return write(desk, "alice", kb.create_article, **fields)


def test_create_article_from_a_problem_is_a_draft_with_its_tags(desk: Desk) -> None:
    problem = write(
        desk, "alice", d.create_ticket, type="problem", title="VPN flaps", impact=2, urgency=2
    )
    number = draft(desk, tags=[" vpn ", "VPN", "network", ""], problem=problem)
    got = article(desk, number)
    assert number.startswith("KB")
    assert got.status == "draft"
    assert got.tags == ["vpn", "network"]
    assert got.problem_id is not None
    assert got.version == 1
    with desk.store.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.record_number == number)).all()
    assert [e.action for e in events] == ["create"]
    assert problem in (events[0].new_value or "")


def test_an_article_comes_only_from_a_problem(desk: Desk) -> None:
    incident = write(
        desk, "alice", d.create_ticket, type="incident", title="VPN", impact=2, urgency=2
    )
    with pytest.raises(d.InvalidInput, match="is not a problem"):
        draft(desk, problem=incident)


def test_empty_title_is_refused_and_nothing_written(desk: Desk) -> None:
    with pytest.raises(d.InvalidInput, match="title must not be empty"):
        draft(desk, title="  ")
    with desk.store.read() as session:
        assert session.scalars(select(KnowledgeArticle)).all() == []


def test_agents_write_but_only_supervisors_publish_and_retire(desk: Desk) -> None:
    number = draft(desk)
    with pytest.raises(d.PermissionDenied, match="supervisor"):
        write(desk, "alice", kb.publish_article, number)
    write(desk, "sam", kb.publish_article, number)
    got = article(desk, number)
    assert got.status == "published"
    assert got.published_at == NOW
    assert got.review_on == NOW.date() + timedelta(days=182)
    with pytest.raises(d.PermissionDenied):
        write(desk, "bob", kb.retire_article, number)
    write(desk, "sam", kb.retire_article, number)
    assert article(desk, number).status == "retired"


def test_status_moves_follow_the_rules(desk: Desk) -> None:
    number = draft(desk)
    write(desk, "sam", kb.publish_article, number)
    with pytest.raises(d.TransitionRefused, match="from here: retired"):
        write(desk, "sam", kb.publish_article, number)
    write(desk, "sam", kb.retire_article, number)
    with pytest.raises(d.TransitionRefused, match="publish it again"):
        write(desk, "alice", kb.edit_article, number, body="new")
    # Reinstated: published again, and editable again.
    write(desk, "sam", kb.publish_article, number)
    write(desk, "alice", kb.edit_article, number, body="new")
    assert article(desk, number).body == "new"


def test_edit_with_a_stale_version_conflicts_and_names_the_change(desk: Desk) -> None:
    number = draft(desk)
    loaded = article(desk, number).version
    write(desk, "bob", kb.edit_article, number, title="VPN drops hourly", expected_version=loaded)
    with pytest.raises(d.Conflict, match="bob set title") as refused:
        write(desk, "alice", kb.edit_article, number, body="mine", expected_version=loaded)
    assert refused.value.current_version == loaded + 1
    assert article(desk, number).body == "Renew the lease."


def test_review_date_must_be_after_today(desk: Desk) -> None:
    number = draft(desk)
    with pytest.raises(d.InvalidInput, match="not after today"):
        write(desk, "sam", kb.publish_article, number, review_on=NOW.date())
    assert article(desk, number).status == "draft"
    write(desk, "sam", kb.publish_article, number, review_on=date(2027, 3, 1))
    assert article(desk, number).review_on == date(2027, 3, 1)


def test_votes_and_views_count_without_bumping_the_version(desk: Desk) -> None:
    number = draft(desk)
    with pytest.raises(d.TransitionRefused, match="only published"):
        write(desk, "bob", kb.vote_article, number, helpful=True)
    write(desk, "bob", kb.view_article, number)  # a draft's reading is not counted
    write(desk, "sam", kb.publish_article, number)
    version = article(desk, number).version
    write(desk, "bob", kb.view_article, number)
    write(desk, "bob", kb.vote_article, number, helpful=True)
    write(desk, "alice", kb.vote_article, number, helpful=True)
    write(desk, "alice", kb.vote_article, number, helpful=False)
    got = article(desk, number)
    assert (got.views, got.helpful_yes, got.helpful_no) == (1, 2, 1)
    assert got.version == version
    with desk.store.read() as session:
        votes = session.scalars(
            select(AuditEvent.new_value).where(AuditEvent.action == "knowledge.vote")
        ).all()
    assert sorted(votes) == ["1", "1", "2"]


def test_tags_with_commas_are_refused(desk: Desk) -> None:
    with pytest.raises(d.InvalidInput, match="comma"):
        draft(desk, tags=["vpn,network"])
