"""The schema: migrations build it on both databases and the store is set up as promised."""

from sqlalchemy import inspect, text

from itsm_tui.data.migrate import current_revision, head_revision
from itsm_tui.data.models import Base
from itsm_tui.data.search import include_object
from itsm_tui.data.store import Store, open_store


def test_migration_creates_every_table_of_the_model(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert current_revision(store.engine) == head_revision()


def test_queue_and_sweep_indexes_exist(store: Store) -> None:
    insp = inspect(store.engine)
    ticket_indexes = {ix["name"] for ix in insp.get_indexes("tickets")}
    assert {
        "ix_tickets_queue",
        "ix_tickets_team_queue",
        "ix_tickets_assignee_queue",
    } <= ticket_indexes
    assert {"ix_tickets_resolved_at", "ix_tickets_closed_at"} <= ticket_indexes
    clock_indexes = {ix["name"] for ix in insp.get_indexes("sla_clocks")}
    assert "ix_sla_clocks_due" in clock_indexes


def test_cyclic_foreign_keys_exist_on_both_databases(store: Store) -> None:
    fks = inspect(store.engine).get_foreign_keys("tickets")
    assert {"changes", "knowledge_articles"} <= {fk["referred_table"] for fk in fks}


def test_upgrade_is_idempotent(store: Store) -> None:
    store.upgrade()
    store.upgrade()
    assert current_revision(store.engine) == head_revision()


def test_sqlite_store_uses_wal_foreign_keys_and_busy_timeout(sqlite_url_fresh: str) -> None:
    s = open_store(sqlite_url_fresh)
    with s.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    s.dispose()


def test_migrations_match_the_models_exactly(store: Store) -> None:
    """Nothing for autogenerate to find: the models and the migrations agree on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as conn:
        # As env.py does: the full-text search objects are not in the models.
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        assert compare_metadata(context, Base.metadata) == []
