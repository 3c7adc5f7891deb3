"""What every write shares: finding records, numbering, text checks, versions and audit."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    CatalogueItem,
    Change,
    DeskSetting,
    KnowledgeArticle,
    NumberSequence,
    Requester,
    Service,
    Team,
    Ticket,
)
from itsm_tui.desk.errors import ChangeSince, Conflict, InvalidInput, NotFound, PermissionDenied
from itsm_tui.domain import roles
from itsm_tui.domain.priority import DEFAULT_MATRIX
from itsm_tui.domain.workflow import format_number
from itsm_tui.i18n import _

# Longest text the desk accepts in one field: far above any real description, small
# enough that a pasted log cannot bloat every queue row that reads it.
MAX_TEXT = 1_000_000
MAX_TITLE = 500
# Clients' clocks drift; an "opened at" this far ahead of the desk's now is still accepted.
CLOCK_SKEW = timedelta(minutes=2)


def utcnow() -> datetime:
    """The one place the write path reads the wall clock; every function also takes `now`."""
    return datetime.now(UTC)


# The instants the desk keeps: imported history reaches back decades, nothing is due in
# the year 9000. Far enough inside datetime's own range (years 1 to 9999) that showing a
# kept time in any zone or adding any SLA target to it stays a valid datetime.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def as_utc(value: datetime, what: str) -> datetime:
    """`value` in UTC; refused without a zone or outside the years the desk keeps."""
    if value.tzinfo is None:
        raise InvalidInput(
            _("{what} {value} has no time zone; add one, e.g. {value}Z or {value}+08:00").format(
                what=what, value=value.isoformat()
            )
        )
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-14:00 is past the last datetime in UTC
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise InvalidInput(
            _("{what} {value} is out of range: the desk keeps times from {first} to {last}").format(
                what=what, value=value.isoformat(), first=EARLIEST.year, last=LATEST.year - 1
            )
        )
    return utc


# ---------------------------------------------------------------------------
# Roles


def require(actor: Agent, permission: str, doing: str) -> None:
    """Refuse unless the actor holds `permission`; the message says who may."""
    if not actor.active:
        raise PermissionDenied(
            _("agent {agent} is inactive and cannot {doing}").format(
                agent=actor.username, doing=doing
            )
        )
    if not roles.can(actor.role_set, permission):
        raise PermissionDenied(
            _("{agent} cannot {doing}: that needs the role {roles}").format(
                agent=actor.username,
                doing=doing,
                roles=_(" or ").join(roles.roles_with(permission)),
            )
        )


# ---------------------------------------------------------------------------
# Text


def check_text(value: str, what: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """Accept user text byte for byte (markup and escapes are data) unless it cannot be stored."""
    if not isinstance(value, str):
        raise InvalidInput(_("{what} must be text").format(what=what))
    if required and not value.strip():
        raise InvalidInput(_("{what} must not be empty").format(what=what))
    if len(value) > limit:
        raise InvalidInput(
            _("{what} is {n:,} characters long; the limit is {limit:,}").format(
                what=what, n=len(value), limit=limit
            )
        )
    # PostgreSQL text cannot hold NUL, and lone surrogates are not UTF-8: refuse both the
    # same way on every database rather than store something that does not come back.
    if "\x00" in value:
        raise InvalidInput(
            _("{what} contains a NUL character, which cannot be stored").format(what=what)
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            _("{what} contains characters that are not valid Unicode text").format(what=what)
        ) from None
    return value


def check_level(value: object, what: str) -> int:
    """Impact and urgency: 1 high, 2 medium, 3 low."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in (1, 2, 3):
        raise InvalidInput(
            _("{what} must be 1 (high), 2 (medium) or 3 (low), not {value}").format(
                what=what, value=value
            )
        )
    return value


# ---------------------------------------------------------------------------
# Lookups by the names people use


def _known(names: Iterable[str], limit: int = 12) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (", …" if len(names) > limit else "")


def get_ticket(session: Session, number: str, *, for_update: bool = False) -> Ticket:
    key = number.strip().upper()
    stmt = select(Ticket).where(Ticket.number == key)
    if for_update:
        # PostgreSQL: concurrent writers of one ticket queue here and the second sees the
        # first's version. SQLite ignores it; its write transactions are already serial.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    ticket = session.scalars(stmt).one_or_none()
    if ticket is None:
        raise NotFound(_("no ticket {number} on this desk").format(number=key))
    return ticket


def get_change(session: Session, number: str) -> Change:
    key = number.strip().upper()
    change = session.scalars(select(Change).where(Change.number == key)).one_or_none()
    if change is None:
        raise NotFound(_("no change {number} on this desk").format(number=key))
    return change


