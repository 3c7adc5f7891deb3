"""Changes with their CAB votes: planned before the tickets (some are raised for a problem
opened before them), written first, and the incidents failed changes caused linked after
the tickets are written.

Each change's row, ballots and audit events are its story as the desk's change functions
would have written it (see change_story); where and when it runs, change_plans decides.
"""

from __future__ import annotations

import bisect
import json
import random
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from itsm_tui.data.seed import change_story as desk_call
from itsm_tui.data.seed.change_desk import ChangeDesk, stored_instant
from itsm_tui.data.seed.change_plans import Plan
from itsm_tui.data.seed.change_plans import plan_changes as place_changes
from itsm_tui.data.seed.change_story import Story
from itsm_tui.data.seed.texts import (
    APPROVAL_COMMENTS,
    BACKOUT_PLANS,
    CANCEL_REASONS,
    CHANGE_REVIEWS,
    IMPLEMENTATION_PLANS,
    LESSONS_LEARNED,
    OVERRIDE_REASONS,
    REJECTION_REASONS,
    TEST_PLANS,
)
from itsm_tui.data.seed.tickets import AUDIT_COLUMNS
from itsm_tui.data.seed.timeline import DAY, HOUR, MINUTE
from itsm_tui.domain import change_risk, roles
from itsm_tui.domain.change_process import review_required, within_review
from itsm_tui.domain.workflow import CHANGE_WORKFLOWS, format_number
from itsm_tui.i18n import _

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder

# Of the changes that ran: how many caused an incident the desk linked to them.
CAUSED_WHEN_FAILED = 0.5
CAUSED_WHEN_SUCCESSFUL = 0.015
# Where a cancelled change was withdrawn, by type.
CANCELLED_FROM = {
    "standard": ("draft", "scheduled"),
    "normal": ("draft", "assessment", "authorization", "scheduled"),
    "emergency": ("draft", "authorization", "scheduled"),
}
CHANGE_COLUMNS = (
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
    "risk_reasons",
    "impact",
    "services",
    "team_id",
    "owner_id",
    "requested_by_id",
    "problem_id",
    "implementer_id",
    "template",
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
    "schedule_overrides",
    "submitted_at",
    "authorized_at",
    "reviewed_at",
    "opened_at",
    "updated_at",
    "closed_at",
    "version",
)
JSON_FIELDS = ("risk_answers", "risk_reasons", "services", "schedule_overrides")


def plan_changes(run: Seeder) -> None:
    """Place every change in time and link some to problems opened before them."""
    run.change_desk = cd = ChangeDesk(run.w, run.clock)
    # Their own random stream, seeded by one draw from the shared one: how many changes a
    # seed has does not alter its tickets.
    run.change_rng = rng = random.Random(run.rng.getrandbits(32))
    plans = place_changes(run, cd)
    problems = [i for i in range(run.n) if run.types[i] == 2]
    problem_opened = [run.opened[i] for i in problems]
    run.changes = []
    run.problem_change = {}
    cid = run.ids["changes"]
    number = run.seq["CHG"]
    for plan in plans:
        number += 1
        plan.id, plan.number = cid, format_number("CHG", number)
        before = bisect.bisect_left(problem_opened, plan.opened)
        if plan.kind != "standard" and before and rng.random() < 0.3:
            index = problems[rng.randrange(before)]
            if index not in run.problem_change:
                plan.problem_index = index
                run.problem_change[index] = cid
        run.changes.append({"id": cid, "problem_index": plan.problem_index, "plan": plan})
        cid += 1
    run.seq["CHG"] = number


