"""Changes with their CAB votes, and knowledge articles: planned before the tickets (problems
link to them), written first, linked back to their problems once those exist."""

from __future__ import annotations

import bisect
import json
from typing import TYPE_CHECKING

from itsm_tui.data.seed.texts import (
    CHANGE_TITLES,
    INCIDENT_CATEGORIES,
    KB_TAGS,
    ROOT_CAUSES,
    SYMPTOM_DETAIL,
    WORKAROUNDS,
)
from itsm_tui.data.seed.tickets import AUDIT_COLUMNS
from itsm_tui.data.seed.timeline import DAY, HOUR, MINUTE
from itsm_tui.domain.workflow import CHANGE_OUTCOMES, CHANGE_TYPES, CHANGE_WORKFLOW, format_number

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder


def plan_changes(run: Seeder) -> None:
    rng, clock = run.rng, run.clock
    count = max(40, min(400, run.n // 2500))
    statuses = CHANGE_WORKFLOW.statuses
    weights = {
        "draft": 3,
        "assessment": 4,
        "authorization": 6,
        "scheduled": 13,
        "implementing": 2,
        "review": 5,
        "closed": 55,
        "rejected": 4,
        "cancelled": 4,
    }
    chosen = list(statuses) + rng.choices(
        statuses, weights=[weights.get(s, 1) for s in statuses], k=count - len(statuses)
    )
    problems = [i for i in range(run.n) if run.types[i] == 2]
    problem_opened = [run.opened[i] for i in problems]
    run.changes = []
    run.problem_change = {}
    cid = run.ids["changes"]
    number = run.seq["CHG"]
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
            if problem_index in run.problem_change:
                problem_index = None
        if problem_index is not None:
            run.problem_change[problem_index] = cid
        run.changes.append(
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
    run.seq["CHG"] = number


def plan_articles(run: Seeder) -> None:
    rng, clock = run.rng, run.clock
    run.articles = []
    run.problem_article = {}
    kid = run.ids["knowledge_articles"]
    number = run.seq["KB"]
    old_problems = [
        i for i in range(run.n) if run.types[i] == 2 and run.opened[i] < clock.now - 7 * DAY
    ]
    chosen = [i for i in old_problems if rng.random() < 0.5][:3000]
    general = [None] * 10
    for index in [*chosen, *general]:
        if index is None:
            created = rng.randrange(clock.start, clock.now)
        else:
            created = min(clock.now - HOUR, run.opened[index] + rng.randrange(DAY, 7 * DAY))
        number += 1
        if index is not None:
            run.problem_article[index] = kid
        run.articles.append(
            {
                "id": kid,
                "number": format_number("KB", number),
                "created": created,
                "index": index,
            }
        )
        kid += 1
    run.seq["KB"] = number


def write_changes(run: Seeder) -> None:
    rng, clock, w = run.rng, run.clock, run.w
    ts = clock.text
    rows = []
    approvals = []
    audits = []
    aid = run.ids["change_approvals"]
    services = [s[1] for s in run.desk.services]
    teams = [t[0] for t in run.desk.teams]
    cab = run.staff.cab or run.staff.change_managers
    done = CHANGE_WORKFLOW.done
    for ch in run.changes:
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
        owner = run.staff.change_managers[0]
        requester = run.staff.all_agents[rng.randrange(len(run.staff.all_agents))]
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
                elif status == "authorization" and k >= quorum - 1:
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
    run.pending_change_audits = audits


def write_articles(run: Seeder) -> None:
    rng, ts = run.rng, run.clock.text
    rows = []
    author_pool = run.staff.all_agents
    for art in run.articles:
        tag = KB_TAGS[rng.randrange(len(KB_TAGS))]
        title = f"How to fix: {INCIDENT_CATEGORIES.get(tag, ('a recurring ' + tag + ' fault',))[0]}"
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
    run.w.insert(
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


def write_links(run: Seeder) -> None:
    """Back-links from changes and articles to the problems now that those exist."""
    tid0 = run.ids["tickets"]
    run.w.executemany(
        "UPDATE changes SET problem_id = ? WHERE id = ?",
        [
            (tid0 + c["problem_index"], c["id"])
            for c in run.changes
            if c["problem_index"] is not None
        ],
    )
    run.w.executemany(
        "UPDATE knowledge_articles SET problem_id = ? WHERE id = ?",
        [(tid0 + a["index"], a["id"]) for a in run.articles if a["index"] is not None],
    )
    ts = run.clock.text
    audit_id = run.next_audit
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
    ) in run.pending_change_audits:
        rows.append(
            (audit_id, ts(at), actor, rtype, rid, number, action, fld, old, new, version, None)
        )
        audit_id += 1
    run.w.insert("audit_events", AUDIT_COLUMNS, rows)
    run.next_audit = audit_id
