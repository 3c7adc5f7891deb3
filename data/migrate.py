"""Alembic, driven from code: every command brings an older store up to date."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    # Checking first keeps the common case (already at head) to one cheap query.
    if current_revision(engine) == head_revision():
        return
    command.upgrade(alembic_config(engine), "head")
    if engine.dialect.name == "sqlite":
        analyze_new_indexes(engine)


def analyze_new_indexes(engine: Engine) -> list[str]:
    """ANALYZE the SQLite tables that have statistics but also an index without any.

    SQLite's planner takes an index it has no statistics for as very selective. On a
    store analysed before a migration added an index, that index then wins plans it
    should lose: after 0003 the open queue sorted by priority walked the new
    (is_open, opened_at) index and sorted 100,000 rows instead of reading 100 from
    ix_tickets_queue. A store never analysed is left alone: no index has statistics,
    so none is favoured. Returns the tables analysed.
    """
    with engine.connect() as conn:
        has_stats = conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        ).first()
        if has_stats is None:
            return []
        tables = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT DISTINCT m.tbl_name FROM sqlite_master m"
                    " WHERE m.type = 'index'"
                    " AND m.tbl_name IN (SELECT tbl FROM sqlite_stat1)"
                    " AND m.name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL)"
                    " ORDER BY m.tbl_name"
                )
            )
        ]
        if tables:
            # Exact, not sampled: a sample once put an index at 11 times the table's rows
            # and the planner scanned the table. A few seconds, once per such upgrade.
            conn.exec_driver_sql("PRAGMA analysis_limit=0")
            for table in tables:
                conn.exec_driver_sql(f'ANALYZE "{table}"')
            conn.commit()
    return tables
