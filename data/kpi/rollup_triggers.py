"""The database triggers that mark `kpi_dirty`: every write that moves a KPI's rollup, by
any path (the desk, the seed, an import, intake, raw SQL), writes the UTC date it touched.

A trigger marks each instant a rollup files the row under, before and after the write:
a clock's stop and breach, a ticket's resolution, a survey's submission, a time entry's
logging. A ticket that changes what it is filed under (type, priority, team, service)
marks the instants of its clocks, surveys and time entries as well; a reassignment (an
audit event) marks its ticket's resolution. An instant after what the rollups cover
(most writes: they happen now) leaves its day clean; one before makes the day dirty.

Migration 0028 creates them; the seed drops them for a bulk load and recreates them
(data/seed/__init__.py), then leaves every day unbuilt.
"""

from __future__ import annotations

SQLITE_TRIGGER_NAMES = (
    "kpi_mark_ticket_ins",
    "kpi_mark_ticket_upd",
    "kpi_mark_ticket_keys",
    "kpi_mark_ticket_del",
    "kpi_mark_clock_ins",
    "kpi_mark_clock_upd",
    "kpi_mark_clock_del",
    "kpi_mark_survey_ins",
    "kpi_mark_survey_upd",
    "kpi_mark_survey_del",
    "kpi_mark_time_ins",
    "kpi_mark_time_upd",
    "kpi_mark_time_del",
    "kpi_mark_reassignment",
)

# What a ticket is filed under in the rollups, and what else they read of it.
_TICKET_KEYS = ("type", "priority", "team_id", "service_id")
_TICKET_OTHERS = (
    "resolved_at",
    "opened_at",
    "promised_at",
    "assignee_id",
    "reopen_count",
    "escalation_level",
)
_CLOCK_COLUMNS = ("ticket_id", "kind", "state", "stopped_at", "breached_at", "spent_seconds")

_REASSIGNMENT = (
    "NEW.record_type = 'ticket' AND NEW.field IN ('team', 'assignee') AND NEW.old_value IS NOT NULL"
)


def _sqlite_mark(*instants: str) -> str:
    """One insert of the distinct dates of `instants` (SQL expressions), NULLs left out."""
    union = " UNION ".join(f"SELECT {x} AS d" for x in instants)
    return f"INSERT INTO kpi_dirty (at) SELECT d FROM ({union}) WHERE d IS NOT NULL;"


def _sqlite_dependents(ticket: str) -> str:
    return (
        "INSERT INTO kpi_dirty (at) SELECT DISTINCT d FROM ("
        f"SELECT stopped_at AS d FROM sla_clocks WHERE ticket_id = {ticket} "
        f"UNION SELECT breached_at FROM sla_clocks WHERE ticket_id = {ticket} "
        f"UNION SELECT submitted_at FROM surveys WHERE ticket_id = {ticket} "
        f"UNION SELECT logged_at FROM time_entries WHERE ticket_id = {ticket}"
        ") WHERE d IS NOT NULL;"
    )


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in columns)


def sqlite_statements() -> list[str]:
    keys = _changed(_TICKET_KEYS, "IS NOT")
    return [
        "CREATE TRIGGER kpi_mark_ticket_ins AFTER INSERT ON tickets "
        "WHEN NEW.resolved_at IS NOT NULL BEGIN " + _sqlite_mark("NEW.resolved_at") + " END",
        "CREATE TRIGGER kpi_mark_ticket_upd AFTER UPDATE ON tickets "
        f"WHEN {keys} OR {_changed(_TICKET_OTHERS, 'IS NOT')} BEGIN "
        + _sqlite_mark("OLD.resolved_at", "NEW.resolved_at")
        + " END",
        "CREATE TRIGGER kpi_mark_ticket_keys AFTER UPDATE ON tickets "
        f"WHEN {keys} BEGIN " + _sqlite_dependents("NEW.id") + " END",
        "CREATE TRIGGER kpi_mark_ticket_del AFTER DELETE ON tickets "
        "WHEN OLD.resolved_at IS NOT NULL BEGIN " + _sqlite_mark("OLD.resolved_at") + " END",
        "CREATE TRIGGER kpi_mark_clock_ins AFTER INSERT ON sla_clocks BEGIN "
        + _sqlite_mark("NEW.stopped_at", "NEW.breached_at")
        + " END",
        "CREATE TRIGGER kpi_mark_clock_upd AFTER UPDATE ON sla_clocks "
        f"WHEN {_changed(_CLOCK_COLUMNS, 'IS NOT')} BEGIN "
        + _sqlite_mark("OLD.stopped_at", "OLD.breached_at", "NEW.stopped_at", "NEW.breached_at")
        + " END",
        "CREATE TRIGGER kpi_mark_clock_del AFTER DELETE ON sla_clocks BEGIN "
        + _sqlite_mark("OLD.stopped_at", "OLD.breached_at")
        + " END",
        "CREATE TRIGGER kpi_mark_survey_ins AFTER INSERT ON surveys BEGIN "
        + _sqlite_mark("NEW.submitted_at")
        + " END",
        "CREATE TRIGGER kpi_mark_survey_upd AFTER UPDATE ON surveys BEGIN "
        + _sqlite_mark("OLD.submitted_at", "NEW.submitted_at")
        + " END",
        "CREATE TRIGGER kpi_mark_survey_del AFTER DELETE ON surveys BEGIN "
        + _sqlite_mark("OLD.submitted_at")
        + " END",
        "CREATE TRIGGER kpi_mark_time_ins AFTER INSERT ON time_entries BEGIN "
        + _sqlite_mark("NEW.logged_at")
        + " END",
        "CREATE TRIGGER kpi_mark_time_upd AFTER UPDATE ON time_entries BEGIN "
        + _sqlite_mark("OLD.logged_at", "NEW.logged_at")
        + " END",
        "CREATE TRIGGER kpi_mark_time_del AFTER DELETE ON time_entries BEGIN "
        + _sqlite_mark("OLD.logged_at")
        + " END",
        "CREATE TRIGGER kpi_mark_reassignment AFTER INSERT ON audit_events "
        f"WHEN {_REASSIGNMENT} BEGIN "
        "INSERT INTO kpi_dirty (at) SELECT resolved_at FROM tickets "
        "WHERE id = NEW.record_id AND resolved_at IS NOT NULL; END",
    ]


