"""Knowledge articles found by relevance: the search box's ranked search and the suggestions
beside a new incident, on SQLite and PostgreSQL.

The index objects come from migrations 0023 and 0026 and are kept current by the database
itself:

- SQLite: `knowledge_fts` (FTS5 over title, tags, body; unicode61, accents folded), ranked
  with bm25 weighting the title 10, the tags 4 and the body 1; `knowledge_fts_vocab`, how
  many articles hold each word; `knowledge_fts_trgm`, a trigram index over the title and
  body of the articles with CJK text, ranked with bm25 too (title 10, body 1).
- PostgreSQL: `knowledge_articles.search_vector` ('simple', title A, tags B, body C) with
  a GIN index, ranked with ts_rank; CJK words are substrings of title and body found
  through the pg_trgm GIN index `ix_knowledge_articles_trgm` (Debian's postgresql-15
  contrib), and ranked by whether they occur in the title. For suggestions (0026): the
  titles of published articles have their own GIN index (`to_tsvector('simple', title)`),
  and `cjk_vector` holds the character pairs of CJK text (title A, body C), so Chinese is
  suggested by the same ranked tsvector query as English. For search (0029):
  `title_vector`, the title's words (weight A) as a stored column with its GIN index.

Search (`search_articles`) reads the box as the ticket search does (itsm_tui.data.search):
every word must occur, "phrases" in order, the word being typed as a prefix. Suggestions
(`suggest_articles`) read what an agent is writing, where most words say nothing about
the fault: any of its words may match, and the words held by many articles are left out
(each word's articles counted through the index up to just past the budget, and the count
remembered by the process: counts drift slowly and the next key repeats most words),
rarest first, until the articles to rank would pass SUGGEST_BUDGET (PG_SUGGEST_BUDGET on
PostgreSQL, where ranking reads every candidate's row). On SQLite a search whose words
are in more than SEARCH_BUDGET articles ranks those with them in the title: with the
title weighted 10 and the body 1, a title match outranks a body-only one; bm25 scores the
newest SEARCH_READ matches, the best of them listed. PostgreSQL
ranks the articles with every word in the title first (title_vector), then, fewer than
asked for, the rest; each of the two ranks at most the first PG_SEARCH_READ articles its
index gives, since ts_rank reads each candidate's vector from the table. CJK words of
two characters or more are phrases of their pairs in cjk_vector. So a key costs about the
same at 100,000 articles as at 1,000 (bench/kb.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from itsm_tui.data.models import KnowledgeArticle
from itsm_tui.data.search import _CJK, _UNSENDABLE, Term, parse_query
from itsm_tui.domain.knowledge import PUBLISHED

FTS_TABLE = "knowledge_fts"
VOCAB_TABLE = "knowledge_fts_vocab"
TRIGRAM_TABLE = "knowledge_fts_trgm"
TRIGRAM_VOCAB = "knowledge_fts_trgm_vocab"
# bm25 weights, in the columns' order: a word in the title says most about an article.
SQLITE_WEIGHTS = "10.0, 4.0, 1.0"
TRIGRAM_WEIGHTS = "10.0, 1.0"

SUGGESTIONS = 5
# Articles a suggestion may rank at most (the sum of its words' article counts): ranking
# reads each candidate's statistics, so this bounds a key's cost whatever the base's size.
SUGGEST_BUDGET = 6_000
# PostgreSQL reads each candidate's search vector from the table to rank it (about 10 µs a
# row on this machine, against FTS5's statistics in the index): a smaller budget there
# (2,000 took 50-85 ms a key at load 16-17, 1,000 takes half).
PG_SUGGEST_BUDGET = 1_000
# The titles' own index (migration 0026), named by its expression.
PG_TITLE = "to_tsvector('simple'::regconfig, a.title)"
TITLE_MARK = "title "
# Articles read when every word is too common to rank by (_pg_common_in_titles).
PG_COMMON_READ = 500
SEARCH_BUDGET = 5_000
# SQLite ranks at most this many of a search's matches, the newest: bm25 over the 6,000
# articles holding "sync" took 47 ms of CPU at 100,000 articles, over 500 of them 4 ms.
SEARCH_READ = 500
# PostgreSQL ranks at most this many articles of a search's tier (_pg_tier): the first the
# GIN index gives (storage order), read and ranked at about 10 µs a row.
PG_SEARCH_READ = 500
# Remembered word counts (per store URL and word), at most this many.
COUNT_CACHE = 20_000
_counts: dict[tuple[str, str], int] = {}
# Words of the text being written that a suggestion looks up, at most.
SUGGEST_WORDS = 24
# Words shorter than this (after folding) are too common to suggest by, except digits.
MIN_WORD = 3
_WORD = re.compile(r"\w+", re.UNICODE)
# CJK text is looked up by its three-character windows (trigrams), at most this many.
CJK_WINDOWS = 12


@dataclass(frozen=True)
class ArticleHit:
    """One article in a result list, best first."""

    id: int
    number: str
    title: str
    status: str
    tags: tuple[str, ...]
    views: int
    helpful_yes: int
    helpful_no: int
    review_on: date | None
    updated_at: datetime


# The columns of a result row, as _hit reads them.
_HIT_COLUMNS = (
    "id",
    "number",
    "title",
    "status",
    "tags",
    "views",
    "helpful_yes",
    "helpful_no",
    "review_on",
    "updated_at",
)


def _hit(r: Any) -> ArticleHit:
    return ArticleHit(
        id=r.id,
        number=r.number,
        title=r.title,
        status=r.status,
        tags=tuple(r.tags or ()),
        views=r.views,
        helpful_yes=r.helpful_yes,
        helpful_no=r.helpful_no,
        review_on=r.review_on,
        updated_at=r.updated_at,
    )


def _load(session: Session, ids: Sequence[int]) -> list[ArticleHit]:
    """The ranked ids' rows, in the ranking's order (a primary-key read of a page)."""
    if not ids:
        return []
    a = KnowledgeArticle
    rows = session.execute(
        select(*(getattr(a, name) for name in _HIT_COLUMNS)).where(a.id.in_(ids))
    ).all()
    by_id = {r.id: _hit(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def _status_list(statuses: Sequence[str]) -> str:
    # Statuses are the desk's own words (domain.knowledge), never user text.
    return ", ".join(f"'{s}'" for s in statuses)


# ---------------------------------------------------------------------------
# The words of a text, as the indexes hold them


def fold(word: str) -> str:
    """A word as unicode61 (remove_diacritics 2) and 'simple' index it: lower case, no accents."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _cjk_runs(text_: str) -> list[str]:
    return re.findall(_CJK.pattern + "+", text_)


