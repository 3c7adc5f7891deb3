"""`itsm seed`: a deterministic, realistic demo history of any size, written in bulk."""

from __future__ import annotations

import bisect
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.schema import CreateIndex

from itsm_tui.data import search
from itsm_tui.data.models import SLA_DUE_NEVER_TEXT, Base
from itsm_tui.data.store import Store
from itsm_tui.domain import roles
from itsm_tui.domain.priority import DEFAULT_MATRIX, validate_matrix
from itsm_tui.domain.workflow import (
    CHANGE_OUTCOMES,
    CHANGE_TYPES,
    CHANGE_WORKFLOW,
    NUMBER_PREFIX,
    TICKET_TYPES,
    WORKFLOWS,
    format_number,
)
from itsm_tui.i18n import _

ProgressCallback = Callable[[int, int], None]

# Tickets generated and written per transaction: big enough that executemany/COPY
# dominate, small enough that a chunk's rows (≈10 per ticket) stay a few hundred MB.
CHUNK = 25_000

# Tables that receive millions of rows: their secondary indexes are dropped during a
# load into an empty table and rebuilt once at the end (far cheaper than per row).
REBUILD_INDEXES_FROM = 20_000
# Tables the seeder writes rows into with ids it assigns itself.
HISTORY_TABLES = (
    "tickets",
    "comments",
    "audit_events",
    "sla_clocks",
    "surveys",
    "time_entries",
    "complaints",
    "outages",
    "changes",
    "change_approvals",
    "knowledge_articles",
    "budgets",
)
BIG_TABLES = ("tickets", "comments", "audit_events", "sla_clocks", "surveys", "time_entries")

DAY = 86_400
HOUR = 3_600
MINUTE = 60

# Fallback SLA targets (minutes) per priority when no policy matches a ticket type.
DEFAULT_RESPONSE = {1: 15, 2: 30, 3: 120, 4: 480}
DEFAULT_RESOLUTION = {1: 120, 2: 480, 3: 1440, 4: 4320}

# Impact × urgency pairs with how often a desk sees each (most tickets are low/low).
IMPACT_URGENCY_WEIGHTS = {
    (1, 1): 4,
    (1, 2): 6,
    (2, 1): 6,
    (1, 3): 6,
    (2, 2): 25,
    (3, 1): 8,
    (2, 3): 15,
    (3, 2): 13,
    (3, 3): 17,
}

_GIVEN_NAMES = """
Wei Fang Min Jing Lei Yan Jun Hui Tao Ling Qiang Xia Bo Na Hao Li Ying Chen Yu Xin
Anna Ben Clara David Emma Felix Grace Henry Iris Jack Kate Leo Maria Noah Olga Paul
Rosa Sam Tina Omar
"""
_FAMILY_NAMES = """
Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao
Smith Jones Brown Garcia Muller Rossi Silva Novak Berg Khan
"""
GIVEN = tuple(_GIVEN_NAMES.split())
FAMILY = tuple(_FAMILY_NAMES.split())
DEPARTMENTS = (
    "Finance",
    "Sales",
    "Marketing",
    "Human Resources",
    "Logistics",
    "Manufacturing",
    "Legal",
    "Procurement",
    "Research",
    "Customer Care",
    "Executive Office",
    "Quality",
)

INCIDENT_CATEGORIES = {
    "hardware": ("laptop will not boot", "monitor flickering", "docking station not detected"),
    "software": ("application crashes on start", "update failed", "licence expired error"),
    "network": ("VPN disconnects every few minutes", "Wi-Fi drops on floor 3", "slow network"),
    "access": ("account locked out", "cannot log in", "missing permissions"),
    "email": ("mail stuck in outbox", "calendar not syncing", "mailbox full"),
    "printing": ("printer offline", "print jobs stuck in queue", "scanner to e-mail fails"),
    "database": ("report query times out", "deadlock errors in logs", "replication lag"),
    "performance": ("pages load slowly", "timeouts under load", "high CPU on server"),
}
SYMPTOM_DETAIL = (
    "The user reports the problem started this morning after a restart.",
    "Several colleagues in the same office see the same behaviour.",
    "It happens intermittently, roughly every hour.",
    "An error code is shown on screen; screenshot attached by the requester.",
    "Work is blocked until this is fixed; a deadline is due today.",
    "Clearing the cache and signing in again did not help.",
    "It worked yesterday; no changes were made on the user's side.",
    "The requester is travelling and connects from a hotel network.",
)
WORK_NOTES = (
    "Checked the logs; the error matches a known pattern.",
    "Remote session with the user; reproduced the fault.",
    "Escalated internally for a second opinion.",
    "Restarted the affected service; monitoring.",
    "Waiting for the vendor's answer on the support case.",
    "Applied the documented workaround from the knowledge base.",
    "Collected diagnostics and attached them to the ticket.",
)
REPLIES = (
    "Thank you for reporting this; we are looking into it now.",
    "Could you confirm whether the problem still occurs?",
    "We have applied a fix; please check and let us know.",
    "Your request has been completed.",
    "We need a little more information: when did this start?",
    "The issue is resolved; this ticket will close automatically in a few days.",
)
RESOLUTION_NOTES = {
    "fixed": "Root cause fixed and verified with the requester.",
    "workaround": "Workaround applied; a problem record tracks the permanent fix.",
    "fulfilled": "Request fulfilled as specified in the catalogue item.",
    "duplicate": "Duplicate of an existing ticket; closed in favour of it.",
    "not_reproducible": "Could not reproduce after several attempts.",
    "user_error": "Explained the correct procedure to the requester.",
    "no_fault_found": "No fault found in the service; monitoring shows normal behaviour.",
}
ROOT_CAUSES = (
    "A configuration change left a connection pool too small for peak load.",
    "A certificate expired on an internal load balancer.",
    "A storage volume filled up because log rotation was disabled.",
    "A driver update conflicts with the docking station firmware.",
    "A scheduled job locks the table during business hours.",
    "DNS records were not updated after a server migration.",
)
WORKAROUNDS = (
    "Restart the affected service; it recovers for several days.",
    "Use the web client until the desktop client is patched.",
    "Connect through the backup VPN gateway.",
    "Clear the local cache and sign in again.",
)
SURVEY_COMMENTS = {
    1: ("Took far too long.", "Nobody kept me informed.", ""),
    2: ("The fix did not last.", "Slow response.", ""),
    3: ("OK in the end.", "", ""),
    4: ("Good service, thanks.", "", "", ""),
    5: ("Excellent, very quick!", "Great help, thank you.", "", "", ""),
}
COMPLAINTS = (
    "Ticket was closed without my confirmation.",
    "Waited too long for a first answer.",
    "The same fault keeps coming back.",
    "The agent was not able to explain what happened.",
    "Outage during month-end closing affected our team.",
)
CHANGE_TITLES = (
    "Patch database servers",
    "Upgrade load balancer firmware",
    "Rotate TLS certificates",
    "Increase connection pool size",
    "Migrate file shares to new storage",
    "Roll out desktop client update",
    "Add disk capacity to the log cluster",
    "Replace core switch in data centre",
    "Apply OS security updates",
    "Enable log rotation on application servers",
)
KB_TAGS = ("vpn", "email", "printing", "access", "database", "network", "laptop", "performance")


@dataclass
class SeedSummary:
    """What a seed wrote: rows per table, tickets per type and status, and how long it took."""

    tickets: int = 0
    days: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    by_type_status: dict[str, dict[str, int]] = field(default_factory=dict)
    by_priority: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class _Policy:
    id: int
    rank: int
    types: frozenset[str] | None
    priorities: frozenset[int] | None
    services: frozenset[str] | None
    items: frozenset[str] | None
    response: int | None
    resolution: int | None
    warn: tuple[int, ...]
    pauses: frozenset[str]
    # Percents of the target at which this policy's clocks fire something: the warnings,
    # the breach and the escalation levels (rules taken as matching every clock).
    events: tuple[int, ...] = (50, 75, 100)
    # Percents of the escalation levels, level 1 first.
    levels: tuple[int, ...] = ()


def _as_set(values: Any) -> frozenset[str] | None:
    if not values:
        return None
    return frozenset(str(v).strip().lower() for v in values)


def _as_priorities(values: Any) -> frozenset[int] | None:
    if not values:
        return None
    out = set()
    for v in values:
        raw = str(v).strip().upper().removeprefix("P")
        if raw.isdigit():
            out.add(int(raw))
    return frozenset(out) or None


# ---------------------------------------------------------------------------
# Writing rows: executemany on SQLite, COPY on PostgreSQL


