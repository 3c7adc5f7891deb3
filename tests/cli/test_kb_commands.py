"""`itsm kb search|show|create|edit|publish|retire|vote` from the command line."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from itsm_tui.data.models import AuditEvent, KnowledgeArticle
from tests.cli.conftest import Itsm, assert_refused


def _article(itsm: Itsm, title: str = "VPN drops every hour", *extra: str) -> str:
    created = itsm.json("kb", "create", "--title", title, "--body", "# Fix\nPin the lease.",
                        "--tags", "vpn, network", *extra)  # fmt: skip
    return created["number"]


def test_create_publish_search_show(itsm: Itsm) -> None:
    number = _article(itsm)
    assert itsm.json("kb", "search", "vpn") == []  # a draft is not searched by default
    published = itsm.json("kb", "publish", number, "--expect-version", "1", agent="sam")
    assert published["status"] == "published"
    assert published["review_on"] == "2027-05-25"
    found = itsm.json("kb", "search", "vpn drop")
    assert [a["number"] for a in found] == [number]
    shown = itsm.json("kb", "show", number.lower())
    assert shown["tags"] == ["vpn", "network"]
    assert shown["body"] == "# Fix\nPin the lease."
    assert shown["author"] == "alice"
    text = itsm.ok("kb", "show", number).stdout
    assert "Pin the lease." in text and "published" in text


def test_body_from_standard_input_byte_for_byte(itsm: Itsm) -> None:
    body = "Steps:\r\n1. [bold]not markup[/bold]\r\n2. \x1b[31m stays data\n"
    result = itsm("kb", "create", "--title", "Piped", "--body", "-", "--json", input=body.encode())
    assert result.exit_code == 0, result.stderr
    number = json.loads(result.stdout)["number"]
    assert itsm.json("kb", "show", number)["body"] == body


def test_an_agent_cannot_publish_and_nothing_is_written(itsm: Itsm) -> None:
    number = _article(itsm)
    with itsm.store.read() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    assert_refused(itsm("kb", "publish", number), says="supervisor")
    with itsm.store.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
        assert session.scalar(select(KnowledgeArticle.status)) == "draft"


def test_stale_edit_exits_3(itsm: Itsm) -> None:
    number = _article(itsm)
    itsm.ok("kb", "edit", number, "--title", "VPN drops hourly", "--expect-version", "1")
    result = itsm("kb", "edit", number, "--body", "mine", "--expect-version", "1", agent="bob")
    assert_refused(result, 3, says="changed since you loaded version 1")


def test_retire_then_search_finds_it_only_when_asked(itsm: Itsm) -> None:
    number = _article(itsm)
    itsm.ok("kb", "publish", number, agent="sam")
    itsm.ok("kb", "retire", number, agent="sam")
    assert itsm.json("kb", "search", "vpn") == []
    retired = itsm.json("kb", "search", "vpn", "--status", "retired")
    assert [a["number"] for a in retired] == [number]
    assert_refused(itsm("kb", "retire", number, agent="sam"), says="from here: published")


def test_vote_and_unknown_article(itsm: Itsm) -> None:
    number = _article(itsm)
    itsm.ok("kb", "publish", number, agent="sam")
    voted = itsm.json("kb", "vote", number, "--helpful", agent="bob")
    assert (voted["helpful_yes"], voted["helpful_no"]) == (1, 0)
    assert_refused(itsm("kb", "show", "KB9999999"), says="no knowledge article KB9999999")


def test_bad_review_day_is_a_usage_error(itsm: Itsm) -> None:
    result = itsm("kb", "create", "--title", "x", "--review-on", "soon")
    assert result.exit_code == 2
    assert "not a day" in result.stderr
