"""Tickets: who and what each one is (type, priority from the matrix, service, team, SLA
policy), its story told by `story`, and the rows that story leaves: the ticket, its
comments and audit events, its SLA clocks and its measures."""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from itsm_tui.data.models import SLA_DUE_NEVER_TEXT
from itsm_tui.data.seed.catalogue import answers
from itsm_tui.data.seed.desk import DEFAULT_RESOLUTION, DEFAULT_RESPONSE
from itsm_tui.data.seed.escalations import (
    ESCALATION_COLUMNS,
    NOTICE_STAMPED,
    NOTIFICATION_COLUMNS,
    SweepWriter,
)
from itsm_tui.data.seed.fulfilment import (
    TASK_COLUMNS,
    TASK_STAMPED,
    PlannedRequest,
    plan_of,
    tell_planned_story,
)
from itsm_tui.data.seed.measures import TicketMeasures
from itsm_tui.data.seed.replay import DeskFacts, Promise, Replay, audit_rows
from itsm_tui.data.seed.sla import (
    CLOCK_COLUMNS,
    CLOCK_STAMPED,
    PolicyClocks,
    TicketClocks,
    text_of_micro,
)
from itsm_tui.data.seed.story import SeedTicket, tell_story
from itsm_tui.data.seed.texts import (
    INCIDENT_CATEGORIES,
    SERVICE_FAULTS,
    SYMPTOM_DETAIL,
)
from itsm_tui.desk.sla import UTC_24X7, standard_of
from itsm_tui.desk.tickets import major_incident_notice
from itsm_tui.domain.calendar import working_day_minutes
from itsm_tui.domain.workflow import NUMBER_PREFIX, TICKET_TYPES, WORKFLOWS, format_number

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder

# How many incidents a seeded problem is opened for (create_problem's list): one to three.
MOST_LINKED = 3
# The incidents of one title a problem may gather from: the most recent ones, within a
# month. Deep enough to reach past those still in hand or waiting for their automatic close
# (three days after resolution): an incident written after the link is not taken.
RECENT_PER_TITLE = 48
LINK_WINDOW = 30 * 24 * 3600
LATEST = 256

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