def _words(text_: str, *, accents: bool = False) -> list[str]:
    """The distinct non-CJK words of a text worth suggesting by, in the order written, as
    the index holds them (PostgreSQL's keeps `accents`)."""
    seen: dict[str, None] = {}
    for raw in _WORD.findall(_CJK.sub(" ", text_)):
        word = raw.lower() if accents else fold(raw)
        if (len(word) >= MIN_WORD or word.isdigit()) and word not in seen:
            seen[word] = None
    return list(seen)[:SUGGEST_WORDS]


def _windows(runs: Sequence[str]) -> list[str]:
    """The three-character windows of CJK runs (a shorter run is itself), distinct."""
    seen: dict[str, None] = {}
    for run in runs:
        pieces = [run] if len(run) <= 3 else [run[i : i + 3] for i in range(len(run) - 2)]
        for piece in pieces:
            seen.setdefault(fold(piece), None)
    return list(seen)[:CJK_WINDOWS]


def _fts5_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _tsquery_literal(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _like(needle: str) -> str:
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# ---------------------------------------------------------------------------
# Which words a suggestion ranks by


def _remembered(session: Session, expression: str, count: Callable[[str], int]) -> int:
    """`count(expression)`, remembered by the process for this store."""
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), expression)
    if key not in _counts:
        if len(_counts) >= COUNT_CACHE:
            _counts.clear()
        _counts[key] = count(expression)
    return _counts[key]


