"""Full-text search of tickets: number, title and description, on SQLite and PostgreSQL.

The index objects are made by migration 0002 and kept current by the database itself
(SQLite triggers; a PostgreSQL generated column), so the one write path needs no change:

- SQLite: `tickets_fts`, an FTS5 external-content table over (number, title,
  description) with `unicode61 remove_diacritics 2`, and `tickets_fts_trgm`, a
  contentless FTS5 `trigram` table over the title for Chinese, Japanese and Korean
  text, which has no spaces between words. `tickets_fts_trgm_vocab` lists its trigrams.
- PostgreSQL: `tickets.search_vector`, a generated `tsvector` ('simple' configuration,
  the desk is multilingual) with the GIN index `ix_tickets_search`, and
  `ix_tickets_title_trgm`, a pg_trgm GIN index on the title for CJK substrings.

Results are filtered, never ranked: ranking every match is the one slow query at a
million tickets (see PERF-NOTES), so callers order by their view's sort.

Query syntax (everything else is text, never an operator):
- words: every word must occur (AND), case-insensitively;
- "quoted phrases": the words in this order; an unclosed quote runs to the end;
- the last word, while it is being typed (no space after it), matches as a prefix:
  `prin` finds "printer" (from 2 characters on; a single letter matches the word);
- a ticket number, `INC0000042`, `inc42` or `42`, also matches that number exactly
  (`42` matches INC0000042, REQ0000042 and PRB0000042, and the word 42);
- a word with CJK characters matches wherever it occurs in a title (a substring), and
  as a prefix of a CJK run in the description;
- punctuation, symbols and emoji separate words and are not searched for; a query with
  nothing else matches every ticket, like an empty one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer, String

from itsm_tui.data.models import Ticket
from itsm_tui.domain.workflow import NUMBER_PREFIX, TICKET_TYPES, format_number
from itsm_tui.i18n import _

# SQLite objects (migration 0002). Every name starts with "tickets_fts" so that one
# prefix tells Alembic's comparison which tables the models do not describe.
FTS_TABLE = "tickets_fts"
TRIGRAM_TABLE = "tickets_fts_trgm"
TRIGRAM_VOCAB = "tickets_fts_trgm_vocab"
SQLITE_TRIGGERS = ("tickets_fts_ai", "tickets_fts_ad", "tickets_fts_au")
# Two spaces after each title in the trigram table: a CJK word of one or two
# characters at the very end of a title still starts a trigram (see _sqlite_cjk).
TITLE_PAD = "  "
# PostgreSQL objects (migration 0002).
PG_VECTOR_COLUMN = "search_vector"
PG_INDEXES = ("ix_tickets_search", "ix_tickets_title_trgm")
# The knowledge base's search objects (migrations 0023, 0026 and 0029,
# itsm_tui.data.knowledge_search): named here because the one Alembic hook below skips them too.
KNOWLEDGE_FTS_TABLE = "knowledge_fts"
KNOWLEDGE_PG_INDEXES = (
    "ix_knowledge_articles_search",
    "ix_knowledge_articles_trgm",
    "ix_knowledge_articles_cjk",
    "ix_knowledge_articles_title_published",
    "ix_knowledge_articles_title_vector",
)
KNOWLEDGE_PG_CJK_COLUMN = "cjk_vector"
KNOWLEDGE_PG_TITLE_COLUMN = "title_vector"
SEARCH_TABLE_PREFIXES = (FTS_TABLE, KNOWLEDGE_FTS_TABLE)

# Ticket types whose numbers a bare `42` stands for (changes and articles are not tickets).
_TICKET_PREFIXES = tuple(NUMBER_PREFIX[t] for t in TICKET_TYPES)
_NUMBER = re.compile(
    r"#?(?:(?P<prefix>" + "|".join(_TICKET_PREFIXES) + r")-?)?0*(?P<n>\d{1,9})", re.IGNORECASE
)
# Han (with extensions and compatibility ideographs), kana, Hangul: scripts written
# without spaces, which word tokenizers cannot split.
_CJK = re.compile(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]"
)
# Characters no database can be asked about: NUL (PostgreSQL text cannot hold it) and
# lone surrogates (not UTF-8). Typed or pasted, they only separate words.
_UNSENDABLE = re.compile("[\x00\ud800-\udfff]")
# Punctuation at a word's edges: SQLite's tokenizer drops it, but PostgreSQL's parser can
# keep it in the lexeme (`/cannot` is read as a file path), so it is dropped here for both.
_EDGE_PUNCTUATION = re.compile(r"^[^\w]+|[^\w]+$")
MIN_PREFIX = 2
# PostgreSQL's newest-first search reads at most this many of the newest tickets before
# it turns to the GIN index (see search_tickets).
RECENT_WINDOW = 20_000


@dataclass(frozen=True)
class Term:
    """One word or quoted phrase of a query, as the user typed it."""

    text: str
    phrase: bool = False
    prefix: bool = False

    @property
    def cjk(self) -> bool:
        return _CJK.search(self.text) is not None

    @property
    def numbers(self) -> tuple[str, ...]:
        """The ticket numbers this word can stand for (none for phrases and other words)."""
        if self.phrase:
            return ()
        m = _NUMBER.fullmatch(self.text)
        if m is None:
            return ()
        n = int(m["n"])
        prefixes = (m["prefix"].upper(),) if m["prefix"] else _TICKET_PREFIXES
        return tuple(format_number(p, n) for p in prefixes)


@dataclass(frozen=True)
class SearchQuery:
    """What the search box holds, parsed: terms that must all match."""

    terms: tuple[Term, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.terms


def _searchable(text: str) -> bool:
    """Whether the tokenizers would index anything in it (letters or digits)."""
    return any(ch.isalnum() for ch in text)


def parse_query(text: str) -> SearchQuery:
    """Split the search box into words and "phrases"; the word being typed is a prefix."""
    text = _UNSENDABLE.sub(" ", text or "")
    raw: list[tuple[str, bool, bool]] = []  # text, phrase, closed
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raw.append((text[i + 1 :], True, False))
                i = n
            else:
                raw.append((text[i + 1 : end], True, True))
                i = end + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] != '"':
                j += 1
            raw.append((text[i:j], False, j < n))
            i = j
    terms: list[Term] = []
    for k, (body, phrase, closed) in enumerate(raw):
        body = " ".join(w for w in (_EDGE_PUNCTUATION.sub("", w) for w in body.split()) if w)
        if not _searchable(body):
            continue
        # Only the last term is still being typed, and only if nothing follows it.
        typing = k == len(raw) - 1 and not closed
        last_word = body.rsplit(" ", 1)[-1]
        prefix = typing and sum(ch.isalnum() for ch in last_word) >= MIN_PREFIX
        # A phrase of one word is that word (lets `"42"` still be just the word 42).
        terms.append(Term(body, phrase=phrase and " " in body, prefix=prefix))
    return SearchQuery(tuple(terms))


# ---------------------------------------------------------------------------
# SQLite: FTS5 query strings are built here; every piece of user text is inside a
# double-quoted FTS5 string (quotes doubled), where operators are plain text.


def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts5_term(term: Term) -> str:
    words = _fts5_string(term.text.lower()) + (" *" if term.prefix else "")
    alternatives = [words, *(_fts5_string(n.lower()) for n in term.numbers)]
    return alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"


def _sqlite_match(table: str, expression: str) -> ColumnElement[bool]:
    sub = text(f"SELECT rowid FROM {table} WHERE {table} MATCH :q").bindparams(
        bindparam("q", expression, type_=String, unique=True)
    )
    return Ticket.id.in_(sub.columns(column("rowid", Integer)))


def _sqlite_cjk(term: Term) -> ColumnElement[bool]:
    """A CJK word: a substring of the title (trigrams), or a prefix of a description run."""
    needle = term.text.lower()
    in_words = _sqlite_match(FTS_TABLE, _fts5_string(needle) + " *")
    if len(needle) >= 3:
        in_title = _sqlite_match(TRIGRAM_TABLE, _fts5_string(needle))
        return or_(in_title, in_words)
    # Trigram queries need three characters; most Chinese words have two. Those are
    # found through the trigrams that start with them (the vocabulary is an index, and
    # the padding gives every title end a trigram). No such trigram: the bare word as
    # a trigram phrase, which matches nothing, rather than a NULL MATCH (an error).
    sub = text(
        f"SELECT rowid FROM {TRIGRAM_TABLE} WHERE {TRIGRAM_TABLE} MATCH coalesce("
        f"(SELECT group_concat('\"' || replace(term, '\"', '\"\"') || '\"', ' OR ') "
        f"FROM {TRIGRAM_VOCAB} WHERE term >= :lo AND term < :hi), :none)"
    ).bindparams(
        bindparam("lo", needle, type_=String, unique=True),
        bindparam("hi", needle + "\U0010ffff", type_=String, unique=True),
        bindparam("none", _fts5_string(needle), type_=String, unique=True),
    )
    return or_(Ticket.id.in_(sub.columns(column("rowid", Integer))), in_words)


def _sqlite_clause(query: SearchQuery) -> ColumnElement[bool]:
    words = [t for t in query.terms if not t.cjk]
    clauses: list[ColumnElement[bool]] = []
    if words:
        # One MATCH for all words: FTS5 intersects the doclists itself.
        clauses.append(_sqlite_match(FTS_TABLE, " AND ".join(_fts5_term(t) for t in words)))
    clauses.extend(_sqlite_cjk(t) for t in query.terms if t.cjk)
    return and_(*clauses)


# ---------------------------------------------------------------------------
# PostgreSQL: user text reaches tsquery only through phraseto_tsquery (which parses
# text, not query syntax) or inside a quoted tsquery literal (quotes and backslashes
# escaped), so no input is ever read as an operator.


def _tsquery_literal(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


_SIMPLE = literal_column("'simple'::regconfig")


def _pg_term(term: Term) -> ColumnElement[Any]:
    if term.prefix:
        *head, last = term.text.split(" ")
        query = func.to_tsquery(_SIMPLE, _tsquery_literal(last) + ":*", type_=TSQUERY)
        if head:
            # The phrase being typed: its words in order, the last one as a prefix.
            query = func.tsquery_phrase(
                func.phraseto_tsquery(_SIMPLE, " ".join(head), type_=TSQUERY), query, type_=TSQUERY
            )
    else:
        query = func.phraseto_tsquery(_SIMPLE, term.text, type_=TSQUERY)
    if term.numbers:
        numbers = " | ".join(_tsquery_literal(n.lower()) for n in term.numbers)
        query = query.op("||")(func.to_tsquery(_SIMPLE, numbers, type_=TSQUERY))
    return query


def _pg_clause(query: SearchQuery) -> ColumnElement[bool]:
    vector = literal_column(f"tickets.{PG_VECTOR_COLUMN}", type_=TSVECTOR)
    clauses: list[ColumnElement[bool]] = []
    words = [t for t in query.terms if not t.cjk]
    if words:
        combined = _pg_term(words[0])
        for t in words[1:]:
            combined = combined.op("&&")(_pg_term(t))
        clauses.append(vector.bool_op("@@")(combined))
    for t in query.terms:
        if not t.cjk:
            continue
        needle = t.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        # pg_trgm's index serves ILIKE from three characters on; shorter CJK words are
        # checked row by row (see docs/search.md).
        in_title = Ticket.title.ilike(f"%{needle}%", escape="\\")
        prefix = func.to_tsquery(_SIMPLE, _tsquery_literal(t.text) + ":*", type_=TSQUERY)
        clauses.append(or_(in_title, vector.bool_op("@@")(prefix)))
    return and_(*clauses)


# ---------------------------------------------------------------------------
# The API


def search_clause(dialect_name: str, query: SearchQuery) -> ColumnElement[bool]:
    """A condition on `tickets` that keeps the tickets matching `query` (all if it is empty).

    Safe for any input: user text is always data. Combine it with a view's filters and
    order (not by relevance): e.g. `select(Ticket.id).where(search_clause(...), ...)`.
    """
    if query.empty:
        return true()
    if dialect_name == "sqlite":
        return _sqlite_clause(query)
    if dialect_name == "postgresql":
        return _pg_clause(query)
    raise ValueError(
        _("full-text search supports sqlite and postgresql, not {name}").format(name=dialect_name)
    )


def search_statement(
    dialect_name: str,
    text: str,
    *,
    open_only: bool = False,
    limit: int = 60,
    before_id: int | None = None,
) -> Select[tuple[int]]:
    """The ids of the newest `limit` matching tickets, below `before_id` (the next page).

    Newest means most recently recorded: highest id first. That is the order FTS5 and
    the primary key deliver rows in, so the first page of a word found in a fifth of a
    million tickets reads 60 of them, not all (exposed so tests can EXPLAIN it).
    """
    query = parse_query(text)
    conditions: list[ColumnElement[bool]] = []
    if open_only:
        conditions.append(Ticket.is_open == true())
    words = [t for t in query.terms if not t.cjk]
    if dialect_name == "sqlite" and words:
        # Driven by the FTS5 index in rowid order: matches stream out newest first and
        # the LIMIT stops the scan. The other conditions are checked per ticket.
        fts = table(FTS_TABLE, column("rowid", Integer))
        match = literal_column(FTS_TABLE).op("MATCH")(
            bindparam("q", " AND ".join(_fts5_term(t) for t in words), type_=String, unique=True)
        )
        conditions.extend(_sqlite_cjk(t) for t in query.terms if t.cjk)
        if before_id is not None:
            conditions.append(fts.c.rowid < before_id)
        return (
            select(Ticket.id)
            .select_from(fts)
            .join(Ticket, Ticket.id == fts.c.rowid)
            .where(match, *conditions)
            .order_by(fts.c.rowid.desc())
            .limit(limit)
        )
    if before_id is not None:
        conditions.append(Ticket.id < before_id)
    return (
        select(Ticket.id)
        .where(search_clause(dialect_name, query), *conditions)
        .order_by(Ticket.id.desc())
        .limit(limit)
    )


def search_tickets(
    session: Session,
    text: str,
    *,
    open_only: bool = False,
    limit: int = 60,
    before_id: int | None = None,
) -> list[int]:
    """Ids of the tickets matching `text`, newest (highest id) first, at most `limit`."""
    if limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    stmt = search_statement(dialect, text, open_only=open_only, limit=limit, before_id=before_id)
    query = parse_query(text)
    if dialect != "postgresql" or query.empty:
        return list(session.scalars(stmt))
    # PostgreSQL guesses a word's frequency from sampled statistics and, for a rare word
    # or a number, may walk the primary key backwards through the whole table (0.5 s at
    # a million tickets). So: first the newest RECENT_WINDOW tickets only, which is
    # enough for any word in more than 1 in 300; if that does not fill the page, the
    # word is rare and the GIN index finds the older matches ("id + 0" keeps the
    # planner off the primary-key walk).
    window = select(Ticket.id).order_by(Ticket.id.desc()).limit(RECENT_WINDOW)
    if before_id is not None:
        window = window.where(Ticket.id < before_id)
    recent = window.subquery("recent")
    floor = session.scalar(select(func.min(recent.c.id)))
    if floor is None:
        return []
    ids = list(session.scalars(stmt.where(Ticket.id >= floor)))
    if len(ids) >= limit:
        return ids
    older = stmt.where(Ticket.id < floor).order_by(None).order_by((Ticket.id + 0).desc())
    return ids + list(session.scalars(older.limit(limit - len(ids))))


# ---------------------------------------------------------------------------
# Alembic: the search objects live outside the models (FTS5 tables, a generated column
# that no ORM statement should read or write), so the schema comparison skips them.


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic `include_object` hook: False for the search objects of migrations 0002, 0023,
    0026 and 0029 (the knowledge base's, named in itsm_tui.data.knowledge_search)."""
    if type_ == "table" and name is not None and name.startswith(SEARCH_TABLE_PREFIXES):
        return False
    if type_ == "column" and name in (
        PG_VECTOR_COLUMN,
        KNOWLEDGE_PG_CJK_COLUMN,
        KNOWLEDGE_PG_TITLE_COLUMN,
    ):
        return False
    return not (type_ == "index" and name in PG_INDEXES + KNOWLEDGE_PG_INDEXES)


__all__ = [
    "SearchQuery",
    "Term",
    "include_object",
    "parse_query",
    "search_clause",
    "search_statement",
    "search_tickets",
]