def get_article(session: Session, number: str) -> KnowledgeArticle:
    key = number.strip().upper()
    article = session.scalars(
        select(KnowledgeArticle).where(KnowledgeArticle.number == key)
    ).one_or_none()
    if article is None:
        raise NotFound(_("no knowledge article {number} on this desk").format(number=key))
    return article


def get_agent(session: Session, username: str) -> Agent:
    agent = session.scalars(select(Agent).where(Agent.username == username.strip())).one_or_none()
    if agent is None:
        agent = session.scalars(
            select(Agent).where(func.lower(Agent.username) == username.strip().lower())
        ).first()
    if agent is None:
        raise NotFound(
            _("no agent {name!r} on this desk; agents are added in the desk file").format(
                name=username
            )
        )
    return agent


def get_team(session: Session, name: str) -> Team:
    team = session.scalars(
        select(Team).where(func.lower(Team.name) == name.strip().lower())
    ).first()
    if team is None:
        known = session.scalars(select(Team.name).order_by(Team.name)).all()
        raise NotFound(
            _("unknown team {name!r}; teams: {known}").format(name=name, known=_known(known))
        )
    return team


def get_service(session: Session, name: str) -> Service:
    service = session.scalars(
        select(Service).where(func.lower(Service.name) == name.strip().lower())
    ).first()
    if service is None:
        known = session.scalars(select(Service.name).order_by(Service.name)).all()
        raise NotFound(
            _("unknown service {name!r}; services: {known}").format(name=name, known=_known(known))
        )
    return service


def get_catalogue_item(session: Session, code: str) -> CatalogueItem:
    item = session.scalars(
        select(CatalogueItem).where(func.lower(CatalogueItem.code) == code.strip().lower())
    ).first()
    if item is None or not item.active:
        known = session.scalars(
            select(CatalogueItem.code).where(CatalogueItem.active).order_by(CatalogueItem.code)
        ).all()
        raise NotFound(
            _("unknown catalogue item {code!r}; items: {known}").format(
                code=code, known=_known(known)
            )
        )
    return item


def check_email(email: str) -> str:
    """A requester's address: the one rule for single creates and bulk imports."""
    address = check_text(email, _("requester e-mail"), required=True, limit=320).strip()
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise InvalidInput(_("requester {email!r} is not an e-mail address").format(email=email))
    return address


def get_or_create_requester(session: Session, email: str) -> Requester:
    address = check_email(email)
    requester = session.scalars(
        select(Requester).where(func.lower(Requester.email) == address.lower())
    ).first()
    if requester is None:
        requester = Requester(email=address, name="", department="")
        session.add(requester)
        session.flush()
    return requester


