"""The deliverer: claims due outbox messages, sends them, records each attempt and its answer.

Nothing twice: a claim is one UPDATE that moves due rows to "sending" with this deliverer's
name and a lease. On PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so two
deliverers claim disjoint batches without waiting on each other; on SQLite the claim is one
IMMEDIATE write transaction, so the second deliverer's UPDATE sees the first's claim and
passes those rows by. Sending happens outside any transaction (a slow SMTP server holds no
lock), and the result is written only where the claim is still this deliverer's.

Nothing lost: a failed send goes back to "pending" after a backoff (retry_seconds, doubled
each attempt, at most six hours); after max_attempts it is "dead" — the dead-letter list the
admins see (`itsm notify dead`, the app's Dead letters screen) and can send again. A
deliverer that dies mid-send leaves its claim to lapse; the lease (longer than any send's
timeout) then lets another deliverer take the row.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, insert, or_, select, update

from itsm_tui.config.notifications import MAX_BACKOFF_SECONDS, NotificationSettings
from itsm_tui.data.models import Agent, OutboxAttempt, OutboxMessage
from itsm_tui.data.store import Store
from itsm_tui.desk.zones import agent_zone
from itsm_tui.notify.channels import Answer, Destination, Message, send
from itsm_tui.notify.message import compose
from itsm_tui.notify.outbox import read_settings

log = logging.getLogger("itsm.notify")

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
BATCH = 20
# Longer than the longest send (timeout_seconds is at most 120 s, and e-mail takes a few
# round trips): a claim outlives its send.
LEASE = timedelta(minutes=10)

Clock = Callable[[], datetime]
Sender = Callable[[Destination, Message, datetime], Answer]


def deliverer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def backoff(retry_seconds: int, attempts: int) -> timedelta:
    """The wait after the attempts-th failed attempt (1, 2, …): doubling, capped."""
    return timedelta(seconds=min(retry_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


def quiet_until(
    hours: tuple[str, str] | None, zone: ZoneInfo | object, now: datetime
) -> datetime | None:
    """When the recipient's quiet hours end, if `now` falls in them; else None."""
    if hours is None:
        return None
    start, end = (time.fromisoformat(h) for h in hours)
    local = now.astimezone(zone)  # type: ignore[arg-type]
    t = local.timetz().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    # The local end time on that day, as an aware instant (fold=0 across a DST change).
    return datetime.combine(day, end, tzinfo=zone).astimezone(now.tzinfo)  # type: ignore[arg-type]


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    held: int = 0
    answers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retried": self.retried, "dead": self.dead, "held": self.held}


@dataclass
class Deliverer:
    store: Store
    clock: Clock
    name: str = field(default_factory=deliverer_name)
    sender: Sender = send
    batch: int = BATCH

    def claim(self, now: datetime) -> list[int]:
        """Claim up to `batch` due messages for this deliverer; their ids."""
        o = OutboxMessage.__table__
        due = or_(
            and_(o.c.state == PENDING, o.c.due_at <= now),
            # A claim whose deliverer died: its lease has lapsed.
            and_(o.c.state == SENDING, o.c.lease_until < now),
        )
        pick = (
            select(o.c.id)
            .where(due)
            .order_by(o.c.due_at, o.c.id)
            .limit(self.batch)
            .with_for_update(skip_locked=True)
        )
        with self.store.write() as session:
            return list(
                session.scalars(
                    update(o)
                    .where(o.c.id.in_(pick.scalar_subquery()), due)
                    .values(state=SENDING, claimed_by=self.name, lease_until=now + LEASE)
                    .returning(o.c.id)
                ).all()
            )

    def run_once(self) -> DeliveryReport:
        """Send everything due now, batch after batch, until nothing is due."""
        report = DeliveryReport()
        while True:
            now = self.clock()
            ids = self.claim(now)
            if not ids:
                return report
            with self.store.read() as session:
                settings = read_settings(session) or NotificationSettings()
            for outbox_id in ids:
                self._deliver(outbox_id, settings, report)

    def _deliver(
        self, outbox_id: int, settings: NotificationSettings, report: DeliveryReport
    ) -> None:
        now = self.clock()
        with self.store.read() as session:
            row = session.get(OutboxMessage, outbox_id)
            assert row is not None
            held_until = None
            if row.quiet and row.recipient is not None:
                held_until = self._quiet_end(session, settings, row.recipient, now)
            message = None
            if held_until is None:
                try:
                    message = compose(session, row.notification_id, settings, now)
                except LookupError:
                    message = None
            dest = Destination(
                row.channel, row.address, row.secret, settings.smtp, settings.timeout_seconds
            )
            attempts = row.attempts
        if held_until is not None:
            # Quiet hours: not an attempt; back in the queue for when they end.
            self._finish(outbox_id, now, state=PENDING, due_at=held_until)
            report.held += 1
            return
        answer = (
            self.sender(dest, message, now)
            if message is not None
            else Answer(False, "the notification is gone")
        )
        attempts += 1
        if answer.ok:
            self._finish(outbox_id, now, answer, state=SENT, attempts=attempts, sent_at=now)
            report.sent += 1
        elif attempts >= settings.max_attempts:
            self._finish(outbox_id, now, answer, state=DEAD, attempts=attempts)
            report.dead += 1
            log.warning("outbox %s dead after %s attempts: %s", outbox_id, attempts, answer.text)
        else:
            due = now + backoff(settings.retry_seconds, attempts)
            self._finish(outbox_id, now, answer, state=PENDING, attempts=attempts, due_at=due)
            report.retried += 1
        report.answers.append(answer.text)

    def _quiet_end(
        self, session: object, settings: NotificationSettings, username: str, now: datetime
    ) -> datetime | None:
        hours = next((a.quiet_hours for a in settings.agents if a.username == username), None)
        if hours is None:
            return None
        agent = session.scalars(select(Agent).where(Agent.username == username)).first()  # type: ignore[attr-defined]
        return quiet_until(hours, agent_zone(session, agent), now)  # type: ignore[arg-type]

    def _finish(
        self, outbox_id: int, now: datetime, answer: Answer | None = None, **values: object
    ) -> None:
        """Record the attempt and the message's new state, if the claim is still ours."""
        o = OutboxMessage.__table__
        last_error = None if answer is None or answer.ok else answer.text
        with self.store.write() as session:
            done = session.execute(
                update(o)
                .where(o.c.id == outbox_id, o.c.state == SENDING, o.c.claimed_by == self.name)
                .values(
                    claimed_by=None,
                    lease_until=None,
                    **({"last_error": last_error} if answer is not None else {}),
                    **values,
                )
            )
            if done.rowcount != 1:
                # Our lease lapsed and another deliverer took it: its record wins.
                log.warning("outbox %s: claim lost before the answer was recorded", outbox_id)
                return
            if answer is not None:
                session.execute(
                    insert(OutboxAttempt.__table__).values(
                        outbox_id=outbox_id,
                        at=now,
                        deliverer=self.name,
                        ok=answer.ok,
                        answer=answer.text,
                    )
                )