class Teller:
    """Tells each planned change's story through the desk's calls (change_story)."""

    def __init__(self, run: Seeder) -> None:
        self.run, self.rng = run, run.change_rng
        self.cd: ChangeDesk = run.change_desk
        self.now = run.clock.now
        managers = self.cd.with_role(roles.CHANGE_MANAGER)
        self.managers = managers or [a for a in self.cd.agents if "admin" in a.roles]
        self.team = {a.id: a.team_id for a in self.cd.agents}
        self.majors: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for service_id, start, end in run.majors.values():
            self.majors[service_id].append((start, end))

    def pick(self, texts: tuple[str, ...]) -> str:
        return texts[self.rng.randrange(len(texts))]

    def fields(self, plan: Plan) -> dict[str, Any]:
        """The record as create_change builds it, before its first audit event."""
        cd, rng = self.cd, self.rng
        recipe = cd.templates.get(plan.template or "") if plan.template else None
        k = rng.randrange(len(IMPLEMENTATION_PLANS))
        return {
            "title": plan.title,
            "description": recipe.get("description", "")
            if recipe
            else (f"{plan.title} on {', '.join(plan.services)}; the owners are informed."),
            "change_type": plan.kind,
            "category": plan.category,
            "status": "draft",
            "is_open": True,
            "risk": recipe["risk"] if recipe else None,
            "risk_score": None,
            "risk_answers": None,
            "risk_reasons": [
                {
                    "source": "template",
                    "key": plan.template,
                    "level": recipe["risk"],
                    "text": _("pre-approved template {name}").format(name=plan.template),
                }
            ]
            if recipe
            else None,
            "impact": rng.choice((1, 2, 2, 3, 3)),
            "services": list(plan.services),
            "team_id": self.team.get(plan.owner),
            "owner_id": plan.owner,
            "requested_by_id": plan.owner,
            "implementer_id": plan.implementer,
            "template": plan.template,
            "planned_start": None,
            "planned_end": None,
            "actual_start": None,
            "actual_end": None,
            "implementation_plan": recipe.get("implementation_plan", "")
            if recipe
            else IMPLEMENTATION_PLANS[k],
            "backout_plan": recipe.get("backout_plan", "") if recipe else BACKOUT_PLANS[k],
            "test_plan": recipe.get("test_plan", "") if recipe else TEST_PLANS[k],
            "quorum": 1,
            "outcome": None,
            "review_notes": "",
            "lessons_learned": "",
            "schedule_overrides": None,
            "submitted_at": None,
            "authorized_at": None,
            "reviewed_at": None,
            "opened_at": cd.at(plan.opened),
            "updated_at": cd.at(plan.opened),
            "closed_at": None,
        }

    def answers(self, plan: Plan, critical: bool) -> dict[str, str]:
        """Questionnaire answers: mostly the mild ones, heavier for emergencies."""
        rng = self.rng
        out = {}
        for question in self.cd.questionnaire.get("questions", ()):
            offered = [a["value"] for a in question["answers"]]
            if question["id"] == "critical_service" and set(offered) >= {"yes", "no"}:
                out[question["id"]] = "yes" if critical else "no"
                continue
            heavy = 2 if plan.kind == "emergency" else 1
            weights = [max(1, len(offered) - i * 2 + heavy * i) for i in range(len(offered))]
            out[question["id"]] = rng.choices(offered, weights)[0]
        return out

    def risk(self, plan: Plan, t: int) -> tuple[dict[str, str], change_risk.RiskResult]:
        """assess_change's level: the answers and the rules' facts at time t."""
        cd = self.cd
        desk = cd.schedule
        critical = sorted(desk.impacted(plan.services) & cd.critical)
        outside: list[str] = []
        if plan.start is not None and plan.end is not None:
            outside = cd.outside_maintenance(plan.services, plan.start, plan.end)
        # A service with an outage (its major incident open) at the time of assessment.
        majors = sorted(
            name
            for name in plan.services
            if any(start <= t < end for start, end in self.majors.get(cd.service_ids.get(name), ()))
        )
        facts = change_risk.RiskFacts(
            critical_services=tuple(critical),
            has_backout_plan=True,
            outside_maintenance=tuple(outside),
            major_incident_services=tuple(majors),
        )
        answers = self.answers(plan, bool(critical))
        return answers, change_risk.assess(cd.questionnaire, answers, facts)

    def tell(self, plan: Plan) -> Story:
        rng, cd, now = self.rng, self.cd, self.now
        at = cd.at
        story = Story(plan.id, plan.number, self.fields(plan))
        final, kind, owner = plan.status, plan.kind, plan.owner
        window = (at(plan.start), at(plan.end)) if plan.start is not None and plan.end else None
        overridden = bool(plan.overrides) and window is not None
        cancel_from = self.pick(CANCELLED_FROM[kind]) if final == "cancelled" else None
        if cancel_from is not None and window is None:
            cancel_from = "draft"
        stop = cancel_from or final
        # Before implementation every step falls between opening and the window (or now).
        deadline = min(plan.start if plan.start is not None else now, now)
        gap = max(10 * MINUTE, deadline - plan.opened)

        def t(share: float) -> int:
            return plan.opened + max(1, int(gap * share))

        desk_call.create(
            story, at(plan.opened), owner, plan.problem_index, None if overridden else window
        )
        if overridden and window is not None:
            manager = self.managers[rng.randrange(len(self.managers))]
            desk_call.schedule(
                story,
                at(t(0.05)),
                manager.username,
                manager.id,
                window,
                plan.overrides,
                self.pick(OVERRIDE_REASONS),
            )
        late: list[Any] = []
        if stop != "draft":
            late = self.gates(story, plan, stop, t)
        status = story.f["status"]
        if cancel_from is not None:
            if CHANGE_WORKFLOWS[kind].can_move(status, "cancelled"):
                desk_call.cancel(story, at(t(0.97)), owner, self.pick(CANCEL_REASONS))
        elif final in ("implementing", "review", "closed") and status in (
            "scheduled",
            "authorization",
        ):
            self.implement(story, plan, late)
        plan.status = story.f["status"]
        return story

    def gates(self, story: Story, plan: Plan, stop: str, t: Any) -> list[Any]:
        """Submit, assess and the CAB's vote, as far as `stop` goes; the CAB members still
        to approve an emergency change that starts after the first approval."""
        rng, cd, at = self.rng, self.cd, self.cd.at
        kind, owner = plan.kind, plan.owner
        if kind == "standard":
            desk_call.submit(story, at(t(0.2)), owner, "scheduled", None)
            return []
        if kind == "normal":
            desk_call.submit(story, at(t(0.1)), owner, "assessment", None)
            if stop == "assessment":
                if rng.random() < 0.5:
                    answers, result = self.risk(plan, t(0.3))
                    desk_call.assess(story, at(t(0.3)), owner, answers, result)
                return []
            answers, result = self.risk(plan, t(0.2))
            desk_call.assess(story, at(t(0.2)), owner, answers, result)
        else:
            answers, result = self.risk(plan, t(0.1))
            desk_call.assess(story, at(t(0.1)), owner, answers, result)
        voters = [m for m in cd.cab(kind) if m.id != owner]
        needed = cd.approvals_needed(kind, result.level)
        if needed > len(voters):
            # The desk refuses the submission: it waits where it is.
            return []
        desk_call.submit(story, at(t(0.3)), owner, "authorization", needed)
        desk_call.open_ballots(story, [v.id for v in voters])
        order = rng.sample(voters, len(voters))
        late: list[Any] = []
        if stop in ("authorization", "rejected"):
            approving = rng.randrange(needed)
        elif (
            kind == "emergency"
            and stop in ("implementing", "review", "closed")
            and needed > 1
            and rng.random() < 0.5
        ):
            # An emergency change may start once one member approved; the rest follow.
            approving, late = 1, order[1:needed]
        else:
            approving = needed
        for i, voter in enumerate(order[:approving]):
            desk_call.approve(
                story,
                at(t(0.35 + 0.5 * i / needed)),
                voter.id,
                voter.username,
                self.pick(APPROVAL_COMMENTS),
                i + 1,
            )
        if stop == "rejected":
            voter = order[approving]
            desk_call.reject(
                story, at(t(0.9)), voter.id, voter.username, self.pick(REJECTION_REASONS)
            )
        return late

    def implement(self, story: Story, plan: Plan, late: list[Any]) -> None:
        """Start, the late approvals, complete with the outcome, review and close."""
        rng, cd, now = self.rng, self.cd, self.now
        at = cd.at
        assert plan.start is not None and plan.end is not None
        worker = plan.implementer or plan.owner
        started = min(plan.start + rng.randrange(0, 10) * MINUTE, now - MINUTE)
        desk_call.start(story, at(started), worker)
        outcome = plan.outcome or "successful"
        ended = plan.end + rng.randrange(-20, 21) * MINUTE
        if outcome == "backed_out":
            ended += rng.randrange(0, 60) * MINUTE
        ended = max(started + 10 * MINUTE, min(ended, now - MINUTE))
        votes_until = now if plan.status == "implementing" else ended
        for i, voter in enumerate(late):
            when = started + (votes_until - started) * (i + 1) // (len(late) + 1)
            desk_call.approve(
                story, at(when), voter.id, voter.username, self.pick(APPROVAL_COMMENTS), i + 2
            )
        if plan.status == "implementing":
            return
        desk_call.complete(story, at(ended), worker, outcome)
        kind = plan.kind
        required = review_required(
            kind, outcome, type_requires=bool(cd.types.get(kind, {}).get("review_required"))
        )
        last = ended
        wants_review = required or rng.random() < 0.3
        if plan.status == "review":
            wants_review = rng.random() < 0.4 and now - ended > 2 * HOUR
        if wants_review:
            last = min(now - 2 * MINUTE, ended + rng.randrange(HOUR, DAY))
            desk_call.review(
                story,
                at(last),
                plan.owner,
                self.pick(CHANGE_REVIEWS[outcome]),
                self.pick(LESSONS_LEARNED[outcome]),
            )
        if plan.status == "closed" and (not required or wants_review):
            closing = min(now - MINUTE, last + rng.randrange(HOUR, DAY))
            desk_call.close(story, at(max(closing, last + MINUTE)), plan.owner)


