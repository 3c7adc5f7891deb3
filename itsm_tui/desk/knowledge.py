"""Writes to knowledge articles: create, edit, publish, retire, and a reader's view and vote.

Each function takes the session of one write transaction and the acting agent, checks the
actor's role, validates, and writes its audit events in the same transaction. Edits and
status moves bump the article's version and take `expected_version` (a stale one is a
`Conflict`, nothing written); views and votes are counters added in SQL, audited but not
versioned, so a reader's vote never makes an author's open edit conflict.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, AuditEvent, KnowledgeArticle, Ticket
from itsm_tui.desk.errors import InvalidInput, TransitionRefused
from itsm_tui.desk.records import (
    MAX_TITLE,
    Edit,
    as_utc,
    audit_value,
    check_text,
    check_version,
    get_article,
    get_ticket,
    next_number,
    require,
    utcnow,
)
from itsm_tui.domain.knowledge import (
    ARTICLE_MOVES,
    DRAFT,
    EDITABLE,
    MAX_TAG,
    MAX_TAGS,
    PUBLISHED,
    RETIRED,
    REVIEW_AFTER,
    can_move,
)
from itsm_tui.domain.workflow import NUMBER_PREFIX, PROBLEM
from itsm_tui.i18n import _

WRITE = "knowledge.write"
PUBLISH = "knowledge.publish"


def _now(now: datetime | None) -> datetime:
    return utcnow() if now is None else as_utc(now, _("now"))


def check_tags(tags: Iterable[str]) -> list[str]:
    """Tags as kept: trimmed, blanks dropped, the first spelling of each kept once."""
    if isinstance(tags, str):
        raise InvalidInput(_("tags must be a list of words, not one text"))
    kept: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        check_text(tag, _("tag"), limit=MAX_TAG)
        tag = " ".join(tag.split())
        if not tag:
            continue
        if "," in tag:
            raise InvalidInput(
                _("tag {tag!r} contains a comma; commas separate tags").format(tag=tag)
            )
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            kept.append(tag)
    if len(kept) > MAX_TAGS:
        raise InvalidInput(
            _("an article takes at most {limit} tags, not {n}").format(limit=MAX_TAGS, n=len(kept))
        )
    return kept


def _check_review(review_on: date | None, now: datetime) -> date | None:
    if review_on is None:
        return None
    if isinstance(review_on, datetime) or not isinstance(review_on, date):
        raise InvalidInput(_("the review date must be a day, e.g. 2027-06-30"))
    if review_on <= now.date():
        raise InvalidInput(
            _("the review date {day} is not after today ({today})").format(
                day=review_on.isoformat(), today=now.date().isoformat()
            )
        )
    return review_on


def _problem(session: Session, problem: str | Ticket | None) -> Ticket | None:
    if problem is None:
        return None
    ticket = problem if isinstance(problem, Ticket) else get_ticket(session, problem)
    if ticket.type != PROBLEM:
        raise InvalidInput(
            _("{number} is not a problem; an article comes from a problem").format(
                number=ticket.number
            )
        )
    return ticket


def create_article(
    session: Session,
    actor: Agent,
    *,
    title: str,
    body: str,
    tags: Iterable[str] = (),
    problem: str | Ticket | None = None,
    review_on: date | None = None,
    now: datetime | None = None,
) -> KnowledgeArticle:
    """A new draft article; `problem` (a number or the ticket) is the problem it came from."""
    now = _now(now)
    require(actor, WRITE, _("write knowledge articles"))
    check_text(title, _("title"), required=True, limit=MAX_TITLE)
    check_text(body, _("body"))
    kept_tags = check_tags(tags)
    review = _check_review(review_on, now)
    the_problem = _problem(session, problem)
    article = KnowledgeArticle(
        number=next_number(session, NUMBER_PREFIX["knowledge"]),
        title=title,
        body=body,
        tags=kept_tags,
        status=DRAFT,
        problem_id=the_problem.id if the_problem else None,
        author_id=actor.id,
        views=0,
        helpful_yes=0,
        helpful_no=0,
        review_on=review,
        published_at=None,
        created_at=now,
        updated_at=now,
        version=0,
    )
    session.add(article)
    session.flush()
    edit = Edit(session, actor, article, action="create", now=now)
    edit.note(
        None,
        None,
        json.dumps(
            {
                "status": DRAFT,
                "title": title,
                "tags": kept_tags,
                "problem": the_problem.number if the_problem else None,
            },
            ensure_ascii=False,
        ),
    )
    session.flush()
    return article


def edit_article(
    session: Session,
    actor: Agent,
    number: str,
    *,
    title: str | None = None,
    body: str | None = None,
    tags: Iterable[str] | None = None,
    review_on: date | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> KnowledgeArticle:
    """Change an article's text, tags or review date; fields left None stay as they are."""
    now = _now(now)
    require(actor, WRITE, _("edit knowledge articles"))
    if title is not None:
        check_text(title, _("title"), required=True, limit=MAX_TITLE)
    if body is not None:
        check_text(body, _("body"))
    kept_tags = check_tags(tags) if tags is not None else None
    review = _check_review(review_on, now)
    article = get_article(session, number)
    check_version(session, article, expected_version)
    if article.status not in EDITABLE:
        raise TransitionRefused(
            _("{number} is {status}; publish it again before you edit it").format(
                number=article.number, status=article.status
            )
        )
    edit = Edit(session, actor, article, action="update", now=now)
    if title is not None:
        edit.set("title", title)
    if body is not None:
        edit.set("body", body)
    if kept_tags is not None:
        edit.set("tags", kept_tags)
    if review is not None:
        edit.set("review_on", review)
    session.flush()
    return article


