"""Seeded knowledge articles are what the write path would have left, on both databases."""

from __future__ import annotations

from sqlalchemy import select

from itsm_tui.data.knowledge_search import search_articles
from itsm_tui.data.models import KnowledgeArticle, Ticket
from itsm_tui.data.store import Store
from itsm_tui.domain.knowledge import REVIEW_AFTER
from tests.store.test_seed_changes import seeded  # noqa: F401  (the fixture)


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
        if problem.root_cause:
            assert problem.root_cause in a.body
        if problem.workaround:
            assert problem.workaround in a.body
        assert "known-error" in a.tags
