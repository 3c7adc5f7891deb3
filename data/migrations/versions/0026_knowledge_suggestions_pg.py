"""PostgreSQL's knowledge suggestions served by indexes: the titles of published articles
as their own GIN index, and the character pairs of CJK text as a tsvector (docs/knowledge.md).

A word held by thousands of articles is suggested by titles only: through the search
vector that is a recheck of every article holding it (its weight is not in the index), so
the titles get an index of their own. CJK text has no spaces: its character pairs
("打印机" → 打印, 印机) are words of `cjk_vector`, so a suggestion for Chinese text is the same
ranked tsvector query as for English instead of one ILIKE per window over whole bodies.
SQLite needs neither (FTS5 column filters and the trigram table, 0023).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The ranges of itsm_tui.data.search's _CJK; the Python side (knowledge_search.cjk_pairs)
# makes the same pairs from what an agent writes.
_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
PAIRS_FUNCTION = f"""CREATE OR REPLACE FUNCTION knowledge_cjk_pairs(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN (
  SELECT coalesce(string_agg(
    CASE WHEN char_length(m[1]) = 1 THEN m[1] ELSE substr(m[1], i, 2) END, ' '), '')
  FROM regexp_matches(coalesce(t, ''), '[{_CJK}]+', 'g') AS m,
       generate_series(1, greatest(char_length(m[1]) - 1, 1)) AS i)"""
CJK_VECTOR = """ALTER TABLE knowledge_articles ADD COLUMN cjk_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, knowledge_cjk_pairs(title)), 'A')
        || setweight(to_tsvector('simple'::regconfig, knowledge_cjk_pairs(body)), 'C')
    ) STORED"""
CJK_INDEX = "CREATE INDEX ix_knowledge_articles_cjk ON knowledge_articles USING gin (cjk_vector)"
# Only published articles are suggested.
TITLE_INDEX = (
    "CREATE INDEX ix_knowledge_articles_title_published ON knowledge_articles "
    "USING gin (to_tsvector('simple'::regconfig, title)) WHERE status = 'published'"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in (PAIRS_FUNCTION, CJK_VECTOR, CJK_INDEX, TITLE_INDEX):
        op.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text("DROP INDEX IF EXISTS ix_knowledge_articles_title_published"))
    op.execute(sa.text("DROP INDEX IF EXISTS ix_knowledge_articles_cjk"))
    op.execute(sa.text("ALTER TABLE knowledge_articles DROP COLUMN IF EXISTS cjk_vector"))
    op.execute(sa.text("DROP FUNCTION IF EXISTS knowledge_cjk_pairs(text)"))