def _pick(
    session: Session,
    words: Sequence[str],
    *,
    everywhere: Callable[[str], str],
    in_title: Callable[[str], str],
    count: Callable[[str], int],
    budget: int | None = None,
    together: Callable[[list[str]], int] | None = None,
) -> list[str]:
    """The index expressions a suggestion ranks by: each word anywhere, or only in titles when
    it is in more than `budget` articles (dropped if it is in that many titles too); then
    rarest first while the articles to rank stay within the budget (SUGGEST_BUDGET unless
    given): the sum of the kept
    words' counts, or `together(kept)`, the articles they reach together, when given."""
    budget = SUGGEST_BUDGET if budget is None else budget
    found: list[tuple[int, str]] = []
    for word in words:
        for expression in (everywhere(word), in_title(word)):
            n = _remembered(session, expression, count)
            if n <= budget:
                if n:
                    found.append((n, expression))
                break
    kept: list[str] = []
    spent = 0
    for n, expression in sorted(found):
        if spent + n > budget and (together is None or together([*kept, expression]) > budget):
            break
        kept.append(expression)
        spent += n
    return kept


# ---------------------------------------------------------------------------
# SQLite


def _sqlite_trigram_expression(session: Session, term: str) -> str:
    """A CJK word as a trigram-table query: itself from three characters, else the
    trigrams that begin with it (read off the vocabulary), else a phrase that finds nothing."""
    needle = fold(term)
    if len(needle) >= 3:
        return _fts5_string(needle)
    starts = session.scalars(
        text(f"SELECT term FROM {TRIGRAM_VOCAB} WHERE term >= :lo AND term < :hi").bindparams(
            lo=needle, hi=needle + "\U0010ffff"
        )
    ).all()
    if not starts:
        return _fts5_string(needle)
    return "(" + " OR ".join(_fts5_string(t) for t in starts) + ")"


def _sqlite_word(term: Term) -> str:
    return _fts5_string(term.text.lower()) + (" *" if term.prefix else "")


def _sqlite_search(
    session: Session, terms: Sequence[Term], statuses: Sequence[str], limit: int
) -> list[int]:
    words = [t for t in terms if not t.cjk]
    cjk = [t for t in terms if t.cjk]
    where = f"a.status IN ({_status_list(statuses)})"
    params: dict[str, Any] = {"limit": limit}
    if words:
        # bm25 over the words; CJK words, if any, narrow the set through the trigrams.
        params["q"] = " AND ".join(_sqlite_word(t) for t in words)
        if _sqlite_count(session, params["q"], SEARCH_BUDGET + 1) > SEARCH_BUDGET:
            in_title = "title : (" + params["q"] + ")"
            if _sqlite_count(session, in_title, limit) >= limit:
                params["q"] = in_title
        for k, t in enumerate(cjk):
            params[f"c{k}"] = _sqlite_trigram_expression(session, t.text)
            where += (
                f" AND a.id IN (SELECT rowid FROM {TRIGRAM_TABLE} "
                f"WHERE {TRIGRAM_TABLE} MATCH :c{k})"
            )
        table, weights = FTS_TABLE, SQLITE_WEIGHTS
    else:
        params["q"] = " AND ".join(_sqlite_trigram_expression(session, t.text) for t in cjk)
        table, weights = TRIGRAM_TABLE, TRIGRAM_WEIGHTS
    # bm25 for the newest SEARCH_READ matches only (FTS5 walks its doclists newest first
    # at no cost), then the best of those.
    params["read"] = SEARCH_READ
    sql = (
        f"SELECT c.id FROM (SELECT a.id AS id, bm25({table}, {weights}) AS r FROM {table} "
        f"JOIN knowledge_articles a ON a.id = {table}.rowid WHERE {table} MATCH :q AND {where} "
        f"ORDER BY {table}.rowid DESC LIMIT :read) c ORDER BY c.r, c.id DESC LIMIT :limit"
    )
    return list(session.scalars(text(sql).bindparams(bindparam("q", type_=String)), params))


def _sqlite_count(session: Session, match: str, cap: int) -> int:
    """Articles whose index entry matches `match`, counted up to `cap` (FTS5 streams the
    doclist in rowid order, so a word in every article costs no more than `cap` rows)."""
    return int(
        session.scalar(
            text(
                f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH :q LIMIT :cap)"
            ),
            {"q": match, "cap": cap},
        )
        or 0
    )


