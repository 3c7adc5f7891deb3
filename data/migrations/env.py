"""Alembic environment: runs on the engine the store hands over (no alembic.ini)."""

from alembic import context

from itsm_tui.data.models import Base
from itsm_tui.data.search import include_object

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            # The search objects of revision 0002 are not in the models (see data/search.py).
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