class _Writer:
    """Bulk inserts through the raw DBAPI connection, one transaction per chunk."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sqlite = store.is_sqlite
        self.conn = store.engine.raw_connection()
        self.cur = self.conn.cursor()
        self.counts: Counter[str] = Counter()
        self._replica = False

    def begin(self) -> None:
        if self.sqlite:
            self.cur.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.commit() if not self.sqlite else self.cur.execute("COMMIT")

    def vacuum_analyze(self) -> None:
        """PostgreSQL: VACUUM as well as ANALYZE once the load is in. Rows written by COPY
        are not yet marked all-visible, so until autovacuum comes round every count (and
        keyset read) visits the table instead of answering from an index: the queue's
        counts took ~250 ms at a million tickets. VACUUM cannot run in a transaction."""
        driver = self.conn.driver_connection
        driver.autocommit = True
        try:
            self.cur.execute("VACUUM (ANALYZE)")
        finally:
            driver.autocommit = False

    def rollback(self) -> None:
        if self.sqlite:
            if self.conn.in_transaction:
                self.cur.execute("ROLLBACK")
        else:
            self.conn.rollback()

    def tune_for_load(self) -> None:
        if self.sqlite:
            # Rows reference each other by ids assigned here, so per-row FK lookups only
            # cost time; a crash mid-seed leaves a demo store to throw away anyway.
            self.cur.execute("PRAGMA foreign_keys=OFF")
            # Without WAL every page is written once instead of twice (WAL, then checkpoint).
            # Only possible when no other connection has the file open; else WAL it stays.
            self.cur.execute("PRAGMA journal_mode=DELETE")
            self.journal = str(self.scalar("PRAGMA journal_mode=MEMORY"))
            self.cur.execute("PRAGMA synchronous=OFF")
            self.cur.execute("PRAGMA threads=2")
            self.cur.execute("PRAGMA cache_size=-262144")
            self.cur.execute("PRAGMA temp_store=MEMORY")
        else:
            # Skipping the FK triggers halves a COPY; it needs superuser, so it is optional.
            try:
                self.cur.execute("SET session_replication_role = replica")
                self.conn.commit()
                self._replica = True
            except Exception:
                self.conn.rollback()

    def restore(self) -> None:
        try:
            if self.sqlite:
                self.cur.execute("PRAGMA journal_mode=WAL")
                self.cur.execute("PRAGMA foreign_keys=ON")
                self.cur.execute("PRAGMA synchronous=NORMAL")
                self.cur.execute("PRAGMA cache_size=-2000")
            elif self._replica:
                self.cur.execute("SET session_replication_role = origin")
                self.conn.commit()
        finally:
            self.cur.close()
            self.conn.close()

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cols = ", ".join(columns)
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            self.cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
        else:
            with self.cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        self.counts[table] += len(rows)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        self.cur.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        self.cur.executemany(sql, rows)

    def scalar(self, sql: str) -> Any:
        self.cur.execute(sql)
        row = self.cur.fetchone()
        return row[0] if row else None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        self.cur.execute(sql)
        return list(self.cur.fetchall())


TICKET_COLUMNS = (
    "id",
    "number",
    "type",
    "title",
    "description",
    "status",
    "is_open",
    "impact",
    "urgency",
    "priority",
    "priority_overridden",
    "category",
    "service_id",
    "requester_id",
    "team_id",
    "assignee_id",
    "created_by_id",
    "catalogue_item_id",
    "form_data",
    "approved_by_id",
    "approved_at",
    "parent_id",
    "problem_id",
    "change_id",
    "kb_article_id",
    "is_major",
    "root_cause",
    "workaround",
    "known_error",
    "opened_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "resolution_code",
    "resolution_notes",
    "reopen_count",
    "escalation_level",
    "version",
    "sla_due_at",
)
COMMENT_COLUMNS = (
    "id",
    "ticket_id",
    "change_id",
    "author_id",
    "author_name",
    "kind",
    "body",
    "created_at",
)
AUDIT_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "record_type",
    "record_id",
    "record_number",
    "action",
    "field",
    "old_value",
    "new_value",
    "record_version",
    "reason",
)
CLOCK_COLUMNS = (
    "id",
    "ticket_id",
    "kind",
    "policy_id",
    "target_minutes",
    "started_at",
    "due_at",
    "state",
    "running_since",
    "paused_at",
    "paused_seconds",
    "spent_seconds",
    "stopped_at",
    "breached_at",
    "fired_percent",
    "warnings_fired",
    "next_event_at",
    "escalation_level",
)
SURVEY_COLUMNS = ("id", "ticket_id", "rating", "comment", "submitted_at")
TIME_COLUMNS = ("id", "ticket_id", "agent_id", "minutes", "cost", "logged_at", "note")
COMPLAINT_COLUMNS = ("id", "ticket_id", "requester_id", "received_at", "summary")
OUTAGE_COLUMNS = (
    "id",
    "service_id",
    "ticket_id",
    "started_at",
    "ended_at",
    "notes",
    "recorded_by_id",
)


# ---------------------------------------------------------------------------
# The desk as configured


@dataclass
class _Desk:
    teams: list[tuple[int, str, int]]  # id, name, tier
    services: list[tuple[int, str, int, float, int | None]]  # id, name, crit, target, owner
    items: list[tuple[int, str, str, str, int | None, int | None, bool, int]]
    policies: list[_Policy]
    matrix: list[list[int]]
    tz: str


def _read_desk(w: _Writer) -> _Desk:
    teams = [
        (int(i), str(n), int(t or 1))
        for i, n, t in w.rows("SELECT id, name, tier FROM teams ORDER BY id")
    ]
    if not teams:
        raise ValueError(
            _("the desk has no teams yet; run `itsm init` (or `itsm config apply`) before seeding")
        )
    services = [
        (int(i), str(n), int(c or 3), float(a or 99.9), o)
        for i, n, c, a, o in w.rows(
            "SELECT id, name, criticality, availability_target, owner_team_id "
            "FROM services ORDER BY id"
        )
    ]
    items = [
        (int(i), str(code), str(name), str(cat or ""), tm, sv, bool(ap), int(fm or 480))
        for i, code, name, cat, tm, sv, ap, fm in w.rows(
            "SELECT id, code, name, category, team_id, service_id, requires_approval, "
            "fulfilment_minutes FROM catalogue_items WHERE active = "
            + ("1" if w.sqlite else "true")
            + " ORDER BY id"
        )
    ]
    # One percent per escalation level (the lowest when several rules share a level).
    level_percent: dict[int, int] = {}
    for level, percent in w.rows("SELECT level, at_percent FROM escalation_rules"):
        level_percent[int(level)] = min(level_percent.get(int(level), 999), max(100, int(percent)))
    rule_percents = set(level_percent.values())
    policies = []
    for pid, rank, match, resp, res, warn, pauses in w.rows(
        "SELECT id, rank, match, response_minutes, resolution_minutes, warn_at_percent, "
        "pause_statuses FROM sla_policies ORDER BY rank, id"
    ):
        match = json.loads(match) if isinstance(match, str) else (match or {})
        warn = json.loads(warn) if isinstance(warn, str) else (warn or [])
        pauses = json.loads(pauses) if isinstance(pauses, str) else (pauses or [])
        policies.append(
            _Policy(
                id=int(pid),
                rank=int(rank),
                types=_as_set(match.get("types")),
                priorities=_as_priorities(match.get("priorities")),
                services=_as_set(match.get("services")),
                items=_as_set(match.get("catalogue_items")),
                response=resp,
                resolution=res,
                warn=tuple(sorted(int(p) for p in warn)),
                pauses=frozenset(pauses),
                events=tuple(
                    sorted({int(p) for p in warn if 0 < int(p) < 100} | {100} | rule_percents)
                ),
                levels=tuple(sorted(rule_percents)),
            )
        )
    matrix_raw = w.rows("SELECT value FROM desk_settings WHERE key = 'priority_matrix'")
    matrix: Any = [list(r) for r in DEFAULT_MATRIX]
    if matrix_raw:
        value = matrix_raw[0][0]
        value = json.loads(value) if isinstance(value, str) else value
        if validate_matrix(value) is None:
            matrix = value
    tz_rows = w.rows("SELECT timezone FROM calendars ORDER BY id")
    return _Desk(teams, services, items, policies, matrix, str(tz_rows[0][0]) if tz_rows else "UTC")


def _match_policy(
    desk: _Desk, ticket_type: str, priority: int, service: str | None, item: str | None
) -> _Policy | None:
    for p in desk.policies:  # already in rank order
        if p.types is not None and ticket_type not in p.types:
            continue
        if p.priorities is not None and priority not in p.priorities:
            continue
        if p.services is not None and (service is None or service.lower() not in p.services):
            continue
        if p.items is not None and (item is None or item.lower() not in p.items):
            continue
        return p
    return None


# ---------------------------------------------------------------------------
# Time as integer seconds from the first midnight of the span; text as SQLAlchemy stores it


class _Clock:
    def __init__(self, now: datetime, days: int, horizon_days: int = 400) -> None:
        naive = now.astimezone(UTC).replace(tzinfo=None)
        first = (naive - timedelta(days=days)).date()
        self.base = datetime(first.year, first.month, first.day)
        self.now = int((naive - self.base).total_seconds())
        self.start = self.now - days * DAY
        n_days = self.now // DAY + horizon_days + 2
        # Converting an int to text is two lookups and a concatenation: cheap per row.
        self.day_text = [
            (self.base + timedelta(days=d)).strftime("%Y-%m-%d ") for d in range(n_days)
        ]
        self.sec_text = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(DAY)
        ]

    def text(self, t: int) -> str:
        return self.day_text[t // DAY] + self.sec_text[t % DAY]

    def date_of(self, t: int) -> date:
        return (self.base + timedelta(seconds=t)).date()


# ---------------------------------------------------------------------------
# Agents and requesters


def _roster(desk: _Desk, rng: random.Random) -> list[dict[str, Any]]:
    """The demo agents: 4–8 per team with a supervisor, a desk manager, CAB, change manager."""
    people = [f"{g}.{f}" for f in FAMILY for g in GIVEN]
    rng.shuffle(people)
    pool = iter(people)
    tier_rate = {1: 160.0, 2: 240.0, 3: 320.0}
    agents: list[dict[str, Any]] = []
    for team_id, _name, tier in desk.teams:
        size = 4 + rng.randrange(5)
        for k in range(size):
            person = next(pool)
            supervisor = k == 0
            rate = tier_rate.get(tier, 200.0) * (1.3 if supervisor else rng.uniform(0.85, 1.15))
            agents.append(
                {
                    "username": person.lower(),
                    "display_name": person.replace(".", " "),
                    "roles": roles.SUPERVISOR if supervisor else roles.AGENT,
                    "team_id": team_id,
                    "hourly_cost": round(rate, 2),
                    "supervisor_of": team_id if supervisor else None,
                }
            )
    # Senior agents of the higher tiers sit on the CAB.
    seniors = [a for a in agents if a["roles"] == roles.AGENT]
    seniors.sort(key=lambda a: -dict((t[0], t[2]) for t in desk.teams)[a["team_id"]])
    for a in seniors[:3]:
        a["roles"] = f"{roles.AGENT} {roles.CAB}"
    first_team = desk.teams[0][0]
    agents.append(
        {
            "username": "desk.manager",
            "display_name": "Desk Manager",
            "roles": f"{roles.SUPERVISOR} {roles.ADMIN}",
            "team_id": first_team,
            "hourly_cost": 380.0,
            "supervisor_of": None,
        }
    )
    agents.append(
        {
            "username": "change.manager",
            "display_name": "Change Manager",
            "roles": f"{roles.CHANGE_MANAGER} {roles.CAB}",
            "team_id": None,
            "hourly_cost": 360.0,
            "supervisor_of": None,
        }
    )
    return agents


def _ensure_agents(w: _Writer, desk: _Desk, rng: random.Random) -> None:
    roster = _roster(desk, rng)
    names = [a["username"] for a in roster]
    existing = {str(r[0]) for r in w.rows("SELECT username FROM agents")}
    if existing & set(names):
        return
    next_id = int(w.scalar("SELECT COALESCE(MAX(id), 0) FROM agents")) + 1
    rows = []
    supervisors = []
    for offset, a in enumerate(roster):
        aid = next_id + offset
        rows.append(
            (
                aid,
                a["username"],
                a["display_name"],
                f"{a['username']}@desk.example.com",
                a["roles"],
                a["team_id"],
                a["hourly_cost"],
                None,
                1,
            )
        )
        if a["supervisor_of"] is not None:
            supervisors.append((aid, a["supervisor_of"]))
    w.insert(
        "agents",
        (
            "id",
            "username",
            "display_name",
            "email",
            "roles",
            "team_id",
            "hourly_cost",
            "timezone",
            "active",
        ),
        rows,
    )
    w.executemany("UPDATE teams SET supervisor_id = ? WHERE id = ?", supervisors)


def _ensure_requesters(w: _Writer, count: int) -> list[int]:
    wanted = []
    for i in range(count):
        g = GIVEN[i % len(GIVEN)]
        f = FAMILY[(i // len(GIVEN)) % len(FAMILY)]
        wanted.append(
            (
                f"{g}.{f}.{i}@staff.example.com".lower(),
                f"{g} {f}",
                DEPARTMENTS[i % len(DEPARTMENTS)],
            )
        )
    known = {
        str(e): int(i)
        for i, e in w.rows(
            "SELECT id, email FROM requesters WHERE email LIKE '%@staff.example.com'"
        )
    }
    next_id = int(w.scalar("SELECT COALESCE(MAX(id), 0) FROM requesters")) + 1
    ids = []
    rows = []
    for email, name, dept in wanted:
        if email in known:
            ids.append(known[email])
            continue
        rows.append((next_id, email, name, dept))
        ids.append(next_id)
        next_id += 1
    w.insert("requesters", ("id", "email", "name", "department"), rows)
    return ids


# ---------------------------------------------------------------------------
# Indexes around a large load


def _droppable_indexes(w: _Writer, adding: int) -> list[Any]:
    """Secondary indexes of the big tables that this load will at least double.

    Rebuilding such an index once costs less than maintaining it row by row. A store
    that `itsm init` just made already holds a few audit events, hence "double", not "empty".
    """
    out = []
    for name in BIG_TABLES:
        if int(w.scalar(f"SELECT COUNT(*) FROM {name}")) >= adding:
            continue
        # Asked through the loading connection: a new SQLite connection would switch the
        # file back to WAL in its connect hook.
        if w.sqlite:
            sql = f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{name}'"
        else:
            sql = f"SELECT indexname FROM pg_indexes WHERE tablename = '{name}'"
        present = {str(r[0]) for r in w.rows(sql)}
        for index in sorted(Base.metadata.tables[name].indexes, key=lambda ix: str(ix.name)):
            if index.name in present and not index.unique:
                out.append(index)
    return out


@dataclass
class _SearchPause:
    """The full-text index upkeep taken away for a big load, and how to restore it."""

    drop: list[str]
    restore: list[str]


def _pause_search(w: _Writer, adding: int) -> _SearchPause | None:
    """Stop maintaining the full-text index row by row while a load at least doubles tickets.

    SQLite: the triggers of migration 0002 would update two FTS5 indexes per row; one
    rebuild at the end is several times cheaper. PostgreSQL: the GIN indexes are dropped
    like the other secondary indexes (the generated tsvector is still computed by COPY;
    it cannot be switched off, and the 1M benchmark shows what it costs).
    Each object is restored from its own definition as the store holds it.
    """
    if int(w.scalar("SELECT COUNT(*) FROM tickets")) >= adding:
        return None
    if w.sqlite:
        names = ", ".join(f"'{name}'" for name in search.SQLITE_TRIGGERS)
        triggers = w.rows(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})"
        )
        if not triggers:
            return None  # a store without search (older than revision 0002)
        fts, trgm = search.FTS_TABLE, search.TRIGRAM_TABLE
        return _SearchPause(
            drop=[f"DROP TRIGGER {name}" for name, _sql in triggers],
            restore=[
                f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
                f"INSERT INTO {trgm} ({trgm}) VALUES ('delete-all')",
                f"INSERT INTO {trgm} (rowid, title) "
                f"SELECT id, title || '{search.TITLE_PAD}' FROM tickets",
                *(str(sql) for _name, sql in triggers),
            ],
        )
    names = ", ".join(f"'{name}'" for name in search.PG_INDEXES)
    indexes = w.rows(
        "SELECT indexname, indexdef FROM pg_indexes "
        f"WHERE tablename = 'tickets' AND indexname IN ({names})"
    )
    if not indexes:
        return None
    return _SearchPause(
        drop=[f"DROP INDEX {name}" for name, _def in indexes],
        restore=[str(definition) for _name, definition in indexes],
    )


# ---------------------------------------------------------------------------
# The generator


class _Seeder:
    def __init__(
        self,
        w: _Writer,
        desk: _Desk,
        clock: _Clock,
        rng: random.Random,
        tickets: int,
        days: int,
        backlog: float = 0.0,
    ) -> None:
        self.w = w
        self.backlog = backlog
        self.desk = desk
        self.clock = clock
        self.rng = rng
        self.n = tickets
        self.days = days
        self.summary_status: Counter[tuple[str, str]] = Counter()
        self.summary_priority: Counter[int] = Counter()
        self.incident_cost_by_month: Counter[tuple[int, int]] = Counter()

    # -- reference data ---------------------------------------------------

    def load_people(self, requester_ids: list[int]) -> None:
        rows = self.w.rows(
            "SELECT id, username, roles, team_id, hourly_cost FROM agents "
            "WHERE active = " + ("1" if self.w.sqlite else "true") + " ORDER BY id"
        )
        self.agent_name = {int(i): str(u) for i, u, _r, _t, _c in rows}
        self.agent_rate = {int(i): float(c or 0) / 60.0 for i, _u, _r, _t, c in rows}
        self.team_agents: dict[int, list[int]] = {t[0]: [] for t in self.desk.teams}
        for i, _u, _r, t, _c in rows:
            if t is not None and t in self.team_agents:
                self.team_agents[int(t)].append(int(i))
        self.cab = [int(i) for i, _u, r, _t, _c in rows if roles.CAB in str(r).split()]
        self.change_managers = [
            int(i) for i, _u, r, _t, _c in rows if roles.CHANGE_MANAGER in str(r).split()
        ] or [int(rows[0][0])]
        self.supervisor = {
            int(t): int(s) for t, s in self.w.rows("SELECT id, supervisor_id FROM teams") if s
        }
        self.all_agents = [int(r[0]) for r in rows]
        self.requesters = requester_ids

    def next_ids(self) -> dict[str, int]:
        return {
            t: int(self.w.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {t}")) + 1
            for t in HISTORY_TABLES
        }

    def sequences(self) -> dict[str, int]:
        values = {p: 0 for p in NUMBER_PREFIX.values()}
        for prefix, value in self.w.rows("SELECT prefix, last_value FROM number_sequences"):
            values[str(prefix)] = int(value)
        return values

    # -- arrivals ---------------------------------------------------------

    def arrivals(self) -> list[int]:
        """Opening times: office hours on weekdays in the desk's zone, a slowly rising trend."""
        clock, rng = self.clock, self.rng
        try:
            zone: Any = ZoneInfo(self.desk.tz)
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
        first_slot = clock.start // HOUR
        last_slot = (clock.now - 1) // HOUR
        # fmt: off
        hour_weight = (
            0.15, 0.1, 0.08, 0.08, 0.1, 0.15, 0.3, 0.7, 1.5, 2.6, 2.8, 2.5,
            1.6, 1.9, 2.6, 2.5, 2.2, 1.7, 1.0, 0.6, 0.4, 0.3, 0.25, 0.2,
        )
        # fmt: on
        day_weight = (1.05, 1.0, 1.0, 0.95, 0.85, 0.25, 0.18)
        slots = list(range(first_slot, last_slot + 1))
        span = max(1, len(slots))
        weights = []
        for k, slot in enumerate(slots):
            local = (
                (clock.base + timedelta(seconds=slot * HOUR)).replace(tzinfo=UTC).astimezone(zone)
            )
            weights.append(
                day_weight[local.weekday()] * hour_weight[local.hour] * self.trend(k / span)
            )
        picks = rng.choices(slots, weights=weights, k=self.n)
        rnd = rng.random
        lo, hi = clock.start, clock.now - 60
        out = [min(hi, max(lo, s * HOUR + int(rnd() * HOUR))) for s in picks]
        out.sort()
        return out

    @staticmethod
    def trend(fraction: float) -> float:
        return 1.0 + 0.2 * fraction

    # -- run --------------------------------------------------------------

    def run(self, progress: ProgressCallback | None) -> None:
        w, rng = self.w, self.rng
        self.ids = self.next_ids()
        self.seq = self.sequences()
        n = self.n
        self.opened = self.arrivals()
        self.types = rng.choices((0, 1, 2), weights=(70, 26, 4), k=n)
        self.plan_majors()
        self.plan_changes()
        self.plan_articles()
        self.prepare_tickets()

        w.begin()
        self.write_changes()
        self.write_articles()
        w.commit()

        done = 0
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            w.begin()
            self.write_tickets(lo, hi)
            w.commit()
            done = hi
            if progress is not None:
                progress(done, n)

        w.begin()
        self.write_links()
        self.write_outages()
        self.write_budgets()
        self.write_sequences()
        w.commit()

    # -- plans made before any ticket is written --------------------------

    def plan_majors(self) -> None:
        """Outages per service, each the window of one major incident (≈ the 99.9% target)."""
        rng, clock, n = self.rng, self.clock, self.n
        self.majors: dict[int, tuple[int, int, int]] = {}  # index -> service, start, end
        self.children: dict[int, int] = {}  # index -> major index
        if not self.desk.services or n == 0:
            return
        cutoff = clock.now - 2 * DAY
        eligible = [i for i in range(n) if self.types[i] == 0 and self.opened[i] < cutoff]
        if not eligible:
            return
        span_minutes = (clock.now - clock.start) / MINUTE
        per_service = max(1, round(self.days / 30))
        for service_id, _name, _crit, target, _owner in self.desk.services:
            allowed = span_minutes * (100.0 - target) / 100.0
            total = allowed * rng.uniform(0.6, 1.4)
            shares = [rng.random() + 0.2 for _ in range(per_service)]
            for share in shares:
                minutes = max(3.0, total * share / sum(shares))
                for _attempt in range(8):
                    index = eligible[rng.randrange(len(eligible))]
                    if index not in self.majors and index not in self.children:
                        break
                else:
                    continue
                start = max(0, self.opened[index] - rng.randrange(2 * MINUTE, 10 * MINUTE))
                end = start + int(minutes * MINUTE)
                self.majors[index] = (service_id, start, end)
        # Later incidents about the same outage become children of the major one.
        for index in sorted(self.majors):
            limit = self.opened[index] + 12 * HOUR
            wanted = 2 + rng.randrange(4)
            j = index + 1
            while wanted and j < n and self.opened[j] <= limit:
                if self.types[j] == 0 and j not in self.majors and j not in self.children:
                    self.children[j] = index
                    wanted -= 1
                j += 1

    def plan_changes(self) -> None:
        rng, clock = self.rng, self.clock
        count = max(40, min(400, self.n // 2500))
        statuses = CHANGE_WORKFLOW.statuses
        weights = {
            "draft": 3,
            "assessment": 4,
            "awaiting_approval": 6,
            "approved": 3,
            "scheduled": 10,
            "implementing": 2,
            "review": 5,
            "closed": 55,
            "rejected": 4,
            "cancelled": 4,
        }
        chosen = list(statuses) + rng.choices(
            statuses, weights=[weights.get(s, 1) for s in statuses], k=count - len(statuses)
        )
        problems = [i for i in range(self.n) if self.types[i] == 2]
        problem_opened = [self.opened[i] for i in problems]
        self.changes: list[dict[str, Any]] = []
        self.problem_change: dict[int, int] = {}
        cid = self.ids["changes"]
        number = self.seq["CHG"]
        plans = []
        for status in chosen:
            ctype = rng.choices(CHANGE_TYPES, weights=(50, 40, 10))[0]
            if status in ("closed", "review", "rejected", "cancelled"):
                opened = rng.randrange(clock.start, max(clock.start + 1, clock.now - 5 * DAY))
                start = min(opened + rng.randrange(DAY, 10 * DAY), clock.now - DAY)
                start = max(start, opened + HOUR)
            elif status == "implementing":
                start = clock.now - rng.randrange(30 * MINUTE, 2 * HOUR)
                opened = max(clock.start, start - rng.randrange(2 * DAY, 10 * DAY))
            else:
                opened = max(clock.start, clock.now - rng.randrange(HOUR, 10 * DAY))
                start = clock.now + rng.randrange(DAY, 20 * DAY)
            # Windows start on the hour, mostly in the evening.
            start = start - start % HOUR
            plans.append((opened, status, ctype, start))
        plans.sort(key=lambda p: p[0])
        for opened, status, ctype, start in plans:
            end = start + rng.choice((1, 2, 2, 3, 4)) * HOUR
            number += 1
            problem_index = None
            before = bisect.bisect_left(problem_opened, opened)
            if before and rng.random() < 0.3:
                problem_index = problems[rng.randrange(before)]
                if problem_index in self.problem_change:
                    problem_index = None
            if problem_index is not None:
                self.problem_change[problem_index] = cid
            self.changes.append(
                {
                    "id": cid,
                    "number": format_number("CHG", number),
                    "opened": opened,
                    "status": status,
                    "type": ctype,
                    "start": start,
                    "end": end,
                    "problem_index": problem_index,
                }
            )
            cid += 1
        self.seq["CHG"] = number

    def plan_articles(self) -> None:
        rng, clock = self.rng, self.clock
        self.articles: list[dict[str, Any]] = []
        self.problem_article: dict[int, int] = {}
        kid = self.ids["knowledge_articles"]
        number = self.seq["KB"]
        old_problems = [
            i for i in range(self.n) if self.types[i] == 2 and self.opened[i] < clock.now - 7 * DAY
        ]
        chosen = [i for i in old_problems if rng.random() < 0.5][:3000]
        general = [None] * 10
        for index in [*chosen, *general]:
            if index is None:
                created = rng.randrange(clock.start, clock.now)
            else:
                created = min(clock.now - HOUR, self.opened[index] + rng.randrange(DAY, 7 * DAY))
            number += 1
            if index is not None:
                self.problem_article[index] = kid
            self.articles.append(
                {
                    "id": kid,
                    "number": format_number("KB", number),
                    "created": created,
                    "index": index,
                }
            )
            kid += 1
        self.seq["KB"] = number

    # -- changes and articles ---------------------------------------------

    def write_changes(self) -> None:
        rng, clock, w = self.rng, self.clock, self.w
        ts = clock.text
        rows = []
        approvals = []
        audits = []
        aid = self.ids["change_approvals"]
        services = [s[1] for s in self.desk.services]
        teams = [t[0] for t in self.desk.teams]
        cab = self.cab or self.change_managers
        done = CHANGE_WORKFLOW.done
        for ch in self.changes:
            status, ctype, opened = ch["status"], ch["type"], ch["opened"]
            start, end = ch["start"], ch["end"]
            risk, score = {
                "standard": ("low", 2 + rng.randrange(4)),
                "normal": rng.choice(
                    (("medium", 8 + rng.randrange(6)), ("high", 14 + rng.randrange(6)))
                ),
                "emergency": rng.choice(
                    (("high", 15 + rng.randrange(5)), ("very_high", 21 + rng.randrange(5)))
                ),
            }[ctype]
            quorum = {"standard": 0, "normal": 2, "emergency": 1}[ctype]
            actual_start = actual_end = closed = None
            outcome = None
            review = lessons = ""
            if status in ("implementing", "review", "closed"):
                actual_start = start + rng.randrange(0, 20 * MINUTE)
            if status in ("review", "closed"):
                actual_end = min(clock.now, end + rng.randrange(-30 * MINUTE, 30 * MINUTE))
                actual_end = max(actual_end, actual_start + 10 * MINUTE)
                outcome = rng.choices(CHANGE_OUTCOMES, weights=(95, 3, 2))[0]
                if status == "closed":
                    review = "Post-implementation review held; service verified by the owner."
                    lessons = (
                        "Plan and timing worked as expected."
                        if outcome == "successful"
                        else "Test the back-out plan in staging before the next attempt."
                    )
                    closed = min(clock.now, actual_end + rng.randrange(HOUR, 3 * DAY))
            if status in ("rejected", "cancelled"):
                closed = min(clock.now, opened + rng.randrange(HOUR, 5 * DAY))
            updated = max(x for x in (opened, actual_start or 0, actual_end or 0, closed or 0))
            owner = self.change_managers[0]
            requester = self.all_agents[rng.randrange(len(self.all_agents))]
            title = CHANGE_TITLES[rng.randrange(len(CHANGE_TITLES))]
            affected = sorted({services[rng.randrange(len(services))]} if services else set())
            rows.append(
                (
                    ch["id"],
                    ch["number"],
                    title,
                    f"{title} during the planned window; owners informed.",
                    ctype,
                    "infrastructure" if ctype != "standard" else "maintenance",
                    status,
                    0 if status in done else 1,
                    risk,
                    score,
                    None,
                    rng.choice((1, 2, 2, 3, 3)),
                    json.dumps(affected),
                    teams[rng.randrange(len(teams))],
                    owner,
                    requester,
                    None,  # problem_id: set after the tickets exist
                    ts(start),
                    ts(end),
                    ts(actual_start) if actual_start is not None else None,
                    ts(actual_end) if actual_end is not None else None,
                    "1. Announce. 2. Apply. 3. Verify monitoring.",
                    "Restore the previous version from the snapshot taken before the change.",
                    "Smoke tests of the affected services; owner sign-off.",
                    quorum,
                    outcome,
                    review,
                    lessons,
                    ts(opened),
                    ts(updated),
                    ts(closed) if closed is not None else None,
                    1 if status == CHANGE_WORKFLOW.initial else 2,
                )
            )
            audits.append(
                (
                    opened,
                    requester,
                    "change",
                    ch["id"],
                    ch["number"],
                    "create",
                    None,
                    None,
                    ctype,
                    1,
                )
            )
            if status != CHANGE_WORKFLOW.initial:
                audits.append(
                    (
                        updated,
                        owner,
                        "change",
                        ch["id"],
                        ch["number"],
                        "transition",
                        "status",
                        CHANGE_WORKFLOW.initial,
                        status,
                        2,
                    )
                )
            # CAB votes: normal and emergency changes that reached approval.
            if quorum and status not in ("draft", "assessment", "cancelled"):
                voters = cab[: max(quorum, min(len(cab), 4))]
                for k, voter in enumerate(voters):
                    decided = min(clock.now, opened + rng.randrange(HOUR, 2 * DAY))
                    decision = "approved"
                    if status == "rejected" and k == 0:
                        decision = "rejected"
                    elif status == "awaiting_approval" and k >= quorum - 1:
                        decision = "pending"
                    approvals.append(
                        (
                            aid,
                            ch["id"],
                            voter,
                            decision,
                            ts(decided) if decision != "pending" else None,
                            "" if decision != "rejected" else "Risk too high for this window.",
                        )
                    )
                    aid += 1
        w.insert(
            "changes",
            (
                "id",
                "number",
                "title",
                "description",
                "change_type",
                "category",
                "status",
                "is_open",
                "risk",
                "risk_score",
                "risk_answers",
                "impact",
                "services",
                "team_id",
                "owner_id",
                "requested_by_id",
                "problem_id",
                "planned_start",
                "planned_end",
                "actual_start",
                "actual_end",
                "implementation_plan",
                "backout_plan",
                "test_plan",
                "quorum",
                "outcome",
                "review_notes",
                "lessons_learned",
                "opened_at",
                "updated_at",
                "closed_at",
                "version",
            ),
            rows,
        )
        w.insert(
            "change_approvals",
            ("id", "change_id", "approver_id", "decision", "decided_at", "comment"),
            approvals,
        )
        self.pending_change_audits = audits

    def write_articles(self) -> None:
        rng, ts = self.rng, self.clock.text
        rows = []
        author_pool = self.all_agents
        for art in self.articles:
            tag = KB_TAGS[rng.randrange(len(KB_TAGS))]
            title = (
                f"How to fix: {INCIDENT_CATEGORIES.get(tag, ('a recurring ' + tag + ' fault',))[0]}"
            )
            body = (
                f"Symptoms\n{SYMPTOM_DETAIL[rng.randrange(len(SYMPTOM_DETAIL))]}\n\n"
                f"Cause\n{ROOT_CAUSES[rng.randrange(len(ROOT_CAUSES))]}\n\n"
                f"Resolution\n{WORKAROUNDS[rng.randrange(len(WORKAROUNDS))]}"
            )
            views = rng.randrange(0, 800)
            yes = int(views * rng.uniform(0.05, 0.3))
            rows.append(
                (
                    art["id"],
                    art["number"],
                    title,
                    body,
                    json.dumps([tag]),
                    "published" if rng.random() < 0.8 else "draft",
                    None,
                    author_pool[rng.randrange(len(author_pool))],
                    views,
                    yes,
                    int(yes * rng.uniform(0.05, 0.3)),
                    ts(art["created"]),
                    ts(art["created"]),
                    1,
                )
            )
        self.w.insert(
            "knowledge_articles",
            (
                "id",
                "number",
                "title",
                "body",
                "tags",
                "status",
                "problem_id",
                "author_id",
                "views",
                "helpful_yes",
                "helpful_no",
                "created_at",
                "updated_at",
                "version",
            ),
            rows,
        )

    def write_links(self) -> None:
        """Back-links from changes and articles to the problems now that those exist."""
        tid0 = self.ids["tickets"]
        self.w.executemany(
            "UPDATE changes SET problem_id = ? WHERE id = ?",
            [
                (tid0 + c["problem_index"], c["id"])
                for c in self.changes
                if c["problem_index"] is not None
            ],
        )
        self.w.executemany(
            "UPDATE knowledge_articles SET problem_id = ? WHERE id = ?",
            [(tid0 + a["index"], a["id"]) for a in self.articles if a["index"] is not None],
        )
        ts = self.clock.text
        audit_id = self.next_audit
        rows = []
        for (
            at,
            actor,
            rtype,
            rid,
            number,
            action,
            fld,
            old,
            new,
            version,
        ) in self.pending_change_audits:
            rows.append(
                (audit_id, ts(at), actor, rtype, rid, number, action, fld, old, new, version, None)
            )
            audit_id += 1
        self.w.insert("audit_events", AUDIT_COLUMNS, rows)
        self.next_audit = audit_id

    # -- tickets ------------------------------------------------------------

    def prepare_tickets(self) -> None:
        desk, rng = self.desk, self.rng
        self.pairs = list(IMPACT_URGENCY_WEIGHTS)
        self.pair_weights = list(IMPACT_URGENCY_WEIGHTS.values())
        services = desk.services
        self.service_ids = [s[0] for s in services] or [None]
        self.service_names = {s[0]: s[1] for s in services}
        self.service_weights = [5 - min(4, s[2]) for s in services] or [1]
        tiers = {t[0]: t[2] for t in desk.teams}
        self.team_ids = [t[0] for t in desk.teams]
        self.team_weights = [{1: 70, 2: 25}.get(tiers[t], 5) for t in self.team_ids]
        problem_teams = [t for t in self.team_ids if tiers[t] >= 2] or self.team_ids
        self.problem_teams = problem_teams
        self.items = desk.items
        self.categories = list(INCIDENT_CATEGORIES)
        # Titles per (category, service): a few hundred distinct strings, reused by index.
        self.titles: dict[tuple[int, Any], list[str]] = {}
        for c, cat in enumerate(self.categories):
            for sid in self.service_ids:
                sname = self.service_names.get(sid, "desk") if sid else "desk"
                self.titles[(c, sid)] = [f"{sname}: {what}" for what in INCIDENT_CATEGORIES[cat]]
        self.descriptions = [f"{a} {b}" for a in SYMPTOM_DETAIL for b in SYMPTOM_DETAIL if a != b]
        self.policy_cache: dict[tuple[int, int, Any, Any], _Policy | None] = {}
        self.create_text: dict[tuple[int, int], str] = {}
        for t, tname in enumerate(TICKET_TYPES):
            for p in (1, 2, 3, 4):
                self.create_text[(t, p)] = json.dumps(
                    {"type": tname, "status": WORKFLOWS[tname].initial, "priority": f"P{p}"}
                )
        self.next_number = {t: self.seq[NUMBER_PREFIX[t]] for t in TICKET_TYPES}
        self.recent_problems: list[int] = []
        self.next_comment = self.ids["comments"]
        self.next_audit = self.ids["audit_events"]
        self.next_clock = self.ids["sla_clocks"]
        self.next_survey = self.ids["surveys"]
        self.next_time = self.ids["time_entries"]
        self.next_complaint = self.ids["complaints"]
        self.major_info: dict[int, tuple[int, int]] = {}  # major index -> (ticket id, resolved)
        self.outage_rows: list[tuple[Any, ...]] = []
        rng.random()

    def policy_for(self, t: int, priority: int, service: Any, item: Any) -> _Policy | None:
        key = (t, priority, service, item)
        try:
            return self.policy_cache[key]
        except KeyError:
            pol = _match_policy(
                self.desk, TICKET_TYPES[t], priority, self.service_names.get(service), item
            )
            self.policy_cache[key] = pol
            return pol

    def write_tickets(self, lo: int, hi: int) -> None:
        rng, clock, w = self.rng, self.clock, self.w
        rnd = rng.random
        expo = rng.expovariate
        ts = clock.text
        now = clock.now
        k = hi - lo
        pairs = rng.choices(self.pairs, weights=self.pair_weights, k=k)
        svcs = rng.choices(self.service_ids, weights=self.service_weights, k=k)
        teams = rng.choices(self.team_ids, weights=self.team_weights, k=k)
        matrix = self.desk.matrix
        team_agents = self.team_agents
        agent_name = self.agent_name
        requesters = self.requesters
        n_req = len(requesters)
        items = self.items
        n_items = len(items)
        descriptions = self.descriptions
        n_desc = len(descriptions)
        categories = self.categories
        titles = self.titles
        tid0 = self.ids["tickets"]
        opened_all = self.opened
        types = self.types
        majors, children = self.majors, self.children
        work_notes, replies = WORK_NOTES, REPLIES
        n_notes, n_replies = len(work_notes), len(replies)
        supervisor = self.supervisor

        tickets: list[tuple[Any, ...]] = []
        comments: list[tuple[Any, ...]] = []
        audits: list[tuple[Any, ...]] = []
        clocks: list[tuple[Any, ...]] = []
        surveys: list[tuple[Any, ...]] = []
        times: list[tuple[Any, ...]] = []
        complaints: list[tuple[Any, ...]] = []
        cid, aid, kid = self.next_comment, self.next_audit, self.next_clock
        sid_, eid, qid = self.next_survey, self.next_time, self.next_complaint
        status_count = self.summary_status
        prio_count = self.summary_priority
        cost_month = self.incident_cost_by_month
        base = clock.base
        span_days = max(1.0, (now - clock.start) / DAY)
        never, counting = SLA_DUE_NEVER_TEXT, ("running", "breached")

        for j in range(k):
            i = lo + j
            t = types[i]
            tname = TICKET_TYPES[t]
            tid = tid0 + i
            o = opened_all[i]
            impact, urgency = pairs[j]
            service = svcs[j]
            team = teams[j]
            item = None
            category = ""
            is_major = i in majors
            parent = None
            if is_major:
                impact = urgency = 1
                service = majors[i][0]
            elif i in children:
                parent_index = children[i]
                info = self.major_info.get(parent_index)
                if info is not None:
                    parent = info[0]
                    service = majors[parent_index][0]
            priority = matrix[impact - 1][urgency - 1]
            self.next_number[tname] += 1
            number = format_number(NUMBER_PREFIX[tname], self.next_number[tname])

            needs_approval = False
            form = None
            if t == 0:
                c = int(rnd() * len(categories))
                category = categories[c]
                opts = titles[(c, service)]
                title = opts[int(rnd() * len(opts))]
            elif t == 1 and n_items:
                item = items[int(rnd() * n_items)]
                category = item[3] or "request"
                title = item[2]
                if item[4] is not None:
                    team = item[4]
                if item[5] is not None:
                    service = item[5]
                needs_approval = item[6] or rnd() < 0.05
                form = '{"justification": "needed for daily work"}'
            elif t == 1:
                category = "request"
                title = "General request"
                needs_approval = rnd() < 0.1
            else:
                c = int(rnd() * len(categories))
                category = categories[c]
                title = (
                    "Recurring: " + titles[(c, service)][int(rnd() * 3) % len(titles[(c, service)])]
                )
                team = self.problem_teams[int(rnd() * len(self.problem_teams))]
            description = descriptions[int(rnd() * n_desc)]
            pool = team_agents.get(team) or self.all_agents
            assignee_pick = pool[int(rnd() * len(pool))]
            creator = pool[int(rnd() * len(pool))]
            requester = requesters[int(rnd() * n_req)] if n_req else None
            policy = self.policy_for(t, priority, service, item[1] if item else None)
            resp_target = (
                policy.response if policy and policy.response else None
            ) or DEFAULT_RESPONSE[priority]
            res_target = (policy.resolution if policy and policy.resolution else None) or (
                DEFAULT_RESOLUTION[priority] if t != 2 else 30 * 24 * 60
            )

            # How long each stage takes (seconds): tuned so ≈90% meet their SLA targets.
            rd = int(expo(1.0 / (0.4 * resp_target * MINUTE))) + 30
            if t == 0:
                work = expo(1.0 / (0.4 * res_target * MINUTE))
            elif t == 1:
                work = (
                    expo(1.0 / (22 * MINUTE))
                    if rnd() > 0.03
                    else expo(1.0 / (0.8 * res_target * MINUTE))
                )
            else:
                work = expo(1.0 / (10 * DAY))
            approval_wait = int(expo(1.0 / (15 * MINUTE))) if needs_approval else 0
            s = o + rd + approval_wait + int(work) + 60
            if is_major:
                rd = 2 * MINUTE + int(rnd() * 5 * MINUTE)
                s = majors[i][2] + int(5 * MINUTE + rnd() * 15 * MINUTE)
            elif parent is not None:
                s = max(s, self.major_info[children[i]][1])

            age = now - o
            if t == 2:
                p_open = 0.3 + 0.5 * math.exp(-age / (14 * DAY))
            else:
                p_open = 0.6 * math.exp(-age / (2 * DAY)) + 0.03
            p_open += self.backlog * (1 - p_open)
            is_open = s >= now or (not is_major and rnd() < p_open)
            responded = o + rd < now

            # The story of the ticket as a list of writes: (time, actor, action, field, old, new).
            ev: list[tuple[int, Any, str, Any, Any, Any]] = []
            notes: list[tuple[int, Any, str, str]] = []
            first_response = resolved = closed = None
            approved_by = approved_at = None
            code = res_notes = None
            reopen = 0
            paused_at = None
            assignee = assignee_pick
            r = o + rd
            ev.append((o, creator, "create", None, None, self.create_text[(t, priority)]))
            if is_open:
                end = now - 1
                if t == 0:
                    if not responded:
                        status = "new" if rnd() < 0.4 else "assigned"
                    else:
                        # Some sit unassigned in the queue: their response clock still runs.
                        x = rnd()
                        status = (
                            "new"
                            if x < 0.08
                            else "assigned"
                            if x < 0.25
                            else "in_progress"
                            if x < 0.75
                            else "pending"
                        )
                elif t == 1:
                    if needs_approval:
                        if not responded:
                            status = "awaiting_approval" if rnd() < 0.6 else "submitted"
                        else:
                            x = rnd()
                            status = (
                                "awaiting_approval"
                                if x < 0.3
                                else ("approved" if x < 0.5 else "fulfilling")
                            )
                    else:
                        status = "fulfilling" if responded and rnd() < 0.8 else "submitted"
                else:
                    x = rnd()
                    status = "new" if x < 0.2 else ("investigating" if x < 0.65 else "known_error")
                worked = status not in ("new", "submitted", "awaiting_approval", "approved")
                if not worked:
                    assignee = None
                if t == 0:
                    if assignee is not None:
                        ev.append(
                            (min(r, end), creator, "assign", "assignee", None, agent_name[assignee])
                        )
                    if status in ("in_progress", "pending") or (status == "assigned" and responded):
                        first_response = r
                    if status in ("in_progress", "pending"):
                        ev.append((r, assignee, "transition", "status", "assigned", "in_progress"))
                    if status == "pending":
                        paused_at = r + int((end - r) * rnd())
                        ev.append(
                            (paused_at, assignee, "transition", "status", "in_progress", "pending")
                        )
                elif t == 1:
                    prev = "submitted"
                    if needs_approval and status != "submitted":
                        ev.append(
                            (
                                min(o + 60, end),
                                creator,
                                "transition",
                                "status",
                                prev,
                                "awaiting_approval",
                            )
                        )
                        prev = "awaiting_approval"
                        if status == "awaiting_approval":
                            # Still waiting: the policy's pause status holds its clocks.
                            paused_at = min(o + 60, end)
                    if status in ("approved", "fulfilling") and needs_approval:
                        approved_at = min(r, end)
                        approved_by = supervisor.get(team, assignee_pick)
                        ev.append(
                            (approved_at, approved_by, "transition", "status", prev, "approved")
                        )
                        prev = "approved"
                    if status == "fulfilling":
                        first_response = r
                        ev.append((r, assignee, "assign", "assignee", None, agent_name[assignee]))
                        ev.append((r, assignee, "transition", "status", prev, "fulfilling"))
                else:
                    if status != "new":
                        first_response = r
                        ev.append(
                            (
                                min(r, end),
                                assignee,
                                "assign",
                                "assignee",
                                None,
                                agent_name[assignee],
                            )
                        )
                        ev.append((r, assignee, "transition", "status", "new", "investigating"))
                        if status == "known_error":
                            ev.append(
                                (
                                    r + int((end - r) * rnd()),
                                    assignee,
                                    "transition",
                                    "status",
                                    "investigating",
                                    "known_error",
                                )
                            )
                if first_response is not None and rnd() < 0.3:
                    notes.append(
                        (
                            r + int((end - r) * rnd()),
                            assignee,
                            "work_note",
                            work_notes[int(rnd() * n_notes)],
                        )
                    )
            else:
                # Finished: resolved / fulfilled, and closed a few days later; some cancelled.
                end = s
                first_response = r
                x = rnd()
                if t == 0:
                    if rnd() < 0.5:
                        # Picked from the queue: starting the work takes the ticket (one write).
                        ev.append((r, assignee, "transition", "status", "new", "in_progress"))
                    else:
                        at = r - min(rd // 2, 300)
                        ev.append((at, creator, "assign", "assignee", None, agent_name[assignee]))
                        ev.append((r, assignee, "transition", "status", "assigned", "in_progress"))
                    if x < 0.03 and not is_major:
                        status = "cancelled"
                        closed = s
                        ev.append((s, assignee, "transition", "status", "in_progress", "cancelled"))
                    else:
                        y = rnd()
                        code = (
                            "fixed"
                            if y < 0.7
                            else (
                                "workaround"
                                if y < 0.85
                                else (
                                    "no_fault_found"
                                    if y < 0.9
                                    else (
                                        "user_error"
                                        if y < 0.95
                                        else ("duplicate" if y < 0.98 else "not_reproducible")
                                    )
                                )
                            )
                        )
                        status = "resolved"
                elif t == 1:
                    if needs_approval:
                        ev.append(
                            (
                                o + 60,
                                creator,
                                "transition",
                                "status",
                                "submitted",
                                "awaiting_approval",
                            )
                        )
                        approved_at = min(o + 60 + approval_wait, s)
                        approved_by = supervisor.get(team, assignee_pick)
                        if x < 0.12:
                            status = "rejected"
                            assignee = None
                            closed = approved_at
                            ev.append(
                                (
                                    approved_at,
                                    approved_by,
                                    "transition",
                                    "status",
                                    "awaiting_approval",
                                    "rejected",
                                )
                            )
                            first_response = min(r, approved_at)
                            s = approved_at
                        else:
                            ev.append(
                                (
                                    approved_at,
                                    approved_by,
                                    "transition",
                                    "status",
                                    "awaiting_approval",
                                    "approved",
                                )
                            )
                            status = "approved"
                    else:
                        status = "submitted"
                    if status != "rejected":
                        r = max(r, approved_at or r)
                        first_response = r
                        ev.append((r, assignee, "assign", "assignee", None, agent_name[assignee]))
                        ev.append((r, assignee, "transition", "status", status, "fulfilling"))
                        if x > 0.98:
                            status = "cancelled"
                            closed = s
                            ev.append(
                                (s, assignee, "transition", "status", "fulfilling", "cancelled")
                            )
                        else:
                            status = "fulfilled"
                            code = "fulfilled"
                else:
                    ev.append((r, assignee, "assign", "assignee", None, agent_name[assignee]))
                    ev.append((r, assignee, "transition", "status", "new", "investigating"))
                    if x < 0.4:
                        ev.append(
                            (
                                r + (s - r) // 3,
                                assignee,
                                "transition",
                                "status",
                                "investigating",
                                "known_error",
                            )
                        )
                    code = "fixed" if rnd() < 0.7 else "workaround"
                    status = "resolved"
                if code is not None:
                    wf = WORKFLOWS[tname]
                    prev = (
                        "known_error"
                        if (t == 2 and x < 0.4)
                        else ("fulfilling" if t == 1 else "in_progress")
                    )
                    res_notes = RESOLUTION_NOTES[code]
                    if rnd() < (0.04 if t == 0 else 0.01):
                        # Resolved once too early, reopened by the requester, resolved again.
                        first_fix = r + (s - r) // 2
                        back = first_fix + (s - first_fix) // 3
                        ev.append((first_fix, assignee, "resolve", "status", prev, wf.resolved))
                        ev.append((back, assignee, "reopen", "status", wf.resolved, wf.reopen_to))
                        notes.append(
                            (back, assignee, "work_note", "Requester reports the fault is back.")
                        )
                        prev = wf.reopen_to
                        reopen = 1
                    ev.append((s, assignee, "resolve", "status", prev, wf.resolved))
                    resolved = s
                    close_after = 7 * DAY if t == 2 else 3 * DAY
                    if s + close_after <= now:
                        closed = s + close_after
                        status = "closed"
                        ev.append((closed, None, "transition", "status", wf.resolved, "closed"))
                    if rnd() < 0.3:
                        notes.append((s, assignee, "reply", replies[int(rnd() * n_replies)]))
                elif (
                    status == "rejected"
                    and approved_at is not None
                    and approved_at + 3 * DAY <= now
                    # Half of the rejected requests are never formally closed.
                    and rnd() < 0.5
                ):
                    closed = approved_at + 3 * DAY
                    ev.append((closed, None, "transition", "status", "rejected", "closed"))
                    status = "closed"
                if first_response is not None and rnd() < 0.3:
                    notes.append(
                        (
                            r + int((s - r) * rnd()),
                            assignee,
                            "work_note",
                            work_notes[int(rnd() * n_notes)],
                        )
                    )
            if first_response is not None and rnd() < 0.45:
                author = assignee if assignee is not None else approved_by
                notes.append((first_response, author, "reply", replies[int(rnd() * n_replies)]))

            # Comments are writes too: each one bumps the version and leaves an audit event.
            for at, author, kind, body in notes:
                comments.append((cid, tid, None, author, None, kind, body, ts(at)))
                cid += 1
                ev.append((at, author, "comment." + kind, "comment", None, kind))
            ev.sort(key=_first)
            version = 0
            for at, actor, action, fld, old, new in ev:
                version += 1
                audits.append(
                    (
                        aid,
                        ts(at),
                        actor,
                        "ticket",
                        tid,
                        number,
                        action,
                        fld,
                        old,
                        new,
                        version,
                        None,
                    )
                )
                aid += 1
            updated = ev[-1][0]

            is_open_flag = WORKFLOWS[tname].is_open(status)
            problem_id = None
            if t == 0 and self.recent_problems and (is_major or rnd() < 0.12):
                problem_id = self.recent_problems[int(rnd() * len(self.recent_problems))]
            root_cause = workaround = ""
            known_error = 0
            change_id = kb_id = None
            if t == 2:
                root_cause = ROOT_CAUSES[int(rnd() * len(ROOT_CAUSES))] if status != "new" else ""
                if status == "known_error" or code == "workaround" or (resolved and rnd() < 0.3):
                    workaround = WORKAROUNDS[int(rnd() * len(WORKAROUNDS))]
                    known_error = 1
                change_id = self.problem_change.get(i)
                kb_id = self.problem_article.get(i)
                self.recent_problems.append(tid)
                if len(self.recent_problems) > 40:
                    del self.recent_problems[0]
            if is_major:
                self.major_info[i] = (tid, s)
                _sv, o_start, o_end = majors[i]
                self.outage_rows.append((service, tid, o_start, o_end, assignee))

            # Appended after its clocks, with the SLA sort key they give it.
            ticket_row = (
                tid,
                number,
                tname,
                title,
                description,
                status,
                1 if is_open_flag else 0,
                impact,
                urgency,
                priority,
                0,
                category,
                service,
                requester,
                team,
                assignee,
                creator,
                item[0] if item else None,
                form,
                approved_by,
                ts(approved_at) if approved_at is not None else None,
                parent,
                problem_id,
                change_id,
                kb_id,
                1 if is_major else 0,
                root_cause,
                workaround,
                known_error,
                ts(o),
                ts(updated),
                ts(first_response) if first_response is not None else None,
                ts(resolved) if resolved is not None else None,
                ts(closed) if closed is not None else None,
                code,
                res_notes,
                reopen,
                0,
                version,
            )
            status_count[(tname, status)] += 1
            prio_count[priority] += 1

            # SLA clocks: wall-clock minutes here; business-calendar arithmetic comes later.
            first_clock = len(clocks)
            if policy is not None or t != 2:
                pid = policy.id if policy else None
                # Open in one of its policy's pause statuses (pending, awaiting approval).
                paused = paused_at is not None and policy is not None and status in policy.pauses
                events = policy.events if policy else (50, 75, 100)
                levels = policy.levels if policy else ()
                if not (policy and policy.response is None):
                    due = o + resp_target * MINUTE
                    if first_response is not None:
                        met = first_response <= due
                        clocks.append(
                            (
                                kid,
                                tid,
                                "response",
                                pid,
                                resp_target,
                                ts(o),
                                ts(due),
                                "met" if met else "breached",
                                None,
                                None,
                                0,
                                first_response - o,
                                ts(first_response),
                                None if met else ts(due),
                                0,
                                0,
                                None,
                                0,
                            )
                        )
                    else:
                        clocks.append(
                            _counting_clock(
                                kid,
                                tid,
                                "response",
                                pid,
                                resp_target,
                                o,
                                now,
                                ts,
                                events,
                                levels,
                                paused_at=paused_at if paused else None,
                            )
                        )
                    kid += 1
                if not (policy and policy.resolution is None):
                    due = o + res_target * MINUTE
                    stop = resolved if resolved is not None else (None if is_open else s)
                    if stop is not None:
                        met = stop <= due
                        clocks.append(
                            (
                                kid,
                                tid,
                                "resolution",
                                pid,
                                res_target,
                                ts(o),
                                ts(due),
                                "met" if met else "breached",
                                None,
                                None,
                                0,
                                stop - o,
                                ts(stop),
                                None if met else ts(due),
                                0,
                                0,
                                None,
                                0,
                            )
                        )
                    elif paused:
                        clocks.append(
                            _counting_clock(
                                kid,
                                tid,
                                "resolution",
                                pid,
                                res_target,
                                o,
                                now,
                                ts,
                                events,
                                levels,
                                paused_at=paused_at,
                            )
                        )
                    else:
                        clocks.append(
                            _counting_clock(
                                kid, tid, "resolution", pid, res_target, o, now, ts, events, levels
                            )
                        )
                    kid += 1
            # tickets.sla_due_at: the nearest due time of a counting clock (as the desk's
            # refresh_sla_due computes it); texts of one format compare as the instants do.
            sla_due = never
            for c in clocks[first_clock:]:
                if c[7] in counting and c[12] is None and c[6] is not None and c[6] < sla_due:
                    sla_due = c[6]
            tickets.append((*ticket_row, sla_due))

            if resolved is not None:
                # Satisfaction: a quarter answer; a breached resolution drags the rating down.
                if rnd() < 0.25:
                    late = resolved > o + res_target * MINUTE
                    x = rnd()
                    if late:
                        rating = (
                            5
                            if x < 0.2
                            else (4 if x < 0.45 else (3 if x < 0.7 else (2 if x < 0.85 else 1)))
                        )
                    else:
                        rating = (
                            5
                            if x < 0.52
                            else (4 if x < 0.84 else (3 if x < 0.93 else (2 if x < 0.97 else 1)))
                        )
                    opts = SURVEY_COMMENTS[rating]
                    submitted = min(now, resolved + int(expo(1.0 / (6 * HOUR))))
                    surveys.append((sid_, tid, rating, opts[int(rnd() * len(opts))], ts(submitted)))
                    sid_ += 1
                # Work logged by the assignee, costed at their hourly rate.
                if assignee is not None and rnd() < 0.7:
                    minutes = max(5, min(480, int((resolved - o) / MINUTE * (0.1 + 0.3 * rnd()))))
                    if t == 2:
                        minutes = 120 + int(rnd() * 600)
                    cost = round(minutes * self.agent_rate.get(assignee, 3.0), 2)
                    times.append((eid, tid, assignee, minutes, cost, ts(resolved), ""))
                    eid += 1
                    if t == 0:
                        month = base + timedelta(seconds=resolved)
                        cost_month[(month.year, month.month)] += cost

            # Complaints: a slowly falling rate (about −20% a year), independent of volume.
            if requester is not None:
                p_c = (
                    0.003
                    * (1.0 + 0.3 * age / (365 * DAY))
                    / self.trend(1.0 - age / (span_days * DAY))
                )
                if rnd() < p_c:
                    received = min(now, (resolved or o) + int(rnd() * DAY))
                    complaints.append(
                        (
                            qid,
                            tid,
                            requester,
                            ts(received),
                            COMPLAINTS[int(rnd() * len(COMPLAINTS))],
                        )
                    )
                    qid += 1

        w.insert("tickets", TICKET_COLUMNS, tickets)
        w.insert("comments", COMMENT_COLUMNS, comments)
        w.insert("audit_events", AUDIT_COLUMNS, audits)
        w.insert("sla_clocks", CLOCK_COLUMNS, clocks)
        w.insert("surveys", SURVEY_COLUMNS, surveys)
        w.insert("time_entries", TIME_COLUMNS, times)
        w.insert("complaints", COMPLAINT_COLUMNS, complaints)
        self.next_comment, self.next_audit, self.next_clock = cid, aid, kid
        self.next_survey, self.next_time, self.next_complaint = sid_, eid, qid

    # -- after the tickets --------------------------------------------------

    def write_outages(self) -> None:
        ts = self.clock.text
        oid = self.ids["outages"]
        rows = []
        for service, tid, start, end, recorder in self.outage_rows:
            rows.append(
                (
                    oid,
                    service,
                    tid,
                    ts(start),
                    ts(min(end, self.clock.now)),
                    "Service unavailable; see the major incident.",
                    recorder,
                )
            )
            oid += 1
        self.w.insert("outages", OUTAGE_COLUMNS, rows)

    def write_budgets(self) -> None:
        """Monthly incident budgets set so that spend lands near 85% of each (target: < 90%)."""
        rng = self.rng
        existing = {
            str(p)[:10]
            for (p,) in self.w.rows("SELECT period_start FROM budgets WHERE category = 'incident'")
        }
        first = self.clock.date_of(self.clock.start)
        last = self.clock.date_of(self.clock.now)
        bid = self.ids["budgets"]
        rows = []
        y, m = first.year, first.month
        while (y, m) <= (last.year, last.month):
            start = date(y, m, 1)
            nxt = date(y + (m == 12), m % 12 + 1, 1)
            spent = self.incident_cost_by_month.get((y, m), 0.0)
            # A partial month still gets a full month's budget: scale spend up to the month.
            lo = max(start, first)
            hi = min(nxt, last + timedelta(days=1))
            covered = max(1, (hi - lo).days) / (nxt - start).days
            amount = round(max(1000.0, spent / covered / rng.uniform(0.78, 0.95)), 2)
            if start.isoformat() not in existing:
                rows.append(
                    (
                        bid,
                        "incident",
                        start.isoformat(),
                        (nxt - timedelta(days=1)).isoformat(),
                        amount,
                        "CNY",
                    )
                )
                bid += 1
            y, m = nxt.year, nxt.month
        self.w.insert(
            "budgets", ("id", "category", "period_start", "period_end", "amount", "currency"), rows
        )

    def write_sequences(self) -> None:
        used = {NUMBER_PREFIX[t]: v for t, v in self.next_number.items()} if self.n else {}
        used["CHG"] = self.seq["CHG"]
        used["KB"] = self.seq["KB"]
        existing = dict(self.w.rows("SELECT prefix, last_value FROM number_sequences"))
        for prefix, value in used.items():
            if prefix in existing:
                self.w.execute(
                    "UPDATE number_sequences SET last_value = ? WHERE prefix = ?",
                    (max(int(existing[prefix]), value), prefix),
                )
            else:
                self.w.execute(
                    "INSERT INTO number_sequences (prefix, last_value) VALUES (?, ?)",
                    (prefix, value),
                )


def _first(event: tuple[Any, ...]) -> Any:
    return event[0]


def _sync_pg_sequences(w: _Writer, tables: Iterable[str]) -> None:
    """Explicit ids bypass PostgreSQL's sequences: move each past the highest id written."""
    for table in tables:
        seq = w.scalar(f"SELECT pg_get_serial_sequence('{table}', 'id')")
        if seq:
            w.execute(
                f"SELECT setval('{seq}', (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )


def _counting_clock(
    kid: int,
    tid: int,
    kind: str,
    pid: int | None,
    target: int,
    opened: int,
    now: int,
    ts: Callable[[int], Any],
    events: tuple[int, ...],
    levels: tuple[int, ...],
    paused_at: int | None = None,
) -> tuple[Any, ...]:
    """A clock still running at `now` (or paused since `paused_at`), as if an escalator
    had swept up to then.

    Thresholds already passed count as fired, and a clock past its target is breached
    as of its due time (so the first sweep of a seeded desk escalates only what comes
    due from now on, and a resumed clock stays late); `next_event_at` is the next one.
    A paused clock has spent the time up to its pause and has no due time or next event.
    """
    length = target * MINUTE
    counted_until = now if paused_at is None else paused_at
    elapsed_percent = (counted_until - opened) * 100 / length
    fired = [p for p in events if p <= elapsed_percent]
    later = [p for p in events if p > elapsed_percent]
    breached = bool(fired) and fired[-1] >= 100
    running = paused_at is None
    return (
        kid,
        tid,
        kind,
        pid,
        target,
        ts(opened),
        ts(opened + length) if running else None,
        ("breached" if breached else "running") if running else "paused",
        ts(opened) if running else None,
        None if running else ts(paused_at),
        0,
        0 if running else paused_at - opened,
        None,
        ts(opened + length) if breached else None,
        fired[-1] if fired else 0,
        sum(1 for p in fired if p < 100),
        ts(opened + length * later[0] // 100) if later and running else None,
        sum(1 for p in levels if p <= elapsed_percent),
    )


def seed_store(
    store: Store,
    *,
    tickets: int,
    days: int = 90,
    seed: int = 1,
    now: datetime,
    progress: ProgressCallback | None = None,
    backlog: float = 0.0,
) -> SeedSummary:
    """Write `tickets` tickets with their history over the last `days` days.

    `backlog` (0–1) keeps that share of otherwise finished tickets open: a desk behind
    on its work (the sweep benchmark uses it to reach its open-ticket count).

    Deterministic: the same (tickets, days, seed, now) on the same desk gives the same rows.
    """
    if tickets < 0:
        raise ValueError(_("the number of tickets must be 0 or more"))
    if days < 1:
        raise ValueError(_("the number of days must be 1 or more"))
    if now.tzinfo is None:
        raise ValueError(_("now must carry a time zone"))
    started = time.perf_counter()
    rng = random.Random(seed)
    clock = _Clock(now, days)
    # Idle pooled connections would keep SQLite from leaving WAL for the load (see _Writer).
    store.engine.dispose()
    w = _Writer(store)
    dropped: list[Any] = []
    paused: _SearchPause | None = None
    try:
        w.tune_for_load()
        w.begin()
        desk = _read_desk(w)
        _ensure_agents(w, desk, rng)
        requester_ids = _ensure_requesters(w, max(200, min(5000, tickets // 25)))
        w.commit()
        if tickets >= REBUILD_INDEXES_FROM:
            dropped = _droppable_indexes(w, tickets)
            paused = _pause_search(w, tickets)
            w.begin()
            for index in dropped:
                w.execute(f"DROP INDEX {index.name}")
            for statement in paused.drop if paused else ():
                w.execute(statement)
            w.commit()
        seeder = _Seeder(w, desk, clock, rng, tickets, days, backlog)
        seeder.load_people(requester_ids)
        seeder.run(progress)
        if dropped:
            # Rebuilt from the model itself, so they come back exactly as migrated.
            # Through the connection that dropped them: another SQLite connection may
            # still hold the old schema and refuse the name before it notices the change.
            w.begin()
            for index in dropped:
                w.execute(str(CreateIndex(index).compile(dialect=store.engine.dialect)))
            w.commit()
        if paused:
            w.begin()
            for statement in paused.restore:
                w.execute(statement)
            w.commit()
        if not w.sqlite:
            w.begin()
            _sync_pg_sequences(
                w,
                ("agents", "requesters", *HISTORY_TABLES),
            )
            w.commit()
        if w.sqlite:
            # A sampled ANALYZE: enough for the planner, seconds instead of a full scan...
            w.execute("PRAGMA analysis_limit=1000")
            w.execute("ANALYZE")
            # ...except for tickets, where sampling put ix_tickets_resolved_at at 11 times
            # the table and "recently resolved" scanned the table (240 ms at a million).
            # Exact statistics cost under 2 s there.
            w.execute("PRAGMA analysis_limit=0")
            w.execute("ANALYZE tickets")
        else:
            w.commit()
            w.vacuum_analyze()
    except BaseException:
        w.rollback()
        raise
    finally:
        w.restore()
    by_type: dict[str, dict[str, int]] = {}
    for (tname, status), count in sorted(seeder.summary_status.items()):
        by_type.setdefault(tname, {})[status] = count
    return SeedSummary(
        tickets=tickets,
        days=days,
        rows=dict(sorted(w.counts.items())),
        by_type_status=by_type,
        by_priority=dict(sorted(seeder.summary_priority.items())),
        seconds=round(time.perf_counter() - started, 3),
    )


__all__ = ["SeedSummary", "seed_store"]
