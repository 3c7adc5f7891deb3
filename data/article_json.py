"""A knowledge article as JSON-ready data: what `itsm kb show --json` prints and screens read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, KnowledgeArticle, Ticket
from itsm_tui.data.record_json import iso


def article_detail(session: Session, article: KnowledgeArticle) -> dict[str, Any]:
    """Every field people read, names instead of ids."""
    author = (
        session.scalar(select(Agent.username).where(Agent.id == article.author_id))
        if article.author_id
        else None
    )
    problem = (
        session.scalar(select(Ticket.number).where(Ticket.id == article.problem_id))
        if article.problem_id
        else None
    )
    return {
        "number": article.number,
        "title": article.title,
        "status": article.status,
        "tags": list(article.tags or ()),
        "body": article.body,
        "problem": problem,
        "author": author,
        "views": article.views,
        "helpful_yes": article.helpful_yes,
        "helpful_no": article.helpful_no,
        "review_on": article.review_on.isoformat() if article.review_on else None,
        "published_at": iso(article.published_at),
        "created_at": iso(article.created_at),
        "updated_at": iso(article.updated_at),
        "version": article.version,
    }