def _sqlite_suggest(session: Session, text_: str, limit: int) -> list[int]:
    words = _pick(
        session,
        _words(text_),
        everywhere=_fts5_string,
        in_title=lambda w: "title : " + _fts5_string(w),
        count=lambda q: _sqlite_count(session, q, SUGGEST_BUDGET + 1),
    )
    windows = _windows(_cjk_runs(text_))
    where = f"a.status = '{PUBLISHED}'"
    ranked: list[int] = []
    if words:
        sql = (
            f"SELECT a.id FROM {FTS_TABLE} JOIN knowledge_articles a ON a.id = {FTS_TABLE}.rowid "
            f"WHERE {FTS_TABLE} MATCH :q AND {where} "
            f"ORDER BY bm25({FTS_TABLE}, {SQLITE_WEIGHTS}), a.id DESC LIMIT :limit"
        )
        query = " OR ".join(f"({w})" for w in words)
        ranked = list(session.scalars(text(sql), {"q": query, "limit": limit}))
    if windows and len(ranked) < limit:
        sql = (
            f"SELECT a.id FROM {TRIGRAM_TABLE} JOIN knowledge_articles a "
            f"ON a.id = {TRIGRAM_TABLE}.rowid WHERE {TRIGRAM_TABLE} MATCH :q AND {where} "
            f"ORDER BY bm25({TRIGRAM_TABLE}, {TRIGRAM_WEIGHTS}), a.id DESC LIMIT :limit"
        )
        query = " OR ".join(_sqlite_trigram_expression(session, w) for w in windows)
        for found in session.scalars(text(sql), {"q": query, "limit": limit}):
            if found not in ranked:
                ranked.append(found)
    return ranked[:limit]


# ---------------------------------------------------------------------------
# PostgreSQL


def _pg_word(term: Term, weights: str = "") -> str:
    """A tsquery for one term; user text only inside quoted lexemes (never operators).
    `weights` ("A": the title) keeps the matches in those parts of the vector."""
    # Lower case only: the 'simple' configuration keeps accents (docs/search.md).
    lexemes = [_tsquery_literal(w) for w in term.text.lower().split()]
    if term.prefix:
        lexemes[-1] += ":*" + weights
    elif weights:
        lexemes[-1] += ":" + weights
    if weights:
        lexemes[:-1] = [f"{lexeme}:{weights}" for lexeme in lexemes[:-1]]
    return "(" + (" <-> ".join(lexemes) if term.phrase else " & ".join(lexemes)) + ")"


def _pg_cjk_phrase(term: Term) -> str | None:
    """A CJK word of two characters or more as a phrase of its character pairs in
    `cjk_vector` (0026): "打印机" → '打印' <-> '印机', served by that vector's GIN index.
    None for a word mixing other letters in or of one character (pairs cannot spell it)."""
    if len(term.text) < 2 or _CJK.sub("", term.text):
        return None
    return "(" + " <-> ".join(_tsquery_literal(p) for p in cjk_pairs(term.text)) + ")"


def _pg_search(
    session: Session, terms: Sequence[Term], statuses: Sequence[str], limit: int
) -> list[ArticleHit]:
    words = [t for t in terms if not t.cjk]
    cjk = [t for t in terms if t.cjk]
    params: dict[str, Any] = {"limit": limit, "read": PG_SEARCH_READ}
    where = [f"a.status IN ({_status_list(statuses)})"]
    # CJK words: their pairs in cjk_vector, ranked there (title A, body C); a word pairs
    # cannot spell, an ILIKE through the pg_trgm index, a title holding it first.
    phrases = [p for t in cjk if (p := _pg_cjk_phrase(t))]
    cjk_rank = ["0"]
    if phrases:
        params["cq"] = " & ".join(phrases)
        where.append("a.cjk_vector @@ to_tsquery('simple', :cq)")
        cjk_rank = ["ts_rank(a.cjk_vector, to_tsquery('simple', :cq))"]
    for k, t in enumerate(t for t in cjk if not _pg_cjk_phrase(t)):
        params[f"c{k}"] = _like(t.text)
        # The same expression as the pg_trgm index, so the index serves it.
        where.append(f"(a.title || ' ' || a.body) ILIKE :c{k}")
        cjk_rank.append(f"(a.title ILIKE :c{k})::int")
    if not words:
        return _pg_tier(session, where, " + ".join(cjk_rank), "0", params)
    params["q"] = " & ".join(_pg_word(t) for t in words)
    rank = "ts_rank(a.search_vector, to_tsquery('simple', :q))"
    # The articles with every word in the title first (title_vector, 0029), then the rest.
    ranked = _pg_tier(
        session,
        [*where, "a.title_vector @@ to_tsquery('simple', :q)"],
        " + ".join(cjk_rank),
        rank,
        params,
    )
    if len(ranked) < limit:
        rest = _pg_tier(
            session,
            [*where, "a.search_vector @@ to_tsquery('simple', :q)"],
            " + ".join(cjk_rank),
            rank,
            params,
        )
        seen = {hit.id for hit in ranked}
        ranked += [hit for hit in rest if hit.id not in seen]
    return ranked[:limit]


