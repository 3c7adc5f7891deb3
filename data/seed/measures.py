"""What the KPIs measure besides the clocks: outages (one per major incident, near each
service's availability target), surveys, time entries with their cost, complaints, and
monthly incident budgets sized to the spend."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from itsm_tui.data.seed.story import SeedTicket
from itsm_tui.data.seed.texts import COMPLAINTS, SURVEY_COMMENTS
from itsm_tui.data.seed.timeline import DAY, HOUR, MINUTE

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder

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
# A major incident is resolved minutes after its outage ends. Outages of about this
# length on average (at most ~1.7 times it) keep most major incidents within a P1
# resolution target (2 h on the default desk): a service with a lower availability
# target has more outages, not day-long ones that every major incident breaches.
TYPICAL_OUTAGE_MINUTES = 60


def plan_majors(run: Seeder) -> None:
    """Outages per service, each the window of one major incident (≈ the 99.9% target)."""
    rng, clock, n = run.rng, run.clock, run.n
    run.majors = {}  # index -> service, start, end
    run.children = {}  # index -> major index
    run.linked_at = {}
    run.made_major_at = {}
    if not run.desk.services or n == 0:
        return
    cutoff = clock.now - 2 * DAY
    eligible = [i for i in range(n) if run.types[i] == 0 and run.opened[i] < cutoff]
    if not eligible:
        return
    span_minutes = (clock.now - clock.start) / MINUTE
    at_least = max(1, round(run.days / 30))
    for service_id, _name, _crit, target, _owner in run.desk.services:
        allowed = span_minutes * (100.0 - target) / 100.0
        total = allowed * rng.uniform(0.6, 1.4)
        outages = max(at_least, math.ceil(total / TYPICAL_OUTAGE_MINUTES))
        shares = [rng.random() + 0.2 for _ in range(outages)]
        for share in shares:
            minutes = max(3.0, total * share / sum(shares))
            for _attempt in range(8):
                index = eligible[rng.randrange(len(eligible))]
                if index not in run.majors and index not in run.children:
                    break
            else:
                continue
            start = max(0, run.opened[index] - rng.randrange(2 * MINUTE, 10 * MINUTE))
            end = start + int(minutes * MINUTE)
            run.majors[index] = (service_id, start, end)
    # Later incidents about the same outage become children of the major one: whoever
    # runs the major incident links each under it minutes after it comes in (link_ticket),
    # and the first link makes it a major incident.
    for index in sorted(run.majors):
        limit = run.opened[index] + 12 * HOUR
        wanted = 2 + rng.randrange(4)
        j = index + 1
        while wanted and j < n and run.opened[j] <= limit:
            if run.types[j] == 0 and j not in run.majors and j not in run.children:
                run.children[j] = index
                linked = run.opened[j] + rng.randrange(2 * MINUTE, 15 * MINUTE)
                if linked < clock.now:
                    run.linked_at[j] = linked
                    first = run.made_major_at.get(index)
                    run.made_major_at[index] = linked if first is None else min(first, linked)
                wanted -= 1
            j += 1


class TicketMeasures:
    """The surveys, time entries and complaints of one chunk of tickets."""

    def __init__(self, run: Seeder) -> None:
        self.run = run
        self.surveys: list[tuple[Any, ...]] = []
        self.times: list[tuple[Any, ...]] = []
        self.complaints: list[tuple[Any, ...]] = []

    def add(self, tk: SeedTicket, rnd: Callable[[], float], expo: Callable[[float], float]) -> None:
        run = self.run
        surveys, times, complaints = self.surveys, self.times, self.complaints
        now, ts, day_month = run.clock.now, run.clock.text, run.clock.day_month
        span_days = max(1.0, (now - run.clock.start) / DAY)
        agent_rate, trend, cost_month = run.staff.agent_rate, run.trend, run.incident_cost_by_month
        t, tid, o = tk.t, tk.tid, tk.opened
        resolved, assignee, requester, age = tk.resolved, tk.assignee, tk.requester, tk.age
        if resolved is not None:
            # Satisfaction: a quarter answer; a breached resolution drags the rating down.
            if rnd() < 0.25:
                late = tk.late
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
                surveys.append(
                    (run.next_survey, tid, rating, opts[int(rnd() * len(opts))], ts(submitted))
                )
                run.next_survey += 1
            # Work logged by the assignee, costed at their hourly rate.
            if assignee is not None and rnd() < 0.7:
                minutes = max(5, min(480, int((resolved - o) / MINUTE * (0.1 + 0.3 * rnd()))))
                if t == 2:
                    minutes = 120 + int(rnd() * 600)
                cost = round(minutes * agent_rate.get(assignee, 3.0), 2)
                times.append((run.next_time, tid, assignee, minutes, cost, ts(resolved), ""))
                run.next_time += 1
                if t == 0:
                    cost_month[day_month[resolved // DAY]] += cost

        # Complaints: a slowly falling rate (about −20% a year), independent of volume.
        if requester is not None:
            p_c = 0.003 * (1.0 + 0.3 * age / (365 * DAY)) / trend(1.0 - age / (span_days * DAY))
            if rnd() < p_c:
                received = min(now, (resolved or o) + int(rnd() * DAY))
                complaints.append(
                    (
                        run.next_complaint,
                        tid,
                        requester,
                        ts(received),
                        COMPLAINTS[int(rnd() * len(COMPLAINTS))],
                    )
                )
                run.next_complaint += 1

    def write(self) -> None:
        w = self.run.w
        w.insert("surveys", SURVEY_COLUMNS, self.surveys)
        w.insert("time_entries", TIME_COLUMNS, self.times)
        w.insert("complaints", COMPLAINT_COLUMNS, self.complaints)


def write_outages(run: Seeder) -> None:
    ts = run.clock.text
    oid = run.ids["outages"]
    rows = []
    for service, tid, start, end, recorder in run.outage_rows:
        rows.append(
            (
                oid,
                service,
                tid,
                ts(start),
                ts(min(end, run.clock.now)),
                "Service unavailable; see the major incident.",
                recorder,
            )
        )
        oid += 1
    run.w.insert("outages", OUTAGE_COLUMNS, rows)


def write_budgets(run: Seeder) -> None:
    """Monthly incident budgets set so that spend lands near 85% of each (target: < 90%).

    They break the desk's yearly budget down (January included: a budget is its whole
    period, so January and the year may start on one day); a month the desk already
    budgets is left as it is.
    """
    rng = run.rng
    existing = {
        (str(start)[:10], str(end)[:10])
        for start, end in run.w.rows(
            "SELECT period_start, period_end FROM budgets WHERE category = 'incident'"
        )
    }
    first = run.clock.date_of(run.clock.start)
    last = run.clock.date_of(run.clock.now)
    bid = run.ids["budgets"]
    rows = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        start = date(y, m, 1)
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        spent = run.incident_cost_by_month.get((y, m), 0.0)
        # A partial month still gets a full month's budget: scale spend up to the month.
        lo = max(start, first)
        hi = min(nxt, last + timedelta(days=1))
        covered = max(1, (hi - lo).days) / (nxt - start).days
        amount = round(max(1000.0, spent / covered / rng.uniform(0.78, 0.95)), 2)
        end = nxt - timedelta(days=1)
        if (start.isoformat(), end.isoformat()) not in existing:
            rows.append(
                (
                    bid,
                    "incident",
                    start.isoformat(),
                    end.isoformat(),
                    amount,
                    "CNY",
                )
            )
            bid += 1
        y, m = nxt.year, nxt.month
    run.w.insert(
        "budgets", ("id", "category", "period_start", "period_end", "amount", "currency"), rows
    )
