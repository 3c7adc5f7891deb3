"""Dead letters: an administrator sends a notification the deliverer gave up on again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, AuditEvent, OutboxMessage
from itsm_tui.desk.errors import InvalidInput, NotFound, PermissionDenied
from itsm_tui.domain.roles import can
from itsm_tui.i18n import _


def require_dead_letter_admin(actor: Agent) -> None:
    """Dead letters hold other agents' addresses and the services' answers: admins only."""
    if not actor.active or not can(actor.role_set, "outbox.retry"):
        raise PermissionDenied(
            _("{agent} cannot see or send dead letters: that needs the role admin").format(
                agent=actor.username
            )
        )


def retry_dead_letter(session: Session, actor: Agent, outbox_id: int, now: datetime) -> None:
    """Put dead letter `outbox_id` back in the queue with a fresh set of attempts."""
    require_dead_letter_admin(actor)
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise NotFound(_("no outbox message {id}").format(id=outbox_id))
    if row.state != "dead":
        raise InvalidInput(
            _("outbox message {id} is {state}, not dead; only dead letters are retried").format(
                id=outbox_id, state=row.state
            )
        )
    # Conditional: two admins retrying at once put it back once.
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.state == "dead")
        .values(state="pending", due_at=now, attempts=0)
    )
    if done.rowcount != 1:
        return
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            record_type="outbox",
            record_id=outbox_id,
            record_number=None,
            action="retry",
            field="state",
            old_value="dead",
            new_value="pending",
            reason=row.last_error,
        )
    )