def desk_setting(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(DeskSetting, key)
    return default if row is None else row.value


def priority_matrix(session: Session) -> list[list[int]]:
    """Rows impact 1..3, columns urgency 1..3; the ITIL default when the desk set none."""
    return desk_setting(session, "priority_matrix") or [list(row) for row in DEFAULT_MATRIX]


# ---------------------------------------------------------------------------
# Numbers


def next_number(session: Session, prefix: str) -> str:
    """The next human number of a kind, unique however many creators run at once.

    One upsert that increments and returns: the row lock it takes serialises
    concurrent creators on both databases until their transactions end.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(NumberSequence)
        .values(prefix=prefix, last_value=1)
        .on_conflict_do_update(
            index_elements=[NumberSequence.prefix],
            set_={"last_value": NumberSequence.last_value + 1},
        )
        .returning(NumberSequence.last_value)
    )
    value = session.execute(stmt).scalar_one()
    return format_number(prefix, int(value))


def next_numbers(session: Session, prefix: str, count: int) -> list[str]:
    """`count` consecutive numbers of a kind in one upsert (a bulk create's numbering)."""
    if count < 1:
        return []
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(NumberSequence)
        .values(prefix=prefix, last_value=count)
        .on_conflict_do_update(
            index_elements=[NumberSequence.prefix],
            set_={"last_value": NumberSequence.last_value + count},
        )
        .returning(NumberSequence.last_value)
    )
    last = int(session.execute(stmt).scalar_one())
    return [format_number(prefix, value) for value in range(last - count + 1, last + 1)]


def raise_sequence_floor(session: Session, prefix: str, at_least: int) -> None:
    """After importing numbered records: later creates continue above the highest one."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(NumberSequence).values(prefix=prefix, last_value=at_least)
    stmt = stmt.on_conflict_do_update(
        index_elements=[NumberSequence.prefix],
        set_={"last_value": func.max(NumberSequence.last_value, stmt.excluded.last_value)}
        if session.get_bind().dialect.name == "sqlite"
        else {"last_value": func.greatest(NumberSequence.last_value, stmt.excluded.last_value)},
    )
    session.execute(stmt)


# ---------------------------------------------------------------------------
# Versions and audit


def audit_value(value: Any) -> str | None:
    """How a field value reads in the audit log: names, not ids."""
    if value is None:
        return None
    # The common plain values first, by exact type (a seed writes millions of them, and
    # isinstance against the unions below costs several times more).
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is datetime:
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Agent):
        return value.username
    if isinstance(value, Team | Service):
        return value.name
    if isinstance(value, Requester):
        return value.email
    if isinstance(value, CatalogueItem):
        return value.code
    if isinstance(value, Ticket | Change | KnowledgeArticle):
        return value.number
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | Decimal | int | float):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


RECORD_TYPES = {Ticket: "ticket", Change: "change", KnowledgeArticle: "knowledge"}


def check_version(
    session: Session, record: Ticket | Change | KnowledgeArticle, expected: int | None
) -> None:
    """Refuse a write based on a stale version, naming who changed what since."""
    if expected is None or record.version == expected:
        return
    record_type = RECORD_TYPES[type(record)]
    rows = session.execute(
        select(AuditEvent, Agent.username)
        .outerjoin(Agent, Agent.id == AuditEvent.actor_id)
        .where(
            AuditEvent.record_type == record_type,
            AuditEvent.record_id == record.id,
            AuditEvent.record_version > expected,
        )
        .order_by(AuditEvent.id)
    ).all()
    changes = tuple(
        ChangeSince(
            version=event.record_version or 0,
            at=event.at,
            actor=username or _("the desk"),
            field=event.field,
            old=event.old_value,
            new=event.new_value,
            action=event.action,
        )
        for event, username in rows
    )
    visible = [c for c in changes if c.field not in DERIVED_FIELDS]
    described = "; ".join(_describe_change(c) for c in visible[:6]) or _("changes not recorded")
    if len(visible) > 6:
        described += _("; and {n} more").format(n=len(visible) - 6)
    raise Conflict(
        _(
            "{number} changed since you loaded version {expected} (now version {current}): "
            "{described}. Nothing was written; reload and apply your change again"
        ).format(
            number=record.number,
            expected=expected,
            current=record.version,
            described=described,
        ),
        current_version=record.version,
        changes=changes,
    )


# Fields that follow from another change and would only repeat it in a message.
DERIVED_FIELDS = frozenset({"is_open", "updated_at", "priority_overridden"})


def _describe_change(change: ChangeSince) -> str:
    if change.action.startswith("comment."):
        return _("{actor} added a {kind}").format(actor=change.actor, kind=change.new or "comment")
    if change.field:
        return _("{actor} set {field} {old} → {new}").format(
            actor=change.actor,
            field=change.field,
            old=_short(change.old),
            new=_short(change.new),
        )
    return _("{actor}: {action}").format(actor=change.actor, action=change.action)


def _short(value: str | None, limit: int = 40) -> str:
    if value is None or value == "":
        return "—"
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Edit:
    """One write to one record: bumps its version once and audits each changed field.

    `set()` changes a field only when the value differs and records old → new, so
    every desk function audits the same way and a no-op writes nothing.
    """

    def __init__(
        self,
        session: Session,
        actor: Agent | None,
        record: Ticket | Change | KnowledgeArticle,
        *,
        action: str,
        now: datetime,
        reason: str | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.record = record
        self.action = action
        self.now = now
        self.reason = reason
        self.events: list[AuditEvent] = []
        self._bumped = False

    def _bump(self) -> int:
        if not self._bumped:
            self.record.version = self.record.version + 1
            self.record.updated_at = self.now
            self._bumped = True
        return self.record.version

    def set(self, field: str, value: Any, *, shown: Any = None, shown_old: Any = None) -> bool:
        """Set `field`; `shown`/`shown_old` are what the audit log reads (names, not ids)."""
        old = getattr(self.record, field)
        if old == value:
            return False
        setattr(self.record, field, value)
        name = field.removesuffix("_id")
        if name != field and name in inspect(type(self.record)).relationships:
            # Setting the key leaves the loaded relationship stale until it is re-read.
            self.session.expire(self.record, [name])
        self.note(
            name,
            audit_value(shown_old if shown_old is not None or shown is not None else old),
            audit_value(shown if shown is not None else value),
        )
        return True

    def note(
        self,
        field: str | None,
        old: str | None = None,
        new: str | None = None,
        *,
        action: str | None = None,
    ) -> None:
        """Audit something that is not a plain column change (a comment, a link, a log entry)."""
        version = self._bump()
        event = AuditEvent(
            at=self.now,
            actor_id=self.actor.id if self.actor else None,
            record_type=RECORD_TYPES[type(self.record)],
            record_id=self.record.id,
            record_number=self.record.number,
            action=action or self.action,
            field=field,
            old_value=old,
            new_value=new,
            record_version=version,
            reason=self.reason,
        )
        self.session.add(event)
        self.events.append(event)

    @property
    def changed(self) -> bool:
        return self._bumped
