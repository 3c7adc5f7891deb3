"""PostgreSQL's ranked knowledge search served by a stored title vector: the words of each
article's title as a generated tsvector with its own GIN index (docs/knowledge.md).

A search whose words are in more than a thousand articles ranks those with the words in
the title. Through `search_vector` that was a weight-restricted query ('vpn':*A): the weights
are not in its GIN index, so every article holding the word anywhere was read and rechecked
(27,000 rows for "vpn" at 100,000 articles, 250 ms). `title_vector` finds title matches in
its own index, for every status (0026's title index is over published titles only, an
expression recomputed at each recheck: 45 µs a row for phrases). Weight A as in
`search_vector`. The column is computed by the table's rewrite, in one statement.
SQLite needs none of it (FTS5 column filters, 0023).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TITLE_VECTOR = """ALTER TABLE knowledge_articles ADD COLUMN title_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
    ) STORED"""
TITLE_VECTOR_INDEX = (
    "CREATE INDEX ix_knowledge_articles_title_vector ON knowledge_articles USING gin (title_vector)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text(TITLE_VECTOR))
    op.execute(sa.text(TITLE_VECTOR_INDEX))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text("DROP INDEX IF EXISTS ix_knowledge_articles_title_vector"))
    op.execute(sa.text("ALTER TABLE knowledge_articles DROP COLUMN IF EXISTS title_vector"))
