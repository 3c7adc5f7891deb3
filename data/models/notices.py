"""What the desk tells people: in-app notifications, on-call pages, and the outbox of
messages to send outside."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import (
    Base,
)

if TYPE_CHECKING:
    from .organisation import Agent


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_inbox", "agent_id", "read_at", "deliver_at"),
        # The inbox's team branch: team_id, agent_id IS NULL and read_at IS NULL pinned
        # (a team notice's read_at stays NULL since revision 0004), then the page order
        # (deliver_at, id) straight off the index, on PostgreSQL without a heap visit.
        Index("ix_notifications_team", "team_id", "agent_id", "read_at", "deliver_at", "id"),
        Index("ix_notifications_outbox", "sent_at", "deliver_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"))
    kind: Mapped[str] = mapped_column(String(24))  # warning | escalation | assignment | approval
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Outside working hours a non-24x7 notification waits for the next working minute.
    deliver_at: Mapped[datetime]
    # When the one addressee read it. A team notice is read by each agent for themselves
    # (NotificationRead); its read_at stays NULL (one set before revision 0004, when the
    # first reader closed it for the whole team, still counts as read by everyone).
    read_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class Page(Base):
    """One person paged for a ticket by the on-call rota: the first of a chain is whoever
    was on call; when nobody acknowledges within the rota's timeout the next is paged."""

    __tablename__ = "pages"
    __table_args__ = (
        # The sweep's claim: pages whose answer is overdue (few at any time).
        Index("ix_pages_answer_due", "answer_due_at"),
        Index("ix_pages_ticket", "ticket_id", "paged_at"),
        Index("ix_pages_chain", "chain_id"),
        Index("ix_pages_agent", "agent_id", "paged_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    # 1: whoever was on call; 2, 3…: the next in the rota, then the team's supervisor.
    level: Mapped[int] = mapped_column(Integer)
    # The chain's first page (NULL on the first page itself).
    chain_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    paged_at: Mapped[datetime]
    # When the next is paged if nobody acknowledges; NULL once answered or passed on.
    answer_due_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # app | cli | link
    acknowledged_via: Mapped[str | None] = mapped_column(String(8))
    # SHA-256 of the link's token: the store never holds a token that acknowledges.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)

    agent: Mapped[Agent] = relationship(foreign_keys=[agent_id])
    acknowledged_by: Mapped[Agent | None] = relationship(foreign_keys=[acknowledged_by_id])


class NotificationRead(Base):
    """An agent's receipt for a team notice: read by this agent, at this time.

    The primary key (notification_id, agent_id) is the index the inbox probes with
    NOT EXISTS for each team notice.
    """

    __tablename__ = "notification_reads"

    notification_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("notifications.id"),
        primary_key=True,
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    read_at: Mapped[datetime]


class OutboxMessage(Base):
    """One notification on its way to one recipient's channel (e-mail, Slack, …).

    Written in the same transaction as its notification (itsm_tui/notify/outbox.py);
    sent, retried and given up on by the deliverer (itsm_tui/notify/deliverer.py).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The deliverer's claim: due rows of a state, oldest due first.
        Index("ix_outbox_due", "state", "due_at", "id"),
        Index("ix_outbox_notification", "notification_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("notifications.id")
    )
    # Whose address this is: an agent's username, or None for a team's own channel.
    recipient: Mapped[str | None] = mapped_column(String(80))
    team: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(16))  # email | slack | dingtalk | …
    # As the desk file gives it: a literal address or "env:NAME" (read when sending).
    address: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(Text)
    # Whether the recipient's quiet hours hold it back (a page's never do).
    quiet: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sending|sent|dead
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A claim: who is sending it and until when the claim holds.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxAttempt(Base):
    """One try at sending an outbox message, and the answer it got."""

    __tablename__ = "outbox_attempts"
    __table_args__ = (Index("ix_outbox_attempts_message", "outbox_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("outbox.id")
    )
    at: Mapped[datetime]
    deliverer: Mapped[str] = mapped_column(String(80))
    ok: Mapped[bool] = mapped_column(Boolean)
    answer: Mapped[str] = mapped_column(Text, default="")
