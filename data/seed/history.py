"""One seed run: the state its record families share (ids, numbers, arrivals, plans), and
the order they are generated and written in. The order is part of the output: every
family draws from one random stream, so the same arguments give the same rows."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itsm_tui.data.seed import changes, knowledge, measures
from itsm_tui.data.seed.desk import Desk
from itsm_tui.data.seed.escalations import Teams
from itsm_tui.data.seed.people import Staff
from itsm_tui.data.seed.sla import SlaSetup
from itsm_tui.data.seed.tickets import TicketWriter
from itsm_tui.data.seed.timeline import HOUR, Timeline
from itsm_tui.data.seed.writer import HISTORY_TABLES, BulkWriter
from itsm_tui.domain.calendar import WorkingTimeIndex, always_open_calendar
from itsm_tui.domain.workflow import NUMBER_PREFIX, TICKET_TYPES

ProgressCallback = Callable[[int, int], None]

# Tickets generated and written per transaction: big enough that executemany/COPY
# dominate, small enough that a chunk's rows (≈10 per ticket) stay a few hundred MB.
CHUNK = 25_000


class Seeder:
    """The state of one seed run, and `run`, which writes every family in its turn."""

    def __init__(
        self,
        w: BulkWriter,
        desk: Desk,
        clock: Timeline,
        rng: random.Random,
        staff: Staff,
        sla_setup: SlaSetup,
        tickets: int,
        days: int,
        backlog: float = 0.0,
    ) -> None:
        self.staff = staff
        self.sla = sla_setup
        # Business time of every calendar over the span, and the 24x7 of a clock without one.
        origin = clock.base.replace(tzinfo=UTC)
        last = origin + timedelta(days=len(clock.day_text) - 1)
        self.indexes = sla_setup.indexes(origin, origin, last)
        self.always_open = WorkingTimeIndex(always_open_calendar(), origin, origin, last)
        self.teams = read_teams(w, staff)
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
        self.next_number: dict[str, int] = {}
        # major index -> its ticket id, when its work ended, its number, who links under it.
        self.major_info: dict[int, tuple[int, int, str, int]] = {}
        self.outage_rows: list[tuple[Any, ...]] = []
        # Plans made before any ticket is written (measures.plan_majors, changes.plan_*).
        self.majors: dict[int, tuple[int, int, int]] = {}  # index -> service, start, end
        self.children: dict[int, int] = {}  # index -> major index
        self.linked_at: dict[int, int] = {}  # child index -> when it is linked under its major
        self.made_major_at: dict[int, int] = {}  # major index -> its first child's link
        self.changes: list[dict[str, Any]] = []
        self.problem_change: dict[int, int] = {}  # problem index -> change id
        self.articles: list[dict[str, Any]] = []
        self.problem_article: dict[int, int] = {}  # problem index -> its article's key
        # article key -> what its problem recorded and when (knowledge.write_articles).
        self.article_facts: dict[int, tuple[Any, ...]] = {}
        self.pending_change_audits: list[tuple[Any, ...]] = []

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

    def run(self, progress: ProgressCallback | None) -> None:
        """Every family in its turn; the rows go in on a writer thread while the next
        chunk is generated (the writer keeps the order and one transaction per chunk)."""
        with self.w.overlapped():
            self._run(progress)

    def _run(self, progress: ProgressCallback | None) -> None:
        w, rng = self.w, self.rng
        self.ids = self.next_ids()
        self.seq = self.sequences()
        n = self.n
        self.opened = self.arrivals()
        self.types = rng.choices((0, 1, 2), weights=(70, 26, 4), k=n)
        measures.plan_majors(self)
        changes.plan_changes(self)
        knowledge.plan_articles(self)
        self.start_tickets()
        tickets = TicketWriter(self)

        w.begin()
        changes.write_changes(self)
        w.commit()

        done = 0
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            w.begin()
            tickets.write(lo, hi)
            w.commit()
            done = hi
            if progress is not None:
                progress(done, n)

        w.begin()
        changes.write_links(self)
        knowledge.write_articles(self)
        measures.write_outages(self)
        measures.write_budgets(self)
        self.write_sequences()
        w.commit()

    def start_tickets(self) -> None:
        """Numbers and ids continue from what the store holds."""
        self.next_escalation = self.ids["escalations"]
        self.next_notification = self.ids["notifications"]
        self.next_number = {t: self.seq[NUMBER_PREFIX[t]] for t in TICKET_TYPES}
        self.next_comment = self.ids["comments"]
        self.next_audit = self.ids["audit_events"]
        self.next_clock = self.ids["sla_clocks"]
        self.next_survey = self.ids["surveys"]
        self.next_time = self.ids["time_entries"]
        self.next_complaint = self.ids["complaints"]

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


def read_teams(w: BulkWriter, staff: Staff) -> Teams:
    """Teams as the sweep consults them (after the seed gave them supervisors)."""
    rows = w.rows("SELECT id, name, tier, supervisor_id, escalation_team_id FROM teams")
    first_line = min(rows, key=lambda r: (r[2], r[1]), default=None)
    return Teams(
        name={int(r[0]): str(r[1]) for r in rows},
        supervisor={int(r[0]): r[3] for r in rows},
        escalation_team={int(r[0]): r[4] for r in rows},
        agents=staff.team_agents,
        agent_name=staff.agent_name,
        desk_manager=first_line[3] if first_line else None,
    )
