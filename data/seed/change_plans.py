"""What each seeded change is before its story is told: type, final state, services, the
planned window, who raised and who implements it, its outcome.

About one change for every 50 tickets, most of them history; the open ones are as many
as a desk's schedule holds: changes holding a window (in authorization, scheduled,
implementing) never conflict unless a change manager accepted the conflict with a
reason, implementers are never in two changes at once, every window lies inside its
services' maintenance windows and outside freezes unless overridden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random
from typing import TYPE_CHECKING

from itsm_tui.data.change_schedule import Conflict, _Held
from itsm_tui.data.seed.change_desk import ChangeDesk
from itsm_tui.data.seed.texts import CHANGE_CATEGORIES, CHANGE_TITLES, EMERGENCY_TITLES
from itsm_tui.data.seed.timeline import DAY, HOUR, MINUTE
from itsm_tui.domain import roles
from itsm_tui.domain.workflow import CHANGE_OUTCOMES, CHANGE_TYPES, CHANGE_WORKFLOWS

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder

TICKETS_PER_CHANGE = 50
# Enough for every state of every type's machine on the smallest seed.
AT_LEAST = 60
TYPE_WEIGHTS = {"standard": 45, "normal": 45, "emergency": 10}
OUTCOME_WEIGHTS = (94, 3.5, 2.5)
HOLDING = ("authorization", "scheduled", "implementing")
# Share of changes whose window a change manager planned over a freeze or outside the
# maintenance windows, with a reason.
OVERRIDDEN = 0.03


@dataclass
class Plan:
    kind: str
    status: str
    services: tuple[str, ...]
    title: str
    category: str
    template: str | None
    owner: int
    opened: int = 0
    start: int | None = None
    end: int | None = None
    implementer: int | None = None
    overrides: list[Conflict] = field(default_factory=list)
    outcome: str | None = None
    problem_index: int | None = None
    id: int = 0
    number: str = ""


def _statuses(rng: Random, count: int) -> list[tuple[str, str]]:
    """(type, final status) for each change: every state of every machine once, the open
    states as many as a desk's week holds, the rest history."""
    pairs = [(kind, s) for kind in CHANGE_TYPES for s in CHANGE_WORKFLOWS[kind].statuses]
    rest = max(0, count - len(pairs))
    share = {
        "implementing": min(2, rest // 200),
        "draft": min(60, rest * 2 // 100),
        "assessment": min(30, rest // 100),
        "authorization": min(30, rest // 100),
        "scheduled": min(60, rest * 3 // 100),
        "review": min(80, rest * 2 // 100),
        "rejected": rest * 3 // 100,
        "cancelled": rest * 3 // 100,
    }
    share["closed"] = rest - sum(share.values())
    for status, k in share.items():
        kinds = [t for t in CHANGE_TYPES if status in CHANGE_WORKFLOWS[t].statuses]
        weights = [TYPE_WEIGHTS[t] for t in kinds]
        pairs.extend((rng.choices(kinds, weights)[0], status) for _ in range(k))
    return pairs


class Planner:
    def __init__(self, run: Seeder, cd: ChangeDesk) -> None:
        self.run, self.cd, self.rng = run, cd, run.change_rng
        self.now = run.clock.now
        self.first = run.clock.start
        owners = [
            a.id
            for a in cd.agents
            if cd.can(a, "change.create") and roles.CAB not in a.roles and a.team_id
        ]
        self.owners = owners or [a.id for a in cd.agents]
        self.workers = [a.id for a in cd.agents if a.team_id is not None] or self.owners
        self.held: list[_Held] = []

    # -- choosing ------------------------------------------------------------

    def new(self, kind: str, status: str) -> Plan:
        rng, cd = self.rng, self.cd
        if kind == "standard" and cd.templates:
            name = sorted(cd.templates)[rng.randrange(len(cd.templates))]
            recipe = cd.templates[name]
            return Plan(
                kind,
                status,
                tuple(recipe.get("services") or ()),
                recipe["title"],
                recipe.get("category", ""),
                name,
                self.owners[rng.randrange(len(self.owners))],
            )
        if kind == "standard":
            # A desk without templates raises no standard changes.
            kind = "normal"
        services = cd.schedule.services
        service = services[rng.randrange(len(services))] if services else ""
        pick = rng.randrange(len(CHANGE_TITLES))
        title = (
            EMERGENCY_TITLES[rng.randrange(len(EMERGENCY_TITLES))]
            if kind == "emergency"
            else CHANGE_TITLES[pick]
        )
        return Plan(
            kind,
            status if status in CHANGE_WORKFLOWS[kind].statuses else "draft",
            (service,) if service else (),
            title,
            CHANGE_CATEGORIES[pick],
            None,
            self.owners[rng.randrange(len(self.owners))],
        )

    def reroll(self, plan: Plan) -> None:
        """Another template or service (and title) for the same type and state."""
        other = self.new(plan.kind, plan.status)
        plan.services, plan.title, plan.category, plan.template = (
            other.services,
            other.title,
            other.category,
            other.template,
        )

    def duration(self, plan: Plan) -> int:
        if plan.template:
            return int(self.cd.templates[plan.template]["duration_minutes"]) * MINUTE
        return self.rng.choice((1, 2, 2, 3, 4)) * HOUR

    def lead(self, plan: Plan) -> int:
        return self.cd.rule(plan.kind, "lead_time_hours") * HOUR

    def implementer(self, start: int, end: int, tries: int = 10) -> int | None:
        rng, cd = self.rng, self.cd
        for _attempt in range(tries):
            agent = self.workers[rng.randrange(len(self.workers))]
            if not cd.busy(agent, start, end):
                return agent
        return None

    def hold(self, plan: Plan) -> None:
        assert plan.start is not None and plan.end is not None
        self.held.append(
            _Held(
                -len(self.held) - 1,
                f"seed-{len(self.held)}",
                plan.title,
                plan.status,
                plan.services,
                plan.implementer,
                self.cd.at(plan.start),
                self.cd.at(plan.end),
            )
        )

    def take(self, plan: Plan, start: int, end: int, implementer: int | None) -> None:
        plan.start, plan.end, plan.implementer = start, end, implementer
        if implementer is not None:
            self.cd.book(implementer, start, end)
        if plan.status in HOLDING:
            self.hold(plan)

    def overridable(self, plan: Plan, start: int, end: int, agent: int | None) -> bool:
        """A window a change manager may plan anyway: its only conflicts are freezes and
        maintenance windows (never another change, never a double-booked implementer)."""
        held = self.held if plan.status in HOLDING else []
        found = self.cd.conflicts(plan.services, start, end, agent, held)
        if found and all(c.kind in ("freeze", "maintenance") for c in found):
            plan.overrides = found
            return True
        return False

    def place(self, plan: Plan, earliest: int, latest: int, *, checked: bool) -> bool:
        """A window starting in [earliest, latest): free of its own conflicts, its
        implementer free; `checked`: also clear of every holding change (the desk's check)."""
        rng, cd = self.rng, self.cd
        duration = self.duration(plan)
        ran = plan.status in ("implementing", "review", "closed") or plan.status in HOLDING
        if rng.random() < OVERRIDDEN and latest > earliest:
            # Office hours on a weekday: outside most maintenance windows.
            day = earliest + rng.randrange(max(1, latest - earliest))
            start = day - day % DAY + rng.choice((2, 3, 6)) * HOUR
            if earliest <= start < latest:
                agent = self.implementer(start, start + duration) if ran else None
                if (agent is not None or not ran) and self.overridable(
                    plan, start, start + duration, agent
                ):
                    self.take(plan, start, start + duration, agent)
                    return True
        for _attempt in range(30):
            # Anywhere in the range: the history runs up to its latest day (a dashboard's
            # last 30 days hold changes that ran), and a slot past `latest` is tried again.
            after = earliest + rng.randrange(max(1, latest - earliest))
            found = cd.slot(plan.services, after, duration)
            if found is None or found[0] >= latest:
                continue
            start, end = found
            agent = None
            if ran and checked:
                agent = self.implementer(start, end)
                if agent is None:
                    continue
            elif ran:
                # A busy night in the past: a named implementer if one was free, else
                # the owner did the work (never anyone in two changes at once).
                agent = self.implementer(start, end, tries=3)
            if checked and cd.conflicts(plan.services, start, end, agent, self.held):
                continue
            self.take(plan, start, end, agent)
            return True
        return False

    # -- by state ------------------------------------------------------------

    def implementing(self, plan: Plan) -> None:
        """Running now: the window began a little while ago."""
        rng, cd, now = self.rng, self.cd, self.now
        for attempt in range(60):
            self.reroll(plan)
            if attempt < 30:
                start = now - rng.randrange(20, 100) * MINUTE
                end = start + max(self.duration(plan), 2 * HOUR)
            else:
                # Where every service that could run now is taken: started earlier today
                # and running over its window.
                start = now - rng.randrange(3 * 60, 12 * 60) * MINUTE
                end = start + self.duration(plan)
            start -= start % (5 * MINUTE)
            end -= end % (5 * MINUTE)
            agent = self.implementer(start, end)
            if agent is None:
                continue
            found = cd.conflicts(plan.services, start, end, agent, self.held)
            # Work already running outside a maintenance window went ahead on a change
            # manager's word (an emergency fix, or a template's job that could not wait).
            if found and not self.overridable(plan, start, end, agent):
                continue
            self.take(plan, start, end, agent)
            plan.opened = max(self.first, start - self.lead(plan) - rng.randrange(HOUR, DAY))
            return
        plan.status = "draft"
        self.draft(plan)

    def upcoming(self, plan: Plan) -> None:
        """Waiting for the CAB or scheduled: a window in the coming weeks."""
        rng = self.rng
        if plan.kind == "emergency":
            plan.opened = self.now - rng.randrange(HOUR, 12 * HOUR)
            earliest = self.now + HOUR
            latest = self.now + 3 * DAY
        else:
            plan.opened = max(self.first, self.now - rng.randrange(2 * HOUR, 6 * DAY))
            earliest = max(plan.opened + self.lead(plan), self.now + 2 * HOUR)
            latest = self.now + 35 * DAY
        if not self.place(plan, earliest, latest, checked=True) and not self.place(
            plan, earliest, self.now + 90 * DAY, checked=True
        ):
            plan.status = "draft"
            plan.start = plan.end = None
            plan.overrides = []

    def draft(self, plan: Plan) -> None:
        """Not yet holding a window: most normal ones plan one already (the desk checks it
        against the holding changes, as create_change does)."""
        rng = self.rng
        plan.opened = max(self.first, self.now - rng.randrange(HOUR, 5 * DAY))
        if plan.status == "assessment" or rng.random() < 0.6:
            earliest = max(plan.opened + self.lead(plan), self.now + 2 * HOUR)
            if not self.place(plan, earliest, self.now + 40 * DAY, checked=True):
                plan.overrides = []
                if plan.status == "assessment":
                    plan.status = "draft"

    def past(self, plan: Plan) -> None:
        """History: closed, in review, rejected or cancelled."""
        rng, now = self.rng, self.now
        lead = self.lead(plan)
        if plan.status == "review":
            earliest, latest = now - 10 * DAY, now - 6 * HOUR
        else:
            earliest = self.first + lead + 3 * DAY
            latest = now - 3 * DAY if plan.status == "closed" else now + 10 * DAY
        if latest <= earliest:
            earliest = self.first + lead + HOUR
            latest = max(earliest + DAY, now - DAY)
        for _attempt in range(5):
            if self.place(plan, earliest, latest, checked=False):
                break
            # A template or service whose windows are too rare for the span: another one.
            self.reroll(plan)
        if plan.start is None:
            plan.opened = max(self.first, earliest - lead - DAY)
            if plan.status in ("closed", "review"):
                plan.status = "cancelled"
            return
        before = lead + (
            rng.randrange(HOUR, 8 * HOUR)
            if plan.kind == "emergency"
            else rng.randrange(2 * HOUR, 4 * DAY)
        )
        plan.opened = max(self.first, plan.start - before)
        if plan.opened >= now:
            # Turned down or withdrawn ahead of a window still to come: raised before now.
            plan.opened = max(self.first, now - rng.randrange(HOUR, 3 * DAY))
        if plan.opened + lead > plan.start:
            # Too close to the span's start for its lead time: it never got that far.
            plan.status = "cancelled"
        if plan.status in ("closed", "review"):
            plan.outcome = rng.choices(CHANGE_OUTCOMES, weights=OUTCOME_WEIGHTS)[0]


def plan_changes(run: Seeder, cd: ChangeDesk) -> list[Plan]:
    """Every change of the seed, placed in time; sorted by opening, numbered later."""
    rng = run.change_rng
    count = max(AT_LEAST, run.n // TICKETS_PER_CHANGE)
    planner = Planner(run, cd)
    plans = [planner.new(kind, status) for kind, status in _statuses(rng, count)]
    # The running ones first, then what holds a window, then drafts (checked against
    # those), then history.
    order = ("implementing", "authorization", "scheduled", "assessment", "draft")
    by_status = {s: [p for p in plans if p.status == s] for s in order}
    for status in order:
        for plan in by_status[status]:
            if status == "implementing":
                planner.implementing(plan)
            elif status in ("authorization", "scheduled"):
                planner.upcoming(plan)
            else:
                planner.draft(plan)
    for plan in plans:
        if plan.status in ("closed", "review", "rejected", "cancelled"):
            planner.past(plan)
    plans.sort(key=lambda p: (p.opened, p.kind))
    return plans