def write_changes(run: Seeder) -> None:
    """Each change's story: its row, its ballots; the audit events wait for write_links
    (a creation note names the problem, whose number the tickets give)."""
    teller = Teller(run)
    cd, ts = teller.cd, run.clock.text
    rows = []
    ballots = []
    aid = run.ids["change_approvals"]
    for entry in run.changes:
        plan: Plan = entry["plan"]
        story = teller.tell(plan)
        entry["story"] = story
        f = story.f
        row: list[Any] = [story.id, story.number]
        for column in CHANGE_COLUMNS[2:]:
            if column == "version":
                value = story.version
            elif column == "problem_id":
                value = None  # set once the tickets exist
            else:
                value = f.get(column)
            if isinstance(value, datetime):
                value = ts(cd.seconds(value))
            elif column in JSON_FIELDS and value is not None:
                value = json.dumps(value, ensure_ascii=False)
            elif isinstance(value, bool):
                value = 1 if value else 0
            row.append(value)
        rows.append(tuple(row))
        for voter, decision, decided, comment in story.ballots.values():
            decided_text = ts(cd.seconds(decided)) if decided is not None else None
            ballots.append((aid, story.id, voter, decision, decided_text, comment))
            aid += 1
    run.w.insert("changes", CHANGE_COLUMNS, rows)
    run.w.insert(
        "change_approvals",
        ("id", "change_id", "approver_id", "decision", "decided_at", "comment"),
        ballots,
    )


