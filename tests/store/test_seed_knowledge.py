"""Seeded knowledge articles are what the write path would have left, on both databases."""

from __future__ import annotations

import json

from sqlalchemy import select

from itsm_tui.data.knowledge_search import search_articles
from itsm_tui.data.models import Agent, AuditEvent, KnowledgeArticle, Ticket
from itsm_tui.data.store import Store
from itsm_tui.domain import roles
from itsm_tui.domain.knowledge import REVIEW_AFTER
from tests.store.test_seed_changes import (
    seeded,  # noqa: F401  (the fixture)
    utc,
)


def test_seeded_articles_follow_the_publish_rules(seeded: Store) -> None:  # noqa: F811
    with seeded.read() as session:
        articles = session.scalars(select(KnowledgeArticle)).all()
        problems = {
            t.id: t.type for t in session.scalars(select(Ticket).where(Ticket.type == "problem"))
        }
        assert 0 < len(articles) <= 310
        assert any(a.problem_id for a in articles)
        for a in articles:
            assert a.problem_id is None or a.problem_id in problems
            if a.status == "published":
                assert a.version == 2
                assert a.published_at is not None and a.published_at >= a.created_at
                assert a.review_on == a.published_at.date() + REVIEW_AFTER
                assert a.helpful_yes + a.helpful_no <= a.views or a.views == 0
            else:
                assert a.status == "draft"
                assert (a.version, a.published_at, a.review_on) == (1, None, None)
                assert (a.views, a.helpful_yes, a.helpful_no) == (0, 0, 0)
        # The triggers (SQLite) and the generated column (PostgreSQL) indexed them too.
        published = [a for a in articles if a.status == "published"]
        word = published[0].title.split()[-1]
        assert search_articles(session, word)


def test_seeded_articles_have_their_own_titles_and_tell_their_problems(
    seeded: Store,  # noqa: F811
) -> None:
    with seeded.read() as session:
        articles = session.scalars(select(KnowledgeArticle)).all()
        problems = {
            t.id: t for t in session.scalars(select(Ticket).where(Ticket.type == "problem"))
        }
    titles = [a.title for a in articles]
    assert len(set(titles)) == len(titles)
    bodies = [a.body for a in articles]
    assert len(set(bodies)) > len(bodies) * 0.8
    from_problems = [a for a in articles if a.problem_id is not None]
    assert from_problems
    for a in from_problems:
        problem = problems[a.problem_id]
        fault = problem.title.removeprefix("Recurring: ").partition(": ")[2]
        assert fault.lower() in a.title.lower(), (a.title, problem.title)
        assert a.body.startswith("## Symptoms")
        assert "known-error" in a.tags


def test_an_article_tells_what_its_problem_had_recorded_when_it_was_written(
    seeded: Store,  # noqa: F811
) -> None:
    """Written from the problem at that moment (article_body): a root cause or workaround
    recorded later is not in it, and each one recorded before is."""
    told = later = 0
    with seeded.read() as session:
        articles = session.scalars(
            select(KnowledgeArticle).where(KnowledgeArticle.problem_id.is_not(None))
        ).all()
        assert articles
        for a in articles:
            recorded = session.execute(
                select(AuditEvent.at, AuditEvent.field, AuditEvent.new_value).where(
                    AuditEvent.record_type == "ticket",
                    AuditEvent.record_id == a.problem_id,
                    AuditEvent.field.in_(("root_cause", "workaround")),
                )
            ).all()
            known = [text for at, _field, text in recorded if utc(at) <= utc(a.created_at)]
            # Nothing to tell, nothing written: every article tells at least one finding.
            assert known, a.number
            for at, field, text in recorded:
                if utc(at) <= utc(a.created_at):
                    assert text in a.body, (a.number, field)
                    told += 1
                else:
                    assert text not in a.body, (a.number, field)
                    later += 1
    assert told and later


def test_seeded_articles_history_is_what_create_and_publish_write(
    seeded: Store,  # noqa: F811
) -> None:
    with seeded.read() as session:
        articles = session.scalars(select(KnowledgeArticle).order_by(KnowledgeArticle.id)).all()
        numbers = dict(session.execute(select(Ticket.id, Ticket.number)).all())
        agents = {a.id: a for a in session.scalars(select(Agent))}
        for a in articles:
            events = session.execute(
                select(
                    AuditEvent.record_version,
                    AuditEvent.action,
                    AuditEvent.field,
                    AuditEvent.old_value,
                    AuditEvent.new_value,
                    AuditEvent.at,
                    AuditEvent.actor_id,
                )
                .where(AuditEvent.record_type == "knowledge", AuditEvent.record_id == a.id)
                .order_by(AuditEvent.id)
            ).all()
            create = events[0]
            assert create[:3] == (1, "create", None)
            assert json.loads(create[4]) == {
                "status": "draft",
                "title": a.title,
                "tags": a.tags,
                "problem": numbers.get(a.problem_id),
            }
            assert (utc(create[5]), create[6]) == (utc(a.created_at), a.author_id)
            if a.status == "draft":
                assert len(events) == 1
                continue
            published = events[1:]
            assert [e[:5] for e in published] == [
                (2, "knowledge.published", "status", "draft", "published"),
                (2, "knowledge.published", "published_at", None, utc(a.published_at).isoformat()),
                (2, "knowledge.published", "review_on", None, a.review_on.isoformat()),
            ]
            publisher = agents[published[0][6]]
            assert {roles.SUPERVISOR, roles.CHANGE_MANAGER, roles.ADMIN} & set(
                publisher.roles.split()
            )
    # Numbered in the order they were written.
    by_number = sorted(articles, key=lambda a: a.number)
    assert [utc(a.created_at) for a in by_number] == sorted(utc(a.created_at) for a in articles)
