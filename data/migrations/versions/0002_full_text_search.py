"""full-text search of tickets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:00:00

SQLite: an FTS5 external-content table over (number, title, description) and a
contentless FTS5 trigram table over the title (CJK substrings), kept current by
triggers on tickets. PostgreSQL: a generated tsvector column with a GIN index, and a
pg_trgm GIN index on the title when the extension can be installed. See
itsm_tui.data.search and docs/search.md. The statements are spelled out here (not
imported) so that this revision stays what it was when later ones change the search.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UPGRADE = [
    # unicode61 folds case and (remove_diacritics 2) accents: "cafe" finds "Café".
    """CREATE VIRTUAL TABLE tickets_fts USING fts5(
        number, title, description,
        content='tickets', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )""",
    # Contentless: the titles are stored once, in tickets. Each is indexed with two
    # trailing spaces so that a one- or two-character CJK word ending a title still
    # begins a trigram (itsm_tui.data.search looks short words up by trigram prefix).
    """CREATE VIRTUAL TABLE tickets_fts_trgm USING fts5(
        title, content='', tokenize='trigram case_sensitive 0'
    )""",
    "CREATE VIRTUAL TABLE tickets_fts_trgm_vocab USING fts5vocab(tickets_fts_trgm, 'row')",
    """CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets BEGIN
        INSERT INTO tickets_fts (rowid, number, title, description)
        VALUES (new.id, new.number, new.title, new.description);
        INSERT INTO tickets_fts_trgm (rowid, title) VALUES (new.id, new.title || '  ');
    END""",
    """CREATE TRIGGER tickets_fts_ad AFTER DELETE ON tickets BEGIN
        INSERT INTO tickets_fts (tickets_fts, rowid, number, title, description)
        VALUES ('delete', old.id, old.number, old.title, old.description);
        INSERT INTO tickets_fts_trgm (tickets_fts_trgm, rowid, title)
        VALUES ('delete', old.id, old.title || '  ');
    END""",
    """CREATE TRIGGER tickets_fts_au AFTER UPDATE OF number, title, description ON tickets
    BEGIN
        INSERT INTO tickets_fts (tickets_fts, rowid, number, title, description)
        VALUES ('delete', old.id, old.number, old.title, old.description);
        INSERT INTO tickets_fts (rowid, number, title, description)
        VALUES (new.id, new.number, new.title, new.description);
        INSERT INTO tickets_fts_trgm (tickets_fts_trgm, rowid, title)
        VALUES ('delete', old.id, old.title || '  ');
        INSERT INTO tickets_fts_trgm (rowid, title) VALUES (new.id, new.title || '  ');
    END""",
    # Tickets written before this revision.
    "INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild')",
    "INSERT INTO tickets_fts_trgm (rowid, title) SELECT id, title || '  ' FROM tickets",
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS tickets_fts_au",
    "DROP TRIGGER IF EXISTS tickets_fts_ad",
    "DROP TRIGGER IF EXISTS tickets_fts_ai",
    "DROP TABLE IF EXISTS tickets_fts_trgm_vocab",
    "DROP TABLE IF EXISTS tickets_fts_trgm",
    "DROP TABLE IF EXISTS tickets_fts",
]

# 'simple': no stemming and no stop words, the same for English and Chinese. The
# weights cost nothing to filter by and let a capped candidate set be ranked later.
PG_VECTOR = """ALTER TABLE tickets ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(number, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'B')
        || setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'C')
    ) STORED"""
PG_VECTOR_INDEX = "CREATE INDEX ix_tickets_search ON tickets USING gin (search_vector)"
PG_TRIGRAM_INDEX = "CREATE INDEX ix_tickets_title_trgm ON tickets USING gin (title gin_trgm_ops)"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(sa.text(statement))
        return
    op.execute(sa.text(PG_VECTOR))
    op.execute(sa.text(PG_VECTOR_INDEX))
    # pg_trgm ships in Debian's postgresql-15 (contrib) and is a trusted extension, so a
    # database owner may install it. Where it is refused, CJK titles are still searched
    # (ILIKE), only without an index: the upgrade must not fail over a speed-up.
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
        return
    # The pg_trgm extension stays: other objects of the database may have come to use it.
    op.execute(sa.text("DROP INDEX IF EXISTS ix_tickets_title_trgm"))
    op.execute(sa.text("DROP INDEX IF EXISTS ix_tickets_search"))
    op.execute(sa.text("ALTER TABLE tickets DROP COLUMN IF EXISTS search_vector"))
