"""Knowledge articles: a few hundred written from problems, and a handful of how-tos.

Planned before the tickets (which problems get one, and about when), written after them:
an article from a problem tells what the problem had recorded when the article was
written (its root cause, workaround, resolution), so it waits until there is something
to tell. Each article is what create_article (with the problem) and publish_article leave:
the row, numbered in the order they were written, and their audit events.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from itsm_tui.data.seed.texts import HOW_TO_ARTICLES, KB_TAG_OF_CATEGORY
from itsm_tui.data.seed.tickets import AUDIT_COLUMNS
from itsm_tui.data.seed.timeline import DAY, HOUR
from itsm_tui.domain.knowledge import REVIEW_AFTER
from itsm_tui.domain.workflow import format_number
from itsm_tui.i18n import _

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder

# At most this many from problems: the knowledge base is a fixed amount, not a share.
FROM_PROBLEMS = 300
HOW_TOS = 10
ARTICLE_COLUMNS = (
    "id",
    "number",
    "title",
    "body",
    "tags",
    "status",
    "problem_id",
    "author_id",
    "views",
    "helpful_yes",
    "helpful_no",
    "published_at",
    "review_on",
    "created_at",
    "updated_at",
    "version",
)
# Ways an article from a problem is titled (its problem's number added on a repeat).
ARTICLE_TITLES = (
    "Known error: {what}",
    "{Fault} ({service}): cause and workaround",
    "{service}: {fault}, the root cause",
    "Fixing '{fault}' on {service}",
)


def plan_articles(run: Seeder) -> None:
    """Which older problems get an article, and about when (a day to a week after they
    were opened); the how-tos at any time."""
    rng, clock = run.rng, run.clock
    run.articles = []
    run.problem_article = {}
    old_problems = [
        i for i in range(run.n) if run.types[i] == 2 and run.opened[i] < clock.now - 7 * DAY
    ]
    chosen = [i for i in old_problems if rng.random() < 0.5][:FROM_PROBLEMS]
    for key, index in enumerate([*chosen, *[None] * HOW_TOS]):
        if index is None:
            created = rng.randrange(clock.start, clock.now)
        else:
            created = min(clock.now - HOUR, run.opened[index] + rng.randrange(DAY, 7 * DAY))
            run.problem_article[index] = key
        run.articles.append({"key": key, "created": created, "index": index})


def told_by(facts: tuple[Any, ...], planned: int, now: int) -> tuple[int, tuple[str, ...]] | None:
    """When the article is written and the (root cause, workaround, resolution) it tells:
    what the problem had recorded by then. Written later than planned when nothing was
    recorded yet; None when the problem has nothing to tell before now."""
    recorded = [(at, text) for at, text in facts[4:7]]
    known = [at for at, text in recorded if at is not None and text]
    if not known:
        return None
    created = planned
    if min(known) > planned:
        # Hours after the first finding, once the agent sits down to write it up.
        created = min(known) + 2 * HOUR + (planned % (6 * HOUR))
        if created > now - HOUR:
            return None
    told = tuple(text if at is not None and at <= created else "" for at, text in recorded)
    return created, told


def article_text(
    facts: tuple[Any, ...], told: tuple[str, ...], key: int, seen: set[str]
) -> tuple[str, str, list[str]]:
    """Title, Markdown body and tags of the article written from a problem: its sections as
    desk.problems.article_body writes them, from what the problem recorded."""
    number, title, category, description = facts[:4]
    cause, workaround, resolution = told
    what = title.removeprefix("Recurring: ")
    service, _sep, fault = what.partition(": ")
    if not fault:
        service, fault = "", what
    template = ARTICLE_TITLES[key % len(ARTICLE_TITLES)]
    if not service and "{service}" in template:
        template = ARTICLE_TITLES[0]
    text = template.format(
        what=what, service=service, fault=fault, Fault=fault[:1].upper() + fault[1:]
    )
    if text in seen:
        text = f"{text} ({number})"
    seen.add(text)
    parts = [f"## {_('Symptoms')}\n\n{fault[:1].upper() + fault[1:]}. {description}"]
    if cause:
        parts.append(f"## {_('Root cause')}\n\n{cause}")
    if workaround:
        parts.append(f"## {_('Workaround')}\n\n{workaround}")
    if resolution:
        parts.append(f"## {_('Resolution')}\n\n{resolution}")
    tags = [KB_TAG_OF_CATEGORY.get(category, category), "known-error"]
    return text, "\n\n".join(parts) + "\n", tags


def write_articles(run: Seeder) -> None:
    """Every planned article with something to tell, numbered in the order written."""
    rng, clock = run.rng, run.clock
    now, ts = clock.now, clock.text
    base = clock.base.replace(tzinfo=UTC)
    team_of = {a: team for team, pool in run.staff.team_agents.items() for a in pool}
    drafts: list[tuple[int, str, str, list[str], int | None, str | None, int]] = []
    seen: set[str] = set()
    how_to = 0
    for art in run.articles:
        index = art["index"]
        if index is None:
            title, tag, body = HOW_TO_ARTICLES[how_to % len(HOW_TO_ARTICLES)]
            how_to += 1
            author = run.staff.all_agents[rng.randrange(len(run.staff.all_agents))]
            drafts.append((art["created"], title, body, [tag], None, None, author))
            continue
        facts = run.article_facts.get(art["key"])
        if facts is None:
            continue
        written = told_by(facts, art["created"], now)
        if written is None:
            continue
        created, told = written
        title, body, tags = article_text(facts, told, art["key"], seen)
        drafts.append((created, title, body, tags, run.ids["tickets"] + index, facts[0], facts[7]))
    drafts.sort(key=lambda d: d[0])
    rows = []
    audits = []
    kid, number, aid = run.ids["knowledge_articles"], run.seq["KB"], run.next_audit
    for created, title, body, tags, problem_id, problem, author in drafts:
        number += 1
        code = format_number("KB", number)
        views = rng.randrange(0, 800)
        yes = int(views * rng.uniform(0.05, 0.3))
        published = rng.random() < 0.8
        no = int(yes * rng.uniform(0.05, 0.3))
        # create_article: a draft, version 1, its creation note.
        note = {"status": "draft", "title": title, "tags": tags, "problem": problem}
        created_note = json.dumps(note, ensure_ascii=False)
        event = (aid, ts(created), author, "knowledge", kid, code)
        audits.append((*event, "create", None, None, created_note, 1, None))
        aid += 1
        published_at = review_on = None
        if published:
            # publish_article by the author's supervisor the hour after: version 2, due for
            # review REVIEW_AFTER later.
            published_at = min(created + HOUR, now)
            review_on = (datetime.fromisoformat(ts(published_at)).date() + REVIEW_AFTER).isoformat()
            publisher = run.staff.supervisor.get(team_of.get(author, -1))
            if publisher is None:
                publisher = run.staff.change_managers[0]
            stamp = (base + timedelta(seconds=published_at)).isoformat()
            for fld, old, new in (
                ("status", "draft", "published"),
                ("published_at", None, stamp),
                ("review_on", None, review_on),
            ):
                event = (aid, ts(published_at), publisher, "knowledge", kid, code)
                audits.append((*event, "knowledge.published", fld, old, new, 2, None))
                aid += 1
        rows.append(
            (
                kid,
                code,
                title,
                body,
                json.dumps(tags),
                "published" if published else "draft",
                problem_id,
                author,
                views if published else 0,
                yes if published else 0,
                no if published else 0,
                ts(published_at) if published_at is not None else None,
                review_on,
                ts(created),
                ts(published_at) if published_at is not None else ts(created),
                2 if published else 1,
            )
        )
        kid += 1
    run.w.insert("knowledge_articles", ARTICLE_COLUMNS, rows)
    run.w.insert("audit_events", AUDIT_COLUMNS, audits)
    run.seq["KB"], run.next_audit = number, aid
