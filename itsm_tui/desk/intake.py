"""Alerts from monitoring into incidents: deliveries kept as received, then worked through
the desk's own writes in batches (one transaction per batch).

A fingerprint feeds one incident while that incident is open; repeats and resends add
nothing; a resolved alert adds a work note, ends the service's outage and (per [intake])
resolves the incident; alerts of one sender group can gather under a major incident.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from itsm_tui.config.intake import IntakeSettings
from itsm_tui.config.readers import intake_settings
from itsm_tui.data.models import (
    Agent,
    Alert,
    AlertDelivery,
    AlertGroup,
    Outage,
    Service,
    Team,
    Ticket,
)
from itsm_tui.desk.bulk_incidents import (
    IncidentDraft,
    OutageDraft,
    link_under,
    open_incidents,
    record_outages,
)
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.measures import end_outage, record_outage
from itsm_tui.desk.records import audit_value, get_agent, require
from itsm_tui.desk.tickets import add_comment, create_ticket, resolve_ticket
from itsm_tui.domain.alerts import FIRING, RESOLVED, AlertBatch, IncomingAlert
from itsm_tui.domain.workflow import INCIDENT
from itsm_tui.i18n import _

log = logging.getLogger("itsm.intake")

# Deliveries one transaction works through, and the alerts it stops after.
BATCH_DELIVERIES = 200
BATCH_ALERTS = 1_000
# Deliveries whose alerts' latest state is read in one query.
LOOK_UP_DELIVERIES = 20
# One worker at a time on PostgreSQL (SQLite's writer lock already orders them): a fixed
# advisory-lock key, "itsm" "in".
_WORKER_LOCK = 0x6974_736D_696E


@dataclass
class IntakeReport:
    """What one batch did; `waiting` names why deliveries were left waiting, if they were."""

    deliveries: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    waiting: str | None = None


def keep_deliveries(session: Session, batches: Sequence[tuple[AlertBatch, datetime]]) -> None:
    """Store received requests as they are, in one statement: what a 2xx answer promises."""
    if not batches:
        return
    session.execute(
        insert(AlertDelivery),
        [
            {
                "received_at": received_at,
                "source": batch.source,
                "payload": batch.to_text(),
                "alert_count": len(batch.alerts),
                "processed_at": None,
                "outcome": "",
            }
            for batch, received_at in batches
        ],
    )


def waiting_deliveries(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AlertDelivery)
            .where(AlertDelivery.processed_at.is_(None))
        )
        or 0
    )


def work_through_deliveries(
    session: Session, now: datetime, *, enough: Callable[[int], bool] | None = None
) -> IntakeReport:
    """One batch of waiting deliveries, oldest first, through the desk; each delivery marked
    with what became of it. Nothing is marked when the intake cannot act (no [intake], its
    agent gone): the deliveries wait for the desk file to be fixed.

    `enough`, asked between deliveries with the number of incidents waiting to be opened,
    ends the batch early: SQLite has one writer, and the receiving side must not wait behind
    a long batch."""
    report = IntakeReport()
    if session.get_bind().dialect.name == "postgresql" and not session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _WORKER_LOCK}
    ):
        report.waiting = _("another worker is taking alerts in")
        return report
    rows = session.scalars(
        select(AlertDelivery)
        .where(AlertDelivery.processed_at.is_(None))
        .order_by(AlertDelivery.processed_at, AlertDelivery.id)
        .limit(BATCH_DELIVERIES)
    ).all()
    if not rows:
        return report
    settings = intake_settings(session)
    if settings is None:
        report.waiting = _("the desk file has no [intake] section; alerts wait until it has")
        return report
    try:
        actor = get_agent(session, settings.agent)
        if not actor.active:
            raise DeskError(_("agent '{name}' is inactive").format(name=actor.username))
        require(actor, "ticket.work", _("open incidents from alerts"))
        require(actor, "outage.record", _("record outages from alerts"))
    except DeskError as exc:
        report.waiting = _("[intake] agent: {why}; alerts wait until it can act").format(why=exc)
        return report
    intake = _Intake(session, actor, settings, now)
    taken: list[tuple[AlertDelivery, AlertBatch]] = []
    alerts = 0
    for row in rows:
        if alerts and alerts + row.alert_count > BATCH_ALERTS:
            break
        alerts += row.alert_count
        taken.append((row, AlertBatch.from_text(row.source, row.payload)))
    worked: list[tuple[AlertDelivery, _Outcome]] = []
    for index, (row, batch) in enumerate(taken):
        # Asked with the incidents this batch has yet to open (its costly part).
        if worked and enough and enough(len(intake.waiting)):
            break
        if index % LOOK_UP_DELIVERIES == 0:
            # The next deliveries' fingerprints at once: a batch cut short by `enough` has
            # read little it did not use.
            ahead = taken[index : index + LOOK_UP_DELIVERIES]
            intake.look_up({a.fingerprint for _row, b in ahead for a in b.alerts})
        # A delivery kept after this batch's clock was read is still taken at or after it
        # was received: its alerts' times are never "in the future" of their own intake.
        intake.now = max(now, row.received_at)
        outcome = _Outcome()
        for alert in batch.alerts:
            try:
                outcome.done[intake.take(alert, batch.group_key, row.received_at, outcome)] += 1
            except DeskError as exc:
                outcome.refuse(alert.fingerprint, exc)
        row.processed_at = intake.now
        worked.append((row, outcome))
    # The batch's new incidents, opened together (the desk's bulk path).
    intake.open_waiting()
    for row, outcome in worked:
        row.outcome = "; ".join(
            [", ".join(f"{k} {n}" for k, n in sorted(outcome.done.items())), *outcome.refusals]
        )[:10_000]
        report.deliveries += 1
        report.outcomes.update(outcome.done)
        report.refused.extend(outcome.refusals)
    session.flush()
    return report


@dataclass
class _Outcome:
    """What became of one delivery's alerts."""

    done: Counter[str] = field(default_factory=Counter)
    refusals: list[str] = field(default_factory=list)

    def refuse(self, fingerprint: str, why: Exception) -> None:
        self.done["refused"] += 1
        self.refusals.append(f"{fingerprint}: {why}")


