"""The declarative base, the instant type and the SQL fragments the models share (SPEC §2).

Times are stored as naive UTC on both databases and come back as aware UTC
(`UtcDateTime`), so nothing above this module ever compares naive and aware
instants. Status and kind columns are plain strings; the state machines in
`itsm_tui.domain` are the one definition of what values are allowed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    MetaData,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the database (same on SQLite and PostgreSQL)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; times must carry a zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from a bulk-loaded row
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


# A ticket's SLA sort key when no clock of it counts: after every clock that does. Stored,
# not NULL, so that NULL ordering never differs between SQLite and PostgreSQL. The text is
# how SQLAlchemy writes the instant on SQLite (compared as text there): the server default.
SLA_DUE_NEVER = datetime(9999, 12, 31, tzinfo=UTC)
SLA_DUE_NEVER_TEXT = "9999-12-31 00:00:00.000000"

# An audit event that replaced a ticket's holder (a team or an agent over a set one): the
# KPIs' reassignments. Literal SQL, so that both databases match it to the partial index
# (SQLite cannot match bound parameters against an index's WHERE).
REASSIGNMENT_EVENT = (
    "record_type = 'ticket' AND field IN ('team', 'assignee') AND old_value IS NOT NULL"
)

# An incident no problem holds yet. Literal SQL, so that both databases match it to the
# partial index of the recurring scan.
UNLINKED_INCIDENT = "type = 'incident' AND problem_id IS NULL"

# Named constraints so Alembic migrations are stable and PostgreSQL/SQLite agree.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}