# The share of a planned item's draws that stay with it (see TicketWriter.write): with
# the default desk's six items, about one request in thirty is a new starter's, each a
# dozen writes with its steps, notices and replies (docs/catalogue.md, "Seed").
PLANNED_SHARE = 0.2

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
    "promised_at",
)
# Columns the rows below hold as seed seconds (BulkWriter.insert's `stamped`).
TICKET_STAMPED = (
    "approved_at",
    "opened_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
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


class TicketWriter:
    """Generates and writes tickets chunk by chunk; holds what every chunk draws from."""

    def __init__(self, run: Seeder) -> None:
        self.run = run
        desk, rng = run.desk, run.rng
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
        team_by_name = {t[1]: t[0] for t in desk.teams}
        # Items with a fulfilment plan, by id: their requests go step by step.
        self.plans = {
            item[0]: plan_of(item[2], item[9], item[8], team_by_name)
            for item in self.items
            if item[8] and (json.loads(item[8]) if isinstance(item[8], str) else item[8])
        }
        self.unplanned = [item for item in self.items if item[0] not in self.plans]
        self.day_minutes: dict[int, int] = {}
        self.forms: dict[int, str | None] = {}
        self.categories = list(INCIDENT_CATEGORIES)
        # Titles per (category, service): a few hundred distinct strings, reused by index.
        self.titles: dict[tuple[int, Any], list[str]] = {}
        for c, cat in enumerate(self.categories):
            for sid in self.service_ids:
                sname = self.service_names.get(sid, "desk") if sid else "desk"
                self.titles[(c, sid)] = [f"{sname}: {what}" for what in INCIDENT_CATEGORIES[cat]]
        everything = list(range(len(self.categories)))
        self.faults = {
            sid: [self.categories.index(k) for k in SERVICE_FAULTS[name]]
            if (name := self.service_names.get(sid)) in SERVICE_FAULTS
            else everything
            for sid in self.service_ids
        }
        self.descriptions = [f"{a} {b}" for a in SYMPTOM_DETAIL for b in SYMPTOM_DETAIL if a != b]
        self.created: dict[tuple[Any, ...], str] = {}
        self.policy_cache: dict[tuple[int, int, Any, Any], PolicyClocks | None] = {}
        # A problem is opened for recent incidents of its own service and title (as
        # desk.problems.create_problem links them): per (service, category, title), the
        # last few incidents with (id, number, last write, version, chunk, row in chunk).
        self.recent: dict[tuple[Any, int, int], deque[tuple[Any, ...]]] = {}
        # The last title seen per service, and the desk's latest incidents: where a problem
        # looks when its own title has no incident to link.
        self.last_title: dict[Any, tuple[Any, int, int]] = {}
        self.latest: deque[tuple[Any, ...]] = deque(maxlen=LATEST)
        self.linked: set[int] = set()
        # Incidents written in an earlier chunk that a problem linked: (problem id,
        # version, updated, id), applied once that chunk's rows are in.
        self.late_links: list[tuple[Any, ...]] = []
        rng.random()

    def created_text(self, tname: str, status: str, priority: int, team: Any, service: Any) -> str:
        """The new value of a ticket's "create" audit event (create_ticket's summary)."""
        key = (tname, status, priority, team, service)
        text = self.created.get(key)
        if text is None:
            text = self.created[key] = json.dumps(
                {
                    "type": tname,
                    "status": status,
                    "priority": f"P{priority}",
                    "team": self.run.teams.name[team] if team is not None else None,
                    "assignee": None,
                    "service": self.service_names.get(service),
                },
                ensure_ascii=False,
            )
        return text

    def policy_for(self, t: int, priority: int, service: Any, item: Any) -> PolicyClocks | None:
        key = (t, priority, service, item)
        try:
            return self.policy_cache[key]
        except KeyError:
            policy = self.run.sla.policy_for(
                TICKET_TYPES[t], priority, self.service_names.get(service), item
            )
            self.policy_cache[key] = policy
            return policy

    def form_of(self, item: tuple[Any, ...], opened: int, creator: int, service: Any) -> Any:
        """A request's form answers as JSON (seed.catalogue.answers): one text per item,
        unless a date or an agent in it depends on the request."""
        form = item[10]
        cached = self.forms.get(item[0])
        if cached is not None or not form:
            return cached
        run = self.run
        said = answers(
            form,
            run.clock.date_of(opened),
            run.staff.agent_name[creator],
            self.service_names.get(service),
        )
        text = json.dumps(said, ensure_ascii=False) if said else None
        if not any(f.get("kind") in ("date", "agent") for f in form if f.get("required")):
            self.forms[item[0]] = text
        return text

    def working_day(self, calendar_id: int) -> int:
        """fulfilment.working_day_of: the working day (minutes) of a policy's calendar."""
        day = self.day_minutes.get(calendar_id)
        if day is None:
            day = self.day_minutes[calendar_id] = working_day_minutes(
                self.run.sla.calendars[calendar_id]
            )
        return day

    def incidents_for(
        self, key: tuple[Any, int, int], opened: int, rnd: Any
    ) -> tuple[tuple[Any, int, int], list[tuple[Any, ...]]]:
        """The incidents a problem opened at `opened` is created for: one to three recent
        ones of its title, all written before it (their last write comes before the link).
        Its own title first; else the service's latest title; else the desk's latest
        incident, whose title the problem takes."""
        linked = self.linked
        for k in (key, self.last_title.get(key[0]), None):
            pool = self.recent.get(k) if k is not None else self.latest
            if not pool:
                continue
            want = 1 + int(rnd() * MOST_LINKED) if k is not None else 1
            chosen = []
            # Newest first: the newest are still in hand; the first quiet ones are taken.
            for e in reversed(pool):
                if e[2] < opened - LINK_WINDOW:
                    break
                if e[2] < opened and e[0] not in linked:
                    chosen.append(e)
                    if len(chosen) == want:
                        break
            if chosen:
                chosen.reverse()
                linked.update(e[0] for e in chosen)
                return (k or chosen[0][6]), chosen
        return key, []

    @staticmethod
    def major_notices(
        sweeps: SweepWriter, made: tuple[int, Any, Any, Any], tid: int, number: str, title: str
    ) -> None:
        """raise_major_incident's notices, in the write that made the incident major: to
        its team and to its assignee (unless they linked it themselves)."""
        at, actor, team, assignee = made
        message = major_incident_notice(number, title)
        told = [(None, team)] if team is not None else []
        if assignee is not None and assignee != actor:
            told.append((assignee, None))
        for agent, team_id in told:
            sweeps.notice(agent, team_id, tid, "major_incident", message, at)

    def link_incidents(
        self,
        replay: Replay,
        number: str,
        tid: int,
        linked: list[tuple[Any, ...]],
        lo: int,
        tickets: list[tuple[Any, ...]],
        audits: list[tuple[Any, ...]],
        aid: int,
    ) -> int:
        """create_problem's link, both ways: one version of the problem notes each incident;
        each incident gets the problem, a version and an audit event. An incident of this
        chunk is changed in its row before the insert; one written already, after it."""
        k = next(k for k, a in enumerate(replay.audit) if a[2] == "link")
        at, actor, _action, _field, _old, _new, version, _why = replay.audit[k]
        replay.audit[k + 1 : k + 1] = [
            (at, actor, "link", "incident", None, e[1], version, None) for e in linked[1:]
        ]
        for inc_id, inc_number, _last, inc_version, chunk, row, _key in linked:
            if chunk == lo:
                old = tickets[row]
                new = list(old)
                new[_PROBLEM_AT], new[_VERSION_AT], new[_UPDATED_AT] = tid, inc_version + 1, at
                tickets[row] = tuple(new)
            else:
                self.late_links.append((tid, inc_version + 1, at, inc_id))
            audits.append(
                (
                    aid,
                    at,
                    actor,
                    "ticket",
                    inc_id,
                    inc_number,
                    "link",
                    "problem",
                    None,
                    number,
                    inc_version + 1,
                    None,
                )
            )
            aid += 1
        return aid

    def write(self, lo: int, hi: int) -> None:
        run = self.run
        """Generate tickets lo..hi-1 with their history and write them in one go."""
        rng, clock, w = run.rng, run.clock, run.w
        rnd = rng.random
        expo = rng.expovariate
        ts = clock.text
        now = clock.now
        k = hi - lo
        pairs = rng.choices(self.pairs, weights=self.pair_weights, k=k)
        svcs = rng.choices(self.service_ids, weights=self.service_weights, k=k)
        teams = rng.choices(self.team_ids, weights=self.team_weights, k=k)
        matrix = run.desk.matrix
        team_agents = run.staff.team_agents
        requesters = run.staff.requesters
        n_req = len(requesters)
        items = self.items
        n_items = len(items)
        descriptions = self.descriptions
        n_desc = len(descriptions)
        categories = self.categories
        faults = self.faults
        titles = self.titles
        tid0 = run.ids["tickets"]
        base = clock.base.replace(tzinfo=UTC)
        opened_all = run.opened
        types = run.types
        majors, children = run.majors, run.children

        tickets: list[tuple[Any, ...]] = []
        comments: list[tuple[Any, ...]] = []
        audits: list[tuple[Any, ...]] = []
        clocks: list[tuple[Any, ...]] = []
        tasks: list[tuple[Any, ...]] = []
        plans = self.plans
        unplanned = self.unplanned
        measures = TicketMeasures(run)
        sweeps = SweepWriter(run.teams, now)
        sweeps.next_escalation = run.next_escalation - 1
        sweeps.next_notification = run.next_notification - 1
        facts = DeskFacts(
            agent_id={name: aid_ for aid_, name in run.staff.agent_name.items()},
            agent_team={a: team for team, pool in team_agents.items() for a in pool},
            met_by=run.sla.response_met_by,
            base=base,
        )
        cid, aid, kid = run.next_comment, run.next_audit, run.next_clock
        status_count = run.summary_status
        prio_count = run.summary_priority

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
                info = run.major_info.get(parent_index)
                if info is not None:
                    parent = info[0]
                    service = majors[parent_index][0]
            priority = matrix[impact - 1][urgency - 1]
            run.next_number[tname] += 1
            number = format_number(NUMBER_PREFIX[tname], run.next_number[tname])

            needs_approval = born_waiting = False
            form = None
            plan = None
            if t == 0:
                kinds = faults[service]
                c = kinds[int(rnd() * len(kinds))]
                category = categories[c]
                opts = titles[(c, service)]
                title_index = int(rnd() * len(opts))
                title = opts[title_index]
            elif t == 1 and n_items:
                item = items[int(rnd() * n_items)]
                if item[0] in plans and unplanned and rnd() >= PLANNED_SHARE:
                    # New starters are rarer than password resets, and each one is a
                    # dozen writes: most draws of a planned item go to another item.
                    item = unplanned[int(rnd() * len(unplanned))]
                category = item[3] or "request"
                title = item[2]
                if item[4] is not None:
                    team = item[4]
                if item[5] is not None:
                    service = item[5]
                born_waiting = item[6]
                plan = plans.get(item[0])
                # A planned item's requests wait for approval only when the item says so.
                needs_approval = item[6] or (plan is None and rnd() < 0.05)
            elif t == 1:
                category = "request"
                title = "General request"
                needs_approval = rnd() < 0.1
            else:
                kinds = faults[service]
                c = kinds[int(rnd() * len(kinds))]
                title_index = int(rnd() * 3) % len(titles[(c, service)])
                (service, c, title_index), linked = self.incidents_for(
                    (service, c, title_index), o, rnd
                )
                category = categories[c]
                title = titles[(c, service)][title_index]
                # create_problem's default title: "Recurring:" when it gathers several.
                if len(linked) > 1:
                    title = "Recurring: " + title
                team = self.problem_teams[int(rnd() * len(self.problem_teams))]
            description = descriptions[int(rnd() * n_desc)]
            pool = team_agents.get(team) or run.staff.all_agents
            assignee_pick = pool[int(rnd() * len(pool))]
            creator = pool[int(rnd() * len(pool))]
            if item is not None:
                form = self.form_of(item, o, creator, service)
            requester = requesters[int(rnd() * n_req)] if n_req else None
            if t == 2:
                requester = None  # a problem is the desk's own record (create_problem)
            policy = self.policy_for(t, priority, service, item[1] if item else None)
            resp_target = (
                policy.response if policy and policy.response else None
            ) or DEFAULT_RESPONSE[priority]
            # A request's resolution is its item's delivery standard (sla.target_of).
            standard = standard_of(tname, item[7]) if item is not None else None
            res_target = (
                standard
                or (policy.resolution if policy and policy.resolution else None)
                or (DEFAULT_RESOLUTION[priority] if t != 2 else 30 * 24 * 60)
            )

            policy_clocks = policy
            index = (
                run.indexes[policy_clocks.calendar_id]
                if policy_clocks is not None
                else run.always_open
            )
            tk = SeedTicket(
                index=i,
                tid=tid,
                t=t,
                tname=tname,
                opened=o,
                priority=priority,
                team=team,
                creator=creator,
                assignee_pick=assignee_pick,
                requester=requester,
                needs_approval=needs_approval,
                born_waiting=born_waiting,
                is_major=is_major,
                parent=parent,
                policy=policy,
                resp_target=resp_target,
                res_target=res_target,
                number=number,
                category=category,
            )
            if plan is None:
                tell_story(run, tk, rnd, expo, index)
            else:
                tell_planned_story(run, tk, plan, rnd, expo, index)
            ev, notes = tk.events, tk.notes
            if t == 2 and linked:
                # create_problem links its incidents in the same call, right after the create.
                ev.insert(1, (o, ev[0][1], "link", "incident", None, linked[0][1]))
            # Who runs a major incident links its incidents under it (link_ticket): the
            # first link makes it a major incident.
            made_major_at = run.made_major_at.get(i) if is_major else None
            if made_major_at is not None:
                ev.append((made_major_at, assignee_pick, "link", "is_major", "false", "true"))
            if parent is not None and i not in run.linked_at:
                parent = None  # its link falls after the seed's `now`
            if parent is not None:
                _major, _done, major_number, linker = run.major_info[children[i]]
                ev.append((run.linked_at[i], linker, "link", "parent", None, major_number))
            resolved = tk.resolved
            code, res_notes, reopen, s = tk.code, tk.res_notes, tk.reopen, tk.done_at

            # Comments are writes too: each one bumps the version and leaves an audit event.
            for at, author, kind, _body in notes:
                ev.append((at, author, "comment." + kind, "comment", None, kind))
            ev.sort(key=_first)
            # The story through the desk's rules: clocks, sweeps, escalations.
            ticket_clocks = (
                TicketClocks(
                    policy_clocks, index, tname, priority, o, tk.initial_status, kid, standard
                )
                if policy_clocks is not None
                else None
            )
            promise = planned = None
            if item is not None:
                # The calendar of the policy that times the request (fulfilment._promise).
                cal = run.sla.calendars[policy.calendar_id] if policy is not None else UTC_24X7
                promise = Promise(item[7], cal, base)
                if plan is not None:
                    planned = PlannedRequest(
                        plan,
                        number,
                        self.working_day(policy.calendar_id) if policy is not None else None,
                        run.teams.name,
                        run.staff.agent_name,
                    )
            ev[0] = (
                *ev[0][:5],
                self.created_text(tname, tk.initial_status, priority, team, service),
            )
            replay = Replay(tk, ticket_clocks, index, sweeps, facts, promise, planned)
            replay.run(now)
            if replay.made_major is not None:
                self.major_notices(sweeps, replay.made_major, tid, number, title)
            if t == 2 and linked:
                aid = self.link_incidents(replay, number, tid, linked, lo, tickets, audits, aid)
            # The story's comments as the replay wrote them (in time order, by whoever
            # carried the story then), and the desk's own replies.
            notes.sort(key=_first)
            said = [
                (at, author, kind, body)
                for (at, _story, kind, body), author in zip(notes, replay.authors, strict=True)
            ]
            if planned is not None:
                said += [(at, author, "reply", body) for at, author, body in planned.replies]
            if planned is not None or replay.comments:
                said += replay.comments
                said.sort(key=_first)
            for at, author, kind, body in said:
                comments.append((cid, tid, None, author, None, kind, body, at))
                cid += 1
            if planned is not None:
                tasks += planned.task_rows(tid)
                for team_id, at, message in planned.notices:
                    # Sent out when due, as the sweep's notices.
                    sweeps.notice(None, team_id, tid, "assignment", message, at)
            written = audit_rows(replay, aid)
            audits += written
            aid += len(written)
            state = replay.state
            status, team, assignee = state.status, state.team, state.assignee
            version, first_response = state.version, replay.first_response
            updated = replay.audit[-1][0]
            tk.first_response, tk.assignee = first_response, assignee

            is_open_flag = WORKFLOWS[tname].is_open(status)
            # An incident's problem is set when a later problem links it (incidents_for).
            problem_id = None
            if t == 2 and i in run.problem_article:
                # What the problem has recorded, and when: its article tells what was known
                # when it was written (knowledge.write_articles).
                run.article_facts[run.problem_article[i]] = (
                    number,
                    title,
                    category,
                    description,
                    (replay.root_cause_at, replay.root_cause),
                    (replay.workaround_at, replay.workaround),
                    (resolved, res_notes if resolved else ""),
                    assignee if assignee is not None else assignee_pick,
                )
            if is_major:
                run.major_info[i] = (tid, s, number, assignee_pick)
                _sv, o_start, o_end = majors[i]
                run.outage_rows.append((service, tid, o_start, o_end, assignee))

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
                state.priority,
                0,
                category,
                service,
                requester,
                team,
                assignee,
                creator,
                item[0] if item else None,
                form,
                replay.approved_by,
                replay.approved_at,
                parent,
                problem_id,
                # A problem's change and article point at it (create_change and
                # create_article with the problem), not it at them.
                None,
                None,
                1 if replay.made_major is not None else 0,
                replay.root_cause,
                replay.workaround,
                1 if replay.workaround_at is not None else 0,
                o,
                updated,
                first_response,
                resolved,
                replay.closed_at,
                code,
                res_notes,
                reopen,
                state.level,
                version,
            )
            status_count[(tname, status)] += 1
            prio_count[priority] += 1

            # Appended after its clocks, with the SLA sort key they give it.
            sla_due = SLA_DUE_NEVER_TEXT
            if ticket_clocks is not None:
                assert policy is not None
                clocks += [c.row(tid, policy.id, ts) for c in ticket_clocks.clocks]
                kid = ticket_clocks.next_id
                sla_due = ticket_clocks.sla_due(ts)
            promised = replay.promised_at
            tickets.append(
                (
                    *ticket_row,
                    sla_due,
                    None if promised is None else text_of_micro((promised - base) // _MICRO, ts),
                )
            )
            if t == 0:
                key = (service, c, title_index)
                pool = self.recent.get(key)
                if pool is None:
                    pool = self.recent[key] = deque(maxlen=RECENT_PER_TITLE)
                entry = (tid, number, updated, version, lo, len(tickets) - 1, key)
                pool.append(entry)
                self.latest.append(entry)
                self.last_title[service] = key
            measures.add(tk, rnd, expo)

        w.insert("tickets", TICKET_COLUMNS, tickets, TICKET_STAMPED)
        if self.late_links:
            w.executemany(
                "UPDATE tickets SET problem_id = ?, version = ?, updated_at = ? WHERE id = ?",
                [(p, v, ts(at), i) for p, v, at, i in self.late_links],
            )
            self.late_links = []
        w.insert("comments", COMMENT_COLUMNS, comments, ("created_at",))
        w.insert("audit_events", AUDIT_COLUMNS, audits, ("at",))
        w.insert("sla_clocks", CLOCK_COLUMNS, clocks, CLOCK_STAMPED)
        w.insert("fulfilment_tasks", TASK_COLUMNS, tasks, TASK_STAMPED)
        w.insert("escalations", ESCALATION_COLUMNS, sweeps.escalations, ("at",))
        w.insert("notifications", NOTIFICATION_COLUMNS, sweeps.notifications, NOTICE_STAMPED)
        run.next_escalation, run.next_notification = (
            sweeps.next_escalation + 1,
            sweeps.next_notification + 1,
        )
        measures.write()
        run.next_comment, run.next_audit, run.next_clock = cid, aid, kid


_MICRO = timedelta(microseconds=1)
_PROBLEM_AT = TICKET_COLUMNS.index("problem_id")
_VERSION_AT = TICKET_COLUMNS.index("version")
_UPDATED_AT = TICKET_COLUMNS.index("updated_at")


def _first(event: tuple[Any, ...]) -> Any:
    return event[0]