def _pg_tier(
    session: Session, where: Sequence[str], first: str, rank: str, params: dict[str, Any]
) -> list[ArticleHit]:
    """The best `:limit` of the first PG_SEARCH_READ articles the indexes give for `where`,
    ordered by `first` (the CJK rank), then `rank`, then the newest. Ranking reads each
    candidate's vectors from the table: the cap bounds a query's cost at any base size.
    The page's rows come in the same statement (on a busy machine each round trip waits
    for a core)."""
    columns = ", ".join(f"a.{name}" for name in _HIT_COLUMNS)
    rows = session.execute(
        text(
            f"SELECT {columns} FROM (SELECT c.id, c.f, c.r FROM (SELECT a.id, {first} AS f, "
            f"{rank} AS r FROM knowledge_articles a WHERE {' AND '.join(where)} LIMIT :read) c "
            "ORDER BY c.f DESC, c.r DESC, c.id DESC LIMIT :limit) top "
            "JOIN knowledge_articles a ON a.id = top.id ORDER BY top.f DESC, top.r DESC, a.id DESC"
        ).columns(*(getattr(KnowledgeArticle, name).expression for name in _HIT_COLUMNS)),
        params,
    )
    return [_hit(r) for r in rows]


def _pg_matches(session: Session, query: str, cap: int, *, published: bool = False) -> int:
    """Articles matching a tsquery, counted through the GIN index up to `cap`."""
    status = f" AND a.status = '{PUBLISHED}'" if published else ""
    return int(
        session.scalar(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM knowledge_articles a "
                f"WHERE a.search_vector @@ to_tsquery('simple', :q){status} LIMIT :cap) s"
            ),
            {"q": query, "cap": cap},
        )
        or 0
    )


def _pg_title_matches(session: Session, query: str, cap: int) -> int:
    """Published articles with a tsquery's words in their titles, counted through the titles'
    own index (0026) up to `cap`."""
    return int(
        session.scalar(
            text(
                f"SELECT count(*) FROM (SELECT 1 FROM knowledge_articles a WHERE {PG_TITLE} "
                f"@@ to_tsquery('simple', :q) AND a.status = '{PUBLISHED}' LIMIT :cap) s"
            ),
            {"q": query, "cap": cap},
        )
        or 0
    )


def _pg_cjk_matches(session: Session, query: str, cap: int) -> int:
    """Published articles holding any of a tsquery's CJK pairs, counted up to `cap`."""
    return int(
        session.scalar(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM knowledge_articles a "
                "WHERE a.cjk_vector @@ to_tsquery('simple', :q) "
                f"AND a.status = '{PUBLISHED}' LIMIT :cap) s"
            ),
            {"q": query, "cap": cap},
        )
        or 0
    )


def cjk_pairs(text_: str) -> list[str]:
    """The character pairs of a text's CJK runs (a one-character run is itself), distinct,
    as migration 0026's knowledge_cjk_pairs makes them for `cjk_vector`."""
    seen: dict[str, None] = {}
    for run in _cjk_runs(text_):
        pieces = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        for piece in pieces:
            seen.setdefault(piece.lower(), None)
    return list(seen)


def _pg_ranked(session: Session, where: str, rank: str, params: dict[str, Any]) -> list[int]:
    return list(
        session.scalars(
            text(
                f"SELECT a.id FROM knowledge_articles a WHERE ({where}) "
                f"AND a.status = '{PUBLISHED}' ORDER BY ts_rank({rank}) DESC, a.id DESC "
                "LIMIT :limit"
            ),
            params,
        )
    )