def _pg_mark(*instants: str) -> str:
    values = ", ".join(f"({x})" for x in instants)
    return (
        f"INSERT INTO kpi_dirty (at) SELECT DISTINCT d FROM (VALUES {values}) AS v(d) "
        "WHERE d IS NOT NULL;"
    )


def _pg_function(name: str, body: str) -> str:
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
        "RETURN NULL; END $$"
    )


def postgresql_statements() -> list[str]:
    keys = _changed(_TICKET_KEYS, "IS DISTINCT FROM")
    others = _changed(_TICKET_OTHERS, "IS DISTINCT FROM")
    dependents = (
        "INSERT INTO kpi_dirty (at) SELECT DISTINCT d FROM ("
        "SELECT stopped_at AS d FROM sla_clocks WHERE ticket_id = NEW.id "
        "UNION SELECT breached_at FROM sla_clocks WHERE ticket_id = NEW.id "
        "UNION SELECT submitted_at FROM surveys WHERE ticket_id = NEW.id "
        "UNION SELECT logged_at FROM time_entries WHERE ticket_id = NEW.id"
        ") AS x WHERE d IS NOT NULL;"
    )
    ticket = (
        "IF TG_OP = 'INSERT' THEN "
        + _pg_mark("NEW.resolved_at")
        + " ELSIF TG_OP = 'DELETE' THEN "
        + _pg_mark("OLD.resolved_at")
        + f" ELSIF {keys} OR {others} THEN "
        + _pg_mark("OLD.resolved_at", "NEW.resolved_at")
        + f" IF {keys} THEN {dependents} END IF;"
        + " END IF;"
    )
    clock = (
        "IF TG_OP = 'INSERT' THEN "
        + _pg_mark("NEW.stopped_at", "NEW.breached_at")
        + " ELSIF TG_OP = 'DELETE' THEN "
        + _pg_mark("OLD.stopped_at", "OLD.breached_at")
        + f" ELSIF {_changed(_CLOCK_COLUMNS, 'IS DISTINCT FROM')} THEN "
        + _pg_mark("OLD.stopped_at", "OLD.breached_at", "NEW.stopped_at", "NEW.breached_at")
        + " END IF;"
    )

    def one_instant(column: str) -> str:
        return (
            "IF TG_OP = 'INSERT' THEN "
            + _pg_mark(f"NEW.{column}")
            + " ELSIF TG_OP = 'DELETE' THEN "
            + _pg_mark(f"OLD.{column}")
            + " ELSE "
            + _pg_mark(f"OLD.{column}", f"NEW.{column}")
            + " END IF;"
        )

    reassignment = (
        f"IF {_REASSIGNMENT} THEN INSERT INTO kpi_dirty (at) SELECT resolved_at "
        "FROM tickets WHERE id = NEW.record_id AND resolved_at IS NOT NULL; END IF;"
    )
    out = []
    for table, function, body, events in (
        ("tickets", "kpi_mark_ticket", ticket, "INSERT OR UPDATE OR DELETE"),
        ("sla_clocks", "kpi_mark_clock", clock, "INSERT OR UPDATE OR DELETE"),
        ("surveys", "kpi_mark_survey", one_instant("submitted_at"), "INSERT OR UPDATE OR DELETE"),
        ("time_entries", "kpi_mark_time", one_instant("logged_at"), "INSERT OR UPDATE OR DELETE"),
        ("audit_events", "kpi_mark_reassignment", reassignment, "INSERT"),
    ):
        out.append(_pg_function(function, body))
        out.append(
            f"CREATE TRIGGER {function} AFTER {events} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
    return out


PG_TRIGGERS = (
    ("tickets", "kpi_mark_ticket"),
    ("sla_clocks", "kpi_mark_clock"),
    ("surveys", "kpi_mark_survey"),
    ("time_entries", "kpi_mark_time"),
    ("audit_events", "kpi_mark_reassignment"),
)


def create_statements(dialect: str) -> list[str]:
    return sqlite_statements() if dialect == "sqlite" else postgresql_statements()


def drop_statements(dialect: str) -> list[str]:
    """Drop the triggers (and PostgreSQL's functions); what exists is dropped, nothing fails."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGER_NAMES]
    out = []
    for table, function in PG_TRIGGERS:
        out.append(f"DROP TRIGGER IF EXISTS {function} ON {table}")
        out.append(f"DROP FUNCTION IF EXISTS {function}()")
    return out
