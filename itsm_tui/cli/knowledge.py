"""`itsm kb`: search, read and write knowledge articles through the desk."""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from itsm_tui.cli.env import Env, desk_session, pass_env, write
from itsm_tui.cli.options import json_option, version_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.data.article_json import article_detail
from itsm_tui.data.knowledge_search import search_articles
from itsm_tui.data.models import Agent
from itsm_tui.desk import InvalidInput
from itsm_tui.desk.knowledge import (
    create_article,
    edit_article,
    publish_article,
    retire_article,
    vote_article,
)
from itsm_tui.desk.records import get_article
from itsm_tui.domain.knowledge import ARTICLE_STATUSES, PUBLISHED
from itsm_tui.i18n import _


class Day(click.ParamType):
    """A calendar day, 2027-06-30."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: Any, ctx: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(_("{value!r} is not a day such as 2027-06-30").format(value=value))


DAY = Day()


def _tags(value: str | None) -> list[str] | None:
    """--tags "vpn, network": commas separate tags."""
    return None if value is None else [t for t in value.split(",") if t.strip()]


def _body(value: str | None) -> str | None:
    """ "-" reads the body from standard input (a Markdown file piped in) byte for byte."""
    if value != "-":
        return value
    try:
        return sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(_("standard input is not UTF-8 text")) from None


def _emit(detail: dict[str, Any], as_json: bool, said: str) -> None:
    if as_json:
        out_json(detail)
    else:
        out(
            said.format(number=detail["number"], status=detail["status"], version=detail["version"])
        )


def _write(env: Env, action: Any) -> dict[str, Any]:
    def run(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        return article_detail(s, action(s, actor, now))

    return write(env, run)


@click.group()
def kb() -> None:
    """The knowledge base: articles agents search and link to tickets."""


@kb.command("search")
@click.argument("query", default="")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(ARTICLE_STATUSES),
    help=_("Repeat for several (default: published)."),
)
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@json_option
@pass_env
def kb_search(env: Env, query: str, statuses: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Articles matching every word of QUERY, most relevant first ("phrases" in order)."""
    with desk_session(env, write=False) as (session, _actor):
        hits = search_articles(session, query, statuses=statuses or (PUBLISHED,), limit=limit)
    if as_json:
        out_json(
            [
                {
                    "number": h.number,
                    "title": h.title,
                    "status": h.status,
                    "tags": list(h.tags),
                    "views": h.views,
                    "helpful_yes": h.helpful_yes,
                    "helpful_no": h.helpful_no,
                }
                for h in hits
            ]
        )
        return
    if not hits:
        out(_("No article matches."))
    for h in hits:
        tags = f"  [{', '.join(h.tags)}]" if h.tags else ""
        out(f"{h.number}  {h.status:<9}  {h.title}{tags}")


@kb.command("show")
@click.argument("number")
@json_option
@pass_env
def kb_show(env: Env, number: str, as_json: bool) -> None:
    """Print an article: its fields, then its Markdown body."""
    with desk_session(env, write=False) as (session, _actor):
        detail = article_detail(session, get_article(session, number))
    if as_json:
        out_json(detail)
        return
    out(f"{detail['number']}  {detail['title']}")
    out(
        _("{status} · version {version} · tags: {tags} · problem: {problem}").format(
            status=detail["status"],
            version=detail["version"],
            tags=", ".join(detail["tags"]) or "—",
            problem=detail["problem"] or "—",
        )
    )
    out(
        _("views {views} · helpful {yes} / not {no} · review on {review}").format(
            views=detail["views"],
            yes=detail["helpful_yes"],
            no=detail["helpful_no"],
            review=detail["review_on"] or "—",
        )
    )
    out("")
    out(detail["body"])


@kb.command("create")
@click.option("--title", required=True)
@click.option("--body", default="", help=_('Markdown; "-" reads standard input.'))
@click.option("--tags", help=_('Comma-separated: "vpn, network".'))
@click.option("--problem", metavar="NUMBER", help=_("The problem it came from."))
@click.option("--review-on", type=DAY, help=_("When it is due for review."))
@json_option
@pass_env
def kb_create(
    env: Env,
    title: str,
    body: str,
    tags: str | None,
    problem: str | None,
    review_on: date | None,
    as_json: bool,
) -> None:
    """Write a new draft article."""
    text = _body(body) or ""
    detail = _write(
        env,
        lambda s, actor, now: create_article(
            s,
            actor,
            title=title,
            body=text,
            tags=_tags(tags) or [],
            problem=problem,
            review_on=review_on,
            now=now,
        ),
    )
    _emit(detail, as_json, _("{number} created as a {status}."))


@kb.command("edit")
@click.argument("number")
@click.option("--title")
@click.option("--body", help=_('Markdown; "-" reads standard input.'))
@click.option("--tags", help=_("Comma-separated; replaces the article's tags."))
@click.option("--review-on", type=DAY)
@version_option
@json_option
@pass_env
def kb_edit(
    env: Env,
    number: str,
    title: str | None,
    body: str | None,
    tags: str | None,
    review_on: date | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Change an article's title, body, tags or review date."""
    text = _body(body)
    detail = _write(
        env,
        lambda s, actor, now: edit_article(
            s,
            actor,
            number,
            title=title,
            body=text,
            tags=_tags(tags),
            review_on=review_on,
            expected_version=expected,
            now=now,
        ),
    )
    _emit(detail, as_json, _("{number} saved (version {version})."))


@kb.command("publish")
@click.argument("number")
@click.option("--review-on", type=DAY, help=_("Default: in half a year."))
@version_option
@json_option
@pass_env
def kb_publish(
    env: Env, number: str, review_on: date | None, expected: int | None, as_json: bool
) -> None:
    """Publish a draft (or reinstate a retired article): searched and suggested from now."""
    detail = _write(
        env,
        lambda s, actor, now: publish_article(
            s, actor, number, review_on=review_on, expected_version=expected, now=now
        ),
    )
    _emit(detail, as_json, _("{number} is {status}."))


@kb.command("retire")
@click.argument("number")
@version_option
@json_option
@pass_env
def kb_retire(env: Env, number: str, expected: int | None, as_json: bool) -> None:
    """Take an article out of search and suggestions; linked tickets keep it."""
    detail = _write(
        env,
        lambda s, actor, now: retire_article(s, actor, number, expected_version=expected, now=now),
    )
    _emit(detail, as_json, _("{number} is {status}."))


@kb.command("vote")
@click.argument("number")
@click.option("--helpful/--not-helpful", required=True)
@json_option
@pass_env
def kb_vote(env: Env, number: str, helpful: bool, as_json: bool) -> None:
    """Say whether a published article helped."""
    detail = _write(
        env, lambda s, actor, now: vote_article(s, actor, number, helpful=helpful, now=now)
    )
    _emit(detail, as_json, _("Vote on {number} recorded."))
