"""Alerts from monitoring (`itsm intake`): deliveries, alerts and their groups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import (
    Base,
)


class AlertDelivery(Base):
    """One webhook request as received: stored before the sender is answered, so a 2xx
    means "kept", and worked through the desk later (itsm_tui.desk.intake)."""

    __tablename__ = "alert_deliveries"
    # The worker reads the waiting ones in arrival order off this index.
    __table_args__ = (Index("ix_alert_deliveries_waiting", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    received_at: Mapped[datetime]
    # "alertmanager" or "generic": the shape the payload arrived in.
    source: Mapped[str] = mapped_column(String(20))
    # The alerts, already checked and put in one shape (itsm_tui.domain.alerts), as JSON.
    payload: Mapped[str] = mapped_column(Text)
    alert_count: Mapped[int] = mapped_column(Integer)
    processed_at: Mapped[datetime | None]
    # What became of it: tickets opened and updated, or why an alert was refused.
    outcome: Mapped[str] = mapped_column(Text, default="")


class Alert(Base):
    """One alert (a fingerprint) and the incident it feeds."""

    __tablename__ = "alerts"
    __table_args__ = (
        # An alert's latest row by fingerprint (repeats, resolves).
        Index("ix_alerts_fingerprint", "fingerprint", "id"),
        Index("ix_alerts_ticket", "ticket_id"),
        Index("ix_alerts_group", "group_hash", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(200))
    # The fingerprint while this alert is the one its incident is fed by, else NULL: the
    # unique constraint lets one fingerprint map to one open incident only (NULLs differ).
    open_fingerprint: Mapped[str | None] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10))  # firing | resolved
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    # sha256 of the sender's group key (Alertmanager's are long); NULL without one.
    group_hash: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outages.id"))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class AlertGroup(Base):
    """A sender's group of alerts gathered under one major incident."""

    __tablename__ = "alert_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_key: Mapped[str] = mapped_column(Text)
    # sha256 of group_key while its major incident is open, else NULL (as open_fingerprint).
    open_group_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    opened_at: Mapped[datetime]