def _pg_common_together(
    session: Session,
    common: list[tuple[int, str]],
    limit: int,
    *,
    matches: str,
    vector: str,
    count: Callable[[str, int], int],
    mark: str,
) -> list[int]:
    """When every word (or CJK pair) of the text is in too many articles to rank ("Printer
    prints blank pages"), the articles holding the most of them together: rarest first
    (`common`: count and tsquery literal), each kept while `limit` articles still hold all
    the kept ones (`count` of an AND up to a cap, remembered under `mark`); the first
    PG_COMMON_READ of those the index gives (`matches`, a condition on :t), ranked by all
    of them in `vector`. Something about the fault rather than nothing, at a bounded cost."""
    kept: list[str] = []
    prefix = f"{mark}{limit}|"
    # Counts past the budget are all the cap: among those, the order written (a title first).
    for _, literal in sorted(common, key=lambda c: c[0]):
        together = prefix + " & ".join([*kept, literal])
        held = _remembered(session, together, lambda q: count(q[len(prefix) :], limit))
        if not kept or held >= limit:
            kept.append(literal)
    if not kept:
        return []
    return list(
        session.scalars(
            text(
                f"SELECT c.id FROM (SELECT a.id, {vector} AS v FROM knowledge_articles a "
                f"WHERE {matches} AND a.status = '{PUBLISHED}' LIMIT :budget) c "
                "ORDER BY ts_rank(c.v, to_tsquery('simple', :r)) DESC, c.id DESC LIMIT :limit"
            ),
            {
                "t": " & ".join(kept),
                "r": " | ".join(literal for _, literal in common),
                "budget": PG_COMMON_READ,
                "limit": limit,
            },
        )
    )