def _caused_incidents(run: Seeder) -> list[tuple[Story, int, int]]:
    """(change, incident index, linked at): an incident opened while a change ran or in
    the days after, for half the failed or backed-out changes and a few successful ones."""
    rng, now = run.change_rng, run.clock.now
    incidents = [i for i in range(run.n) if run.types[i] == 0]
    opened = [run.opened[i] for i in incidents]
    taken: set[int] = set()
    out = []
    for entry in run.changes:
        story: Story = entry["story"]
        f = story.f
        if f.get("outcome") is None or f.get("actual_end") is None:
            continue
        chance = CAUSED_WHEN_SUCCESSFUL if f["outcome"] == "successful" else CAUSED_WHEN_FAILED
        if rng.random() >= chance:
            continue
        cd: ChangeDesk = run.change_desk
        began = cd.seconds(f["actual_start"])
        ended = cd.seconds(f["actual_end"])
        k = bisect.bisect_left(opened, began + rng.randrange(0, max(1, ended - began + DAY)))
        while k < len(opened) and incidents[k] in taken:
            k += 1
        if k >= len(opened) or opened[k] > now - HOUR:
            continue
        taken.add(incidents[k])
        out.append((story, incidents[k], opened[k]))
    return out


def write_links(run: Seeder) -> None:
    """Back-links from changes and articles to the problems now that those exist; the
    incidents changes caused, on both sides; every change's audit events."""
    w, ts = run.w, run.clock.text
    cd: ChangeDesk = run.change_desk
    tid0 = run.ids["tickets"]
    w.executemany(
        "UPDATE changes SET problem_id = ? WHERE id = ?",
        [
            (tid0 + c["problem_index"], c["id"])
            for c in run.changes
            if c["problem_index"] is not None
        ],
    )
    caused = _caused_incidents(run)
    wanted = [tid0 + c["problem_index"] for c in run.changes if c["problem_index"] is not None]
    wanted += [tid0 + index for _story, index, _at in caused]
    tickets: dict[int, tuple[str, Any, int, Any]] = {}
    for lo in range(0, len(wanted), 500):
        ids = ",".join(str(int(i)) for i in wanted[lo : lo + 500])
        for tid, number, updated, version, change_id in w.rows(
            f"SELECT id, number, updated_at, version, change_id FROM tickets WHERE id IN ({ids})"
        ):
            tickets[int(tid)] = (str(number), updated, int(version), change_id)
    problems = {
        c["problem_index"]: tickets[tid0 + c["problem_index"]][0]
        for c in run.changes
        if c["problem_index"] is not None and tid0 + c["problem_index"] in tickets
    }
    links = []
    ticket_updates = []
    ticket_events: list[tuple[Any, ...]] = []
    for story, index, incident_opened in caused:
        tid = tid0 + index
        if tid not in tickets:
            continue
        number, updated, version, change_id = tickets[tid]
        f = story.f
        # After both records' last write: the versions keep their order in time.
        linked = (
            max(cd.seconds(stored_instant(updated)), cd.seconds(f["updated_at"]))
            + run.change_rng.randrange(5, 120) * MINUTE
        )
        if linked >= run.clock.now:
            continue
        actor = f["implementer_id"] or f["owner_id"]
        desk_call.link(story, cd.at(linked), actor, number)
        review_days = cd.rule(f["change_type"], "review_days")
        inside = within_review(f["actual_end"], cd.at(incident_opened), review_days)
        links.append((story.id, tid, ts(linked), actor, 1 if inside else 0))
        w.execute(
            "UPDATE changes SET version = ?, updated_at = ? WHERE id = ?",
            (story.version, ts(linked), story.id),
        )
        if change_id is None:
            ticket_updates.append((story.id, version + 1, ts(linked), tid))
            ticket_events.append(
                (
                    linked,
                    actor,
                    "ticket",
                    tid,
                    number,
                    "link",
                    "change",
                    None,
                    story.number,
                    version + 1,
                    None,
                )
            )
    w.insert(
        "change_caused_incidents",
        ("change_id", "ticket_id", "linked_at", "linked_by_id", "within_review"),
        links,
    )
    w.executemany(
        "UPDATE tickets SET change_id = ?, version = ?, updated_at = ? WHERE id = ?",
        ticket_updates,
    )
    audit_id = run.next_audit
    rows = []
    for entry in run.changes:
        for at, actor, rtype, rid, number, action, fld, old, new, version, reason in entry[
            "story"
        ].events:
            if callable(new):
                new = new(problems)
            rows.append(
                (
                    audit_id,
                    ts(cd.seconds(at)),
                    actor,
                    rtype,
                    rid,
                    number,
                    action,
                    fld,
                    old,
                    new,
                    version,
                    reason,
                )
            )
            audit_id += 1
    for at, actor, rtype, rid, number, action, fld, old, new, version, reason in ticket_events:
        rows.append(
            (audit_id, ts(at), actor, rtype, rid, number, action, fld, old, new, version, reason)
        )
        audit_id += 1
    w.insert("audit_events", AUDIT_COLUMNS, rows)
    run.next_audit = audit_id