def _move(
    session: Session,
    actor: Agent,
    number: str,
    target: str,
    *,
    expected_version: int | None,
    now: datetime,
    review_on: date | None = None,
) -> KnowledgeArticle:
    article = get_article(session, number)
    check_version(session, article, expected_version)
    if not can_move(article.status, target):
        allowed = ARTICLE_MOVES.get(article.status, ())
        raise TransitionRefused(
            _("{number} is {status} and cannot become {target}; from here: {allowed}").format(
                number=article.number,
                status=article.status,
                target=target,
                allowed=", ".join(allowed) or _("nothing"),
            )
        )
    edit = Edit(session, actor, article, action=f"knowledge.{target}", now=now)
    edit.set("status", target)
    if target == PUBLISHED:
        edit.set("published_at", now)
        # A reinstated article whose review day has passed is due a new one too.
        due = review_on or article.review_on
        if due is None or due <= now.date():
            due = now.date() + REVIEW_AFTER
        edit.set("review_on", due)
    session.flush()
    return article


def publish_article(
    session: Session,
    actor: Agent,
    number: str,
    *,
    review_on: date | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> KnowledgeArticle:
    """Make a draft (or a retired article) readable and suggested; sets its review date."""
    now = _now(now)
    require(actor, PUBLISH, _("publish knowledge articles"))
    review = _check_review(review_on, now)
    return _move(
        session,
        actor,
        number,
        PUBLISHED,
        expected_version=expected_version,
        now=now,
        review_on=review,
    )


def retire_article(
    session: Session,
    actor: Agent,
    number: str,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> KnowledgeArticle:
    """Take an article out of search and suggestions; it stays on record for linked tickets."""
    now = _now(now)
    require(actor, PUBLISH, _("retire knowledge articles"))
    return _move(session, actor, number, RETIRED, expected_version=expected_version, now=now)


def _count(
    session: Session,
    actor: Agent,
    article: KnowledgeArticle,
    column: str,
    action: str,
    now: datetime,
) -> None:
    """Add one to a counter in SQL (concurrent readers never lose a count) and audit it."""
    counter = getattr(KnowledgeArticle, column)
    old = session.execute(
        update(KnowledgeArticle)
        .where(KnowledgeArticle.id == article.id)
        .values({column: counter + 1})
        .returning(counter)
    ).scalar_one()
    session.expire(article, [column])
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            record_type="knowledge",
            record_id=article.id,
            record_number=article.number,
            action=action,
            field=column,
            old_value=audit_value(old - 1),
            new_value=audit_value(old),
            record_version=article.version,
        )
    )
    session.flush()


def view_article(
    session: Session, actor: Agent, number: str, *, now: datetime | None = None
) -> KnowledgeArticle:
    """An agent opened a published article: counted (drafts and retired ones are not)."""
    now = _now(now)
    require(actor, WRITE, _("read knowledge articles"))
    article = get_article(session, number)
    if article.status == PUBLISHED:
        _count(session, actor, article, "views", "knowledge.view", now)
    return article


def vote_article(
    session: Session, actor: Agent, number: str, *, helpful: bool, now: datetime | None = None
) -> KnowledgeArticle:
    """A reader found a published article helpful (or not)."""
    now = _now(now)
    require(actor, WRITE, _("vote on knowledge articles"))
    article = get_article(session, number)
    if article.status != PUBLISHED:
        raise TransitionRefused(
            _("{number} is {status}; only published articles take votes").format(
                number=article.number, status=article.status
            )
        )
    column = "helpful_yes" if helpful else "helpful_no"
    _count(session, actor, article, column, "knowledge.vote", now)
    return article


__all__ = [
    "DRAFT",
    "PUBLISHED",
    "RETIRED",
    "check_tags",
    "create_article",
    "edit_article",
    "publish_article",
    "retire_article",
    "view_article",
    "vote_article",
]