@dataclass
class _Waiting:
    """A firing alert whose incident opens with the batch's others."""

    alert: IncomingAlert
    group_key: str | None
    received_at: datetime
    now: datetime
    last_seen_at: datetime
    outcome: _Outcome


def _group_hash(group_key: str) -> str:
    return hashlib.sha256(group_key.encode("utf-8")).hexdigest()


class _Intake:
    """One batch's alerts through the desk, as the [intake] agent."""

    def __init__(
        self, session: Session, actor: Agent, settings: IntakeSettings, now: datetime
    ) -> None:
        self.session = session
        self.actor = actor
        self.settings = settings
        self.now = now
        # The latest alert of each fingerprint the batch names (look_up), kept current.
        self.latest: dict[str, Alert] = {}
        # Firing alerts whose incidents open together, by fingerprint.
        self.waiting: dict[str, _Waiting] = {}
        self._records: dict[tuple[type, str], object] = {}
        self._held: list[Ticket] = []

    def look_up(self, fingerprints: set[str]) -> None:
        """Read the latest alert of each fingerprint (and its open incident) at once."""
        # Those already known are current in this session (opened or changed by the batch).
        found = sorted(f for f in fingerprints if f not in self.latest and f not in self.waiting)
        for start in range(0, len(found), 500):
            part = found[start : start + 500]
            for alert in self.session.scalars(
                select(Alert).where(Alert.fingerprint.in_(part)).order_by(Alert.id)
            ):
                self.latest[alert.fingerprint] = alert
        ticket_ids = sorted(
            {
                a.ticket_id
                for f in found
                if (a := self.latest.get(f)) is not None and a.open_fingerprint is not None
            }
        )
        for start in range(0, len(ticket_ids), 500):
            # Held here, so the session's (weak) identity map keeps them: take() finds them
            # with session.get and no query.
            self._held.extend(
                self.session.scalars(
                    select(Ticket).where(Ticket.id.in_(ticket_ids[start : start + 500]))
                )
            )

    def take(
        self,
        alert: IncomingAlert,
        group_key: str | None,
        received_at: datetime,
        outcome: _Outcome,
    ) -> str:
        """Apply one alert; returns what it did: opened, refired, repeat, resolved, unknown.
        A new incident waits to be opened with the batch's others (open_waiting)."""
        waiting = self.waiting.get(alert.fingerprint)
        if waiting is not None:
            if alert.status != RESOLVED:
                waiting.last_seen_at = self.now
                return "repeat"
            self.open_waiting()  # it resolves what it opened: open it first
        latest = self.latest.get(alert.fingerprint)
        if latest is not None and latest.open_fingerprint is not None:
            ticket = self.session.get(Ticket, latest.ticket_id)
            if ticket is None or not ticket.is_open:
                # Its incident was resolved or closed: the fingerprint is free for a new one.
                latest.open_fingerprint = None
                self.session.flush()
        if alert.status == RESOLVED:
            with self.session.begin_nested():
                return self._resolve(alert, latest)
        if latest is not None and latest.status == RESOLVED:
            if latest.starts_at == alert.starts_at:
                return "repeat"  # a resend of what has already cleared
            if latest.open_fingerprint is not None:
                with self.session.begin_nested():
                    return self._refire(alert, latest)
        elif latest is not None and latest.open_fingerprint is not None:
            latest.last_seen_at = self.now
            return "repeat"
        self.waiting[alert.fingerprint] = _Waiting(
            alert, group_key, received_at, self.now, self.now, outcome
        )
        return "opened"

    # -- firing

    def open_waiting(self) -> None:
        """Open the waiting alerts' incidents through the desk's bulk path: the tickets,
        their outages, the alerts, then each group's major incident."""
        waiting = list(self.waiting.values())
        self.waiting.clear()
        if not waiting:
            return
        now = max(w.now for w in waiting)
        drafts: list[IncidentDraft] = []
        named: list[tuple[Service | None, Team | None]] = []
        for w in waiting:
            impact, urgency, service_name, team_name = self.settings.triage(w.alert.labels)
            notes: list[str] = []
            service = self._named(Service, service_name, "service", notes)
            team = self._named(Team, team_name, "team", notes)
            if team is None and service is not None and service.owner_team is not None:
                team = service.owner_team
            named.append((service, team))
            drafts.append(
                IncidentDraft(
                    title=w.alert.title,
                    impact=impact,
                    urgency=urgency,
                    description=_describe(w.alert, notes),
                    category=self.settings.category,
                    service=service.name if service else None,
                    team=team.name if team else None,
                    opened_at=min(w.received_at, w.now),
                )
            )
        tickets = open_incidents(self.session, self.actor, drafts, now=now)
        opened: list[tuple[_Waiting, Ticket, Service | None]] = []
        for w, ticket, (service, _team) in zip(waiting, tickets, named, strict=True):
            if isinstance(ticket, Ticket):
                opened.append((w, ticket, service))
            else:
                w.outcome.done["opened"] -= 1
                w.outcome.refuse(w.alert.fingerprint, ticket)
        with_service = [(w, t, s) for w, t, s in opened if s is not None]
        outages = record_outages(
            self.session,
            self.actor,
            [
                OutageDraft(
                    service=s.name,
                    # A sender's clock ahead of the desk's must not put the start in the future.
                    started_at=min(w.alert.starts_at, w.now),
                    ticket=t,
                    notes=_("alert {name} ({fingerprint})").format(
                        name=w.alert.name, fingerprint=w.alert.fingerprint
                    ),
                )
                for w, t, s in with_service
            ],
            now=now,
        )
        outage_of: dict[int, int] = {}
        for (w, ticket, _s), outage in zip(with_service, outages, strict=True):
            if isinstance(outage, Outage):
                outage_of[ticket.id] = outage.id
            else:
                w.outcome.refusals.append(f"{w.alert.fingerprint}: {outage}")
        for w, ticket, _s in opened:
            alert = Alert(
                fingerprint=w.alert.fingerprint,
                open_fingerprint=w.alert.fingerprint,
                name=w.alert.name,
                status=FIRING,
                starts_at=w.alert.starts_at,
                ends_at=None,
                group_hash=_group_hash(w.group_key) if w.group_key else None,
                labels=dict(w.alert.labels),
                ticket_id=ticket.id,
                outage_id=outage_of.get(ticket.id),
                first_seen_at=w.now,
                last_seen_at=w.last_seen_at,
            )
            self.session.add(alert)
            self.latest[w.alert.fingerprint] = alert
        self.session.flush()
        if self.settings.major_incident_at:
            groups: dict[str, list[Ticket]] = {}
            for w, ticket, _s in opened:
                if w.group_key:
                    groups.setdefault(w.group_key, []).append(ticket)
            for group_key, members in groups.items():
                self._gather(group_key, members, now)

    def _refire(self, alert: IncomingAlert, latest: Alert) -> str:
        ticket = self.session.get(Ticket, latest.ticket_id)
        assert ticket is not None
        add_comment(
            self.session,
            self.actor,
            ticket.number,
            _("Alert {name} is firing again since {at}.").format(
                name=alert.name, at=audit_value(alert.starts_at)
            ),
            kind="work_note",
            now=self.now,
        )
        latest.status = FIRING
        latest.starts_at = alert.starts_at
        latest.ends_at = None
        latest.last_seen_at = self.now
        if ticket.service is not None:
            latest.outage_id = self._start_outage(alert, ticket.service, ticket)
        return "refired"

    def _start_outage(self, alert: IncomingAlert, service: Service, ticket: Ticket) -> int:
        outage = record_outage(
            self.session,
            self.actor,
            service=service.name,
            # A sender's clock ahead of the desk's must not put the start in the future.
            started_at=min(alert.starts_at, self.now),
            number=ticket.number,
            notes=_("alert {name} ({fingerprint})").format(
                name=alert.name, fingerprint=alert.fingerprint
            ),
            now=self.now,
        )
        return outage.id

    def _named(self, model: type, name: str | None, what: str, notes: list[str]):  # type: ignore[no-untyped-def]
        if not name:
            return None
        key = (model, name)
        if key not in self._records:
            self._records[key] = self.session.scalars(
                select(model).where(model.name == name)
            ).first()
        found = self._records[key]
        if found is None:
            notes.append(
                _("The alert names {what} '{name}', which the desk does not have.").format(
                    what=what, name=name
                )
            )
        return found

    def _gather(self, group_key: str, new: list[Ticket], now: datetime) -> None:
        """Under the group's major incident, opening it once enough of the group is open."""
        group_hash = _group_hash(group_key)
        group = self.session.scalars(
            select(AlertGroup).where(AlertGroup.open_group_hash == group_hash)
        ).first()
        if group is not None:
            major = self.session.get(Ticket, group.ticket_id)
            if major is not None and major.is_open:
                link_under(self.session, self.actor, new, major, now=now)
                return
            group.open_group_hash = None
            self.session.flush()
        members = self.session.scalars(
            select(Ticket)
            .join(Alert, Alert.ticket_id == Ticket.id)
            .where(
                Alert.group_hash == group_hash,
                Alert.status == FIRING,
                Alert.open_fingerprint.is_not(None),
                Ticket.parent_id.is_(None),
            )
            .order_by(Ticket.id)
        ).all()
        if len(members) < self.settings.major_incident_at:
            return
        major = create_ticket(
            self.session,
            self.actor,
            type=INCIDENT,
            title=_("Major incident: {n} alerts at once — {first}").format(
                n=len(members), first=members[0].title
            )[:500],
            impact=min(t.impact for t in members),
            urgency=min(t.urgency for t in members),
            description=_("Alerts of one monitoring group ({key}) firing together.").format(
                key=group_key[:2000]
            ),
            category=self.settings.category,
            service=members[0].service.name if members[0].service else None,
            team=members[0].team.name if members[0].team else None,
            now=now,
        )
        link_under(self.session, self.actor, members, major, now=now)
        self.session.add(
            AlertGroup(
                group_key=group_key,
                open_group_hash=group_hash,
                ticket_id=major.id,
                opened_at=now,
            )
        )
        self.session.flush()

    # -- resolved

    def _resolve(self, alert: IncomingAlert, latest: Alert | None) -> str:
        if latest is None:
            return "unknown"  # never seen firing: nothing of the desk's to clear
        if latest.status == RESOLVED:
            return "repeat"
        ended = min(alert.ends_at or self.now, self.now)
        latest.status = RESOLVED
        latest.ends_at = ended
        latest.last_seen_at = self.now
        if latest.outage_id is not None:
            outage = self.session.get(Outage, latest.outage_id)
            if outage is not None and outage.ended_at is None:
                # An alert that cleared within its start's second still was an outage.
                end_outage(
                    self.session,
                    self.actor,
                    outage.id,
                    ended_at=max(ended, outage.started_at + timedelta(seconds=1)),
                    now=self.now,
                )
        ticket = self.session.get(Ticket, latest.ticket_id)
        if ticket is None or latest.open_fingerprint is None or not ticket.is_open:
            return "resolved"
        message = _("Alert {name} resolved at {at} (monitoring).").format(
            name=alert.name, at=audit_value(ended)
        )
        if self.settings.resolve_incidents:
            resolve_ticket(
                self.session, self.actor, ticket.number, code="fixed", notes=message, now=self.now
            )
            latest.open_fingerprint = None
            self.session.flush()
            self._close_group(latest.group_hash)
        else:
            add_comment(
                self.session, self.actor, ticket.number, message, kind="work_note", now=self.now
            )
        return "resolved"

    def _close_group(self, group_hash: str | None) -> None:
        """The group's major incident resolves with its last firing alert."""
        if group_hash is None:
            return
        group = self.session.scalars(
            select(AlertGroup).where(AlertGroup.open_group_hash == group_hash)
        ).first()
        if group is None:
            return
        still_firing = self.session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(
                Alert.group_hash == group_hash,
                Alert.status == FIRING,
                Alert.open_fingerprint.is_not(None),
            )
        )
        if still_firing:
            return
        major = self.session.get(Ticket, group.ticket_id)
        if major is not None and major.is_open:
            resolve_ticket(
                self.session,
                self.actor,
                major.number,
                code="fixed",
                notes=_("Every alert of the group has resolved (monitoring)."),
                now=self.now,
            )
        self.session.execute(
            update(AlertGroup).where(AlertGroup.id == group.id).values(open_group_hash=None)
        )


def _describe(alert: IncomingAlert, notes: Sequence[str]) -> str:
    lines = [alert.description, ""] if alert.description else []
    lines.append(
        _("Alert {name}, firing since {at}.").format(
            name=alert.name, at=audit_value(alert.starts_at)
        )
    )
    if alert.labels:
        lines.append(_("Labels:"))
        lines.extend(f"  {k}={v}" for k, v in sorted(alert.labels.items()))
    if alert.link:
        lines.append(_("Source: {link}").format(link=alert.link))
    lines.append(_("Fingerprint: {fingerprint}").format(fingerprint=alert.fingerprint))
    lines.extend(notes)
    return "\n".join(lines)