def _over_budget(session: Session, expressions: Sequence[str]) -> list[tuple[int, str]]:
    """The expressions a suggestion counted and found in more than PG_SUGGEST_BUDGET
    articles, with their counts."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return [(n, e) for e in expressions if (n := _counts.get((url, e), 0)) > PG_SUGGEST_BUDGET]


def _pg_suggest(session: Session, text_: str, limit: int) -> list[int]:
    # Title-only expressions are marked with TITLE_MARK: they go to the titles' index.
    words = _pick(
        session,
        _words(text_, accents=True),
        everywhere=_tsquery_literal,
        in_title=lambda w: TITLE_MARK + _tsquery_literal(w),
        count=lambda q: (
            _pg_title_matches(session, q.removeprefix(TITLE_MARK), PG_SUGGEST_BUDGET + 1)
            if q.startswith(TITLE_MARK)
            else _pg_matches(session, q, PG_SUGGEST_BUDGET + 1, published=True)
        ),
        budget=PG_SUGGEST_BUDGET,
    )
    ranked: list[int] = []
    if words:
        anywhere = [w for w in words if not w.startswith(TITLE_MARK)]
        titles = [w.removeprefix(TITLE_MARK) for w in words if w.startswith(TITLE_MARK)]
        where = []
        params: dict[str, Any] = {
            "limit": limit,
            "r": " | ".join(anywhere + [t + ":A" for t in titles]),
        }
        if anywhere:
            params["q"] = " | ".join(anywhere)
            where.append("a.search_vector @@ to_tsquery('simple', :q)")
        if titles:
            params["t"] = " | ".join(titles)
            where.append(f"{PG_TITLE} @@ to_tsquery('simple', :t)")
        ranked = _pg_ranked(
            session, " OR ".join(where), "a.search_vector, to_tsquery('simple', :r)", params
        )
    pairs = cjk_pairs(text_)
    if pairs and len(ranked) < limit:
        # Pairs of one phrase are held by the same articles: the budget counts the articles
        # the kept pairs reach together, not the sum of each pair's.
        kept = _pick(
            session,
            [_tsquery_literal(p) for p in pairs],
            everywhere=lambda p: p,
            in_title=lambda p: p,
            count=lambda q: _pg_cjk_matches(session, q, PG_SUGGEST_BUDGET + 1),
            budget=PG_SUGGEST_BUDGET,
            together=lambda qs: _remembered(
                session,
                "cjk:" + " | ".join(qs),
                lambda q: _pg_cjk_matches(session, q[4:], PG_SUGGEST_BUDGET + 1),
            ),
        )
        if kept:
            query = {"limit": limit, "c": " | ".join(kept)}
            for found in _pg_ranked(
                session,
                "a.cjk_vector @@ to_tsquery('simple', :c)",
                "a.cjk_vector, to_tsquery('simple', :c)",
                query,
            ):
                if found not in ranked:
                    ranked.append(found)
    # Then, fewer than asked for still, the words and pairs over the budget.
    if len(ranked) < limit:
        common = _over_budget(
            session, [TITLE_MARK + _tsquery_literal(w) for w in _words(text_, accents=True)]
        )
        common_ranked = _pg_common_together(
            session,
            [(n, e.removeprefix(TITLE_MARK)) for n, e in common],
            limit,
            matches=f"{PG_TITLE} @@ to_tsquery('simple', :t)",
            vector="a.search_vector",
            count=lambda q, cap: _pg_title_matches(session, q, cap),
            mark=TITLE_MARK,
        )
        ranked += [found for found in common_ranked if found not in ranked]
    if pairs and len(ranked) < limit:
        cjk = _pg_common_together(
            session,
            _over_budget(session, [_tsquery_literal(p) for p in pairs]),
            limit,
            matches="a.cjk_vector @@ to_tsquery('simple', :t)",
            vector="a.cjk_vector",
            count=lambda q, cap: _pg_cjk_matches(session, q, cap),
            mark="cjk:",
        )
        ranked += [found for found in cjk if found not in ranked]
    return ranked[:limit]


# ---------------------------------------------------------------------------
# The API


def search_articles(
    session: Session,
    query: str,
    *,
    statuses: Sequence[str] = (PUBLISHED,),
    limit: int = 50,
) -> list[ArticleHit]:
    """Articles in `statuses` matching every word of `query`, most relevant first.

    An empty query lists the most recently changed articles instead (the browser's
    opening page), through the primary key's order.
    """
    if limit <= 0:
        return []
    parsed = parse_query(query)
    if parsed.empty:
        ids = list(
            session.scalars(
                select(KnowledgeArticle.id)
                .where(KnowledgeArticle.status.in_(list(statuses)))
                .order_by(KnowledgeArticle.id.desc())
                .limit(limit)
            )
        )
    elif session.get_bind().dialect.name == "postgresql":
        return _pg_search(session, parsed.terms, statuses, limit)
    else:
        ids = _sqlite_search(session, parsed.terms, statuses, limit)
    return _load(session, ids)


def suggest_articles(
    session: Session, written: str, *, limit: int = SUGGESTIONS
) -> list[ArticleHit]:
    """The published articles that best match what an agent is writing (any of its words)."""
    written = _UNSENDABLE.sub(" ", written or "")
    if limit <= 0 or not written.strip():
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = _pg_suggest(session, written, limit)
    else:
        ids = _sqlite_suggest(session, written, limit)
    return _load(session, ids)


def naive_search(session: Session, query: str, *, limit: int = 50) -> list[int]:
    """What the ranked search replaces, for bench/kb.py: each word a LIKE over title and body
    of every published article, ranked by how many words each holds (a title counting ten
    times). Reads the whole table for every query."""
    scores = []
    params: dict[str, Any] = {"limit": limit}
    for k, word in enumerate(query.split()):
        params[f"w{k}"] = _like(word)
        scores.append(
            f"10 * CAST(a.title LIKE :w{k} ESCAPE '\\' AS INTEGER) "
            f"+ CAST(a.body LIKE :w{k} ESCAPE '\\' AS INTEGER)"
        )
    score = " + ".join(scores) or "0"
    return list(
        session.scalars(
            text(
                f"SELECT a.id FROM knowledge_articles a WHERE a.status = '{PUBLISHED}' "
                f"AND ({score}) > 0 ORDER BY ({score}) DESC, a.id DESC LIMIT :limit"
            ),
            params,
        )
    )


__all__ = ["ArticleHit", "fold", "naive_search", "search_articles", "suggest_articles"]
