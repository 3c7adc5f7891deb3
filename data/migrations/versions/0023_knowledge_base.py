"""the knowledge base: retired articles, review and publish dates, ranked full-text search

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 07:00:00

Columns review_on and published_at. SQLite: `knowledge_fts`, an FTS5 external-content
table over (title, tags, body) ranked with bm25, its vocabulary `knowledge_fts_vocab`
(how many articles hold a word: suggestions skip words in most of them), and
`knowledge_fts_trgm`, a contentless trigram table over the title and body of the
articles that contain CJK text (only those: the English bulk of a base costs nothing
there), with its vocabulary for one- and two-character words. PostgreSQL: a generated
tsvector column with a GIN index, and a pg_trgm GIN index over title and body for CJK
substrings. See itsm_tui.data.knowledge_search. Statements spelled out here so that this
revision stays what it was.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.models import UtcDateTime

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Han (with extensions and compatibility ideographs), kana, Hangul, half-width kana: the
# same ranges as itsm_tui.data.search's _CJK. GLOB compares code points.
CJK_GLOB = (
    "'*[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]*'"
)


def _has_cjk(row: str) -> str:
    return f"({row}.title || ' ' || {row}.body) GLOB {CJK_GLOB}"


# Two spaces after each text in the trigram table, as for tickets: a one- or two-character
# CJK word at the very end still begins a trigram.
_TRGM_INSERT = (
    "INSERT INTO knowledge_fts_trgm (rowid, title, body) "
    "SELECT new.id, new.title || '  ', new.body || '  ' WHERE " + _has_cjk("new") + ";"
)
_TRGM_DELETE = (
    "INSERT INTO knowledge_fts_trgm (knowledge_fts_trgm, rowid, title, body) "
    "SELECT 'delete', old.id, old.title || '  ', old.body || '  ' WHERE " + _has_cjk("old") + ";"
)
_FTS_INSERT = (
    "INSERT INTO knowledge_fts (rowid, title, tags, body) "
    "VALUES (new.id, new.title, new.tags, new.body);"
)
_FTS_DELETE = (
    "INSERT INTO knowledge_fts (knowledge_fts, rowid, title, tags, body) "
    "VALUES ('delete', old.id, old.title, old.tags, old.body);"
)

SQLITE_UPGRADE = [
    """CREATE VIRTUAL TABLE knowledge_fts USING fts5(
        title, tags, body,
        content='knowledge_articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )""",
    "CREATE VIRTUAL TABLE knowledge_fts_vocab USING fts5vocab(knowledge_fts, 'row')",
    """CREATE VIRTUAL TABLE knowledge_fts_trgm USING fts5(
        title, body, content='', tokenize='trigram case_sensitive 0'
    )""",
    "CREATE VIRTUAL TABLE knowledge_fts_trgm_vocab USING fts5vocab(knowledge_fts_trgm, 'row')",
    f"CREATE TRIGGER knowledge_fts_ai AFTER INSERT ON knowledge_articles BEGIN "
    f"{_FTS_INSERT} {_TRGM_INSERT} END",
    f"CREATE TRIGGER knowledge_fts_ad AFTER DELETE ON knowledge_articles BEGIN "
    f"{_FTS_DELETE} {_TRGM_DELETE} END",
    f"CREATE TRIGGER knowledge_fts_au AFTER UPDATE OF title, tags, body ON knowledge_articles "
    f"BEGIN {_FTS_DELETE} {_TRGM_DELETE} {_FTS_INSERT} {_TRGM_INSERT} END",
    # Articles written before this revision.
    "INSERT INTO knowledge_fts (knowledge_fts) VALUES ('rebuild')",
    "INSERT INTO knowledge_fts_trgm (rowid, title, body) SELECT id, title || '  ', body || '  ' "
    "FROM knowledge_articles new WHERE " + _has_cjk("new"),
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS knowledge_fts_au",
    "DROP TRIGGER IF EXISTS knowledge_fts_ad",
    "DROP TRIGGER IF EXISTS knowledge_fts_ai",
    "DROP TABLE IF EXISTS knowledge_fts_trgm_vocab",
    "DROP TABLE IF EXISTS knowledge_fts_trgm",
    "DROP TABLE IF EXISTS knowledge_fts_vocab",
    "DROP TABLE IF EXISTS knowledge_fts",
]

# 'simple' as for tickets: no stemming, no stop words, the same for every language.
PG_VECTOR = """ALTER TABLE knowledge_articles ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig, coalesce(tags::text, '')), 'B')
        || setweight(to_tsvector('simple'::regconfig, coalesce(body, '')), 'C')
    ) STORED"""
PG_VECTOR_INDEX = (
    "CREATE INDEX ix_knowledge_articles_search ON knowledge_articles USING gin (search_vector)"
)
PG_TRIGRAM_INDEX = (
    "CREATE INDEX ix_knowledge_articles_trgm ON knowledge_articles "
    "USING gin ((title || ' ' || body) gin_trgm_ops)"
)


def upgrade() -> None:
    op.add_column("knowledge_articles", sa.Column("review_on", sa.Date(), nullable=True))
    op.add_column("knowledge_articles", sa.Column("published_at", UtcDateTime(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(sa.text(statement))
        return
    op.execute(sa.text(PG_VECTOR))
    op.execute(sa.text(PG_VECTOR_INDEX))
    # pg_trgm: Debian's postgresql-15 contrib, a trusted extension (see 0002). Refused,
    # CJK words are still found (ILIKE), only without an index.
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        bind.execute(sa.text(PG_TRIGRAM_INDEX))
    except sa.exc.DBAPIError:
        savepoint.rollback()
    else:
        savepoint.commit()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_DOWNGRADE:
            op.execute(sa.text(statement))
    else:
        op.execute(sa.text("DROP INDEX IF EXISTS ix_knowledge_articles_trgm"))
        op.execute(sa.text("DROP INDEX IF EXISTS ix_knowledge_articles_search"))
        op.execute(sa.text("ALTER TABLE knowledge_articles DROP COLUMN IF EXISTS search_vector"))
    op.drop_column("knowledge_articles", "published_at")
    op.drop_column("knowledge_articles", "review_on")
