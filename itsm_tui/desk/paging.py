"""Paging the on-call rota: a page chain per ticket, passed on when unanswered, stopped
by an acknowledgement (from the app, the CLI or the link in the message), all audited.

A page is a `pages` row and a `notifications` row of kind "page" for the one agent (the
outbox sends it out). Pages are few: they are written row by row; the pass-on sweep
claims the overdue ones with one UPDATE … RETURNING, so two sweepers never page twice.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from itsm_tui.config.readers import oncall_rotations
from itsm_tui.data.models import Agent, AuditEvent, Notification, Page, Team, Ticket
from itsm_tui.desk.errors import InvalidInput, NotFound
from itsm_tui.desk.records import as_utc, get_ticket, require, utcnow
from itsm_tui.domain.oncall import Rotation, chain_order, on_call_at
from itsm_tui.i18n import _

VIA = ("app", "cli", "link")


@dataclass(frozen=True)
class PageWanted:
    """An escalation's "page on-call" for a ticket, as the sweep asks for it."""

    ticket_id: int
    number: str
    team_id: int
    why: str


@dataclass(frozen=True)
class PageSent:
    page_id: int
    number: str
    team: str
    agent: str
    level: int
    # The link's secret, only ever in the message sent to the agent (the store keeps its hash).
    token: str


@dataclass(frozen=True)
class PageAcknowledged:
    page_id: int
    number: str
    agent: str
    level: int
    acknowledged_by: str
    acknowledged_at: datetime
    via: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_chains(
    session: Session,
    wanted: Sequence[PageWanted],
    rotations: dict[str, Rotation],
    now: datetime,
) -> list[PageSent]:
    """Page whoever is on call for each ticket's team; a ticket whose chain is still
    running (paged, nobody answered yet) is not paged a second time."""
    sent: list[PageSent] = []
    seen: set[int] = set()
    for want in wanted:
        if want.ticket_id in seen or _running_chain(session, want.ticket_id) is not None:
            continue
        seen.add(want.ticket_id)
        team = session.get(Team, want.team_id)
        rotation = rotations.get(team.name) if team is not None else None
        holder = on_call_at(rotation, now) if rotation is not None else None
        agent = _active_agent(session, holder.agent) if holder is not None else None
        if team is None or rotation is None or agent is None:
            continue
        sent.append(
            _page(
                session,
                want.ticket_id,
                want.number,
                team,
                agent,
                level=1,
                chain_id=None,
                now=now,
                timeout=rotation.ack_timeout_minutes,
                why=_("{why}; on call for {team}").format(why=want.why, team=team.name),
            )
        )
    return sent


def pass_on_unanswered(session: Session, now: datetime) -> list[PageSent]:
    """Page the next in the rota for every page nobody acknowledged in time; after the
    members, the team's supervisor; then the chain ends and the team is told."""
    claimed = session.execute(
        update(Page)
        .where(Page.answer_due_at <= now)
        .values(answer_due_at=None)
        .returning(Page.id, Page.ticket_id, Page.team_id, Page.level, Page.chain_id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    rotations = oncall_rotations(session)
    sent: list[PageSent] = []
    for row in sorted(claimed, key=lambda r: r.id):
        chain = row.chain_id or row.id
        team = session.get(Team, row.team_id)
        ticket = session.get(Ticket, row.ticket_id)
        if team is None or ticket is None:
            continue
        paged = _chain_agents(session, chain)
        rotation = rotations.get(team.name)
        candidates = chain_order(rotation, now) if rotation is not None else []
        supervisor = session.get(Agent, team.supervisor_id) if team.supervisor_id else None
        if supervisor is not None:
            candidates.append(supervisor.username)
        agent = next(
            (
                a
                for name in candidates
                if (a := _active_agent(session, name)) is not None and a.id not in paged
            ),
            None,
        )
        last = session.get(Agent, _chain_last_agent(session, chain))
        last_name = last.username if last is not None else "?"
        timeout = rotation.ack_timeout_minutes if rotation is not None else 15
        if agent is None:
            _chain_ended(session, ticket, team, now, last_name)
            continue
        sent.append(
            _page(
                session,
                ticket.id,
                ticket.number,
                team,
                agent,
                level=row.level + 1,
                chain_id=chain,
                now=now,
                timeout=timeout,
                why=_("no acknowledgement from {agent} within {minutes} minutes").format(
                    agent=last_name, minutes=timeout
                ),
            )
        )
    return sent


def acknowledge_page(
    session: Session,
    actor: Agent,
    page_id: int,
    now: datetime | None = None,
    *,
    via: str = "cli",
) -> PageAcknowledged:
    """The actor acknowledges this page: its chain stops (nobody else is paged)."""
    now = utcnow() if now is None else as_utc(now, _("now"))
    require(actor, "ticket.work", _("acknowledge a page"))
    page = session.get(Page, page_id)
    if page is None:
        raise NotFound(_("no page {id} on this desk").format(id=page_id))
    return _acknowledge(session, page, actor, now, via)


def acknowledge_ticket_page(
    session: Session,
    actor: Agent,
    number: str,
    now: datetime | None = None,
    *,
    via: str = "cli",
) -> PageAcknowledged:
    """The actor acknowledges the ticket's latest page (`itsm oncall ack INC0000042`)."""
    now = utcnow() if now is None else as_utc(now, _("now"))
    require(actor, "ticket.work", _("acknowledge a page"))
    ticket = get_ticket(session, number)
    page = session.scalars(
        select(Page).where(Page.ticket_id == ticket.id).order_by(Page.id.desc()).limit(1)
    ).first()
    if page is None:
        raise NotFound(_("{number} has not paged anyone").format(number=ticket.number))
    return _acknowledge(session, page, actor, now, via)


def acknowledge_page_by_token(session: Session, token: str, now: datetime) -> PageAcknowledged:
    """The link in a page's message: acknowledges as the paged agent. A token works once;
    a used one, or one of a chain someone already acknowledged, is refused."""
    now = as_utc(now, _("now"))
    if not isinstance(token, str) or not 16 <= len(token) <= 128:
        raise NotFound(_("this acknowledgement link is not valid"))
    page = session.scalars(select(Page).where(Page.token_hash == token_hash(token))).first()
    if page is None:
        raise NotFound(_("this acknowledgement link is not valid"))
    agent = session.get(Agent, page.agent_id)
    assert agent is not None
    if not agent.active:
        raise InvalidInput(
            _("agent {agent} is inactive; acknowledge from the app or the command line").format(
                agent=agent.username
            )
        )
    return _acknowledge(session, page, agent, now, "link")


def awaiting_acknowledgement(session: Session, agent: Agent) -> list[dict[str, Any]]:
    """The agent's pages whose chain is still running, newest first (the app's inbox)."""
    rows = session.execute(
        select(Page.id, Page.level, Page.paged_at, Page.answer_due_at, Ticket.number, Ticket.title)
        .join(Ticket, Ticket.id == Page.ticket_id)
        .where(Page.agent_id == agent.id, Page.answer_due_at.is_not(None))
        .order_by(Page.id.desc())
        .limit(50)
    ).all()
    return [r._asdict() for r in rows]


def _acknowledge(
    session: Session, page: Page, actor: Agent, now: datetime, via: str
) -> PageAcknowledged:
    if via not in VIA:
        raise InvalidInput(_("a page is acknowledged from: {ways}").format(ways=", ".join(VIA)))
    chain = page.chain_id or page.id
    ticket = session.get(Ticket, page.ticket_id)
    assert ticket is not None
    done = session.execute(
        select(Page.acknowledged_at, Agent.username)
        .join(Agent, Agent.id == Page.acknowledged_by_id)
        .where(_in_chain(chain), Page.acknowledged_at.is_not(None))
        .limit(1)
    ).first()
    if done is not None:
        raise InvalidInput(
            _("the page for {number} was already acknowledged by {agent} at {at}").format(
                number=ticket.number,
                agent=done.username,
                at=done.acknowledged_at.strftime("%Y-%m-%d %H:%M UTC"),
            )
        )
    # Conditional: of two acknowledgements racing on one page, one is written.
    claimed = session.execute(
        update(Page)
        .where(Page.id == page.id, Page.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=actor.id, acknowledged_via=via)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise InvalidInput(
            _("the page for {number} was already acknowledged").format(number=ticket.number)
        )
    session.execute(
        update(Page)
        .where(_in_chain(chain), Page.answer_due_at.is_not(None))
        .values(answer_due_at=None)
        .execution_options(synchronize_session=False)
    )
    paged = session.get(Agent, page.agent_id)
    paged_name = paged.username if paged is not None else "?"
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            record_type="ticket",
            record_id=ticket.id,
            record_number=ticket.number,
            action="page_acknowledged",
            field="page",
            old_value=None,
            new_value=_("level {level} ({agent})").format(level=page.level, agent=paged_name),
            reason=_("acknowledged from the {via}").format(via=via),
        )
    )
    session.flush()
    session.expire(page)
    return PageAcknowledged(
        page_id=page.id,
        number=ticket.number,
        agent=paged_name,
        level=page.level,
        acknowledged_by=actor.username,
        acknowledged_at=now,
        via=via,
    )


def _page(
    session: Session,
    ticket_id: int,
    number: str,
    team: Team,
    agent: Agent,
    *,
    level: int,
    chain_id: int | None,
    now: datetime,
    timeout: int,
    why: str,
) -> PageSent:
    token = secrets.token_urlsafe(24)
    page = Page(
        ticket_id=ticket_id,
        team_id=team.id,
        agent_id=agent.id,
        level=level,
        chain_id=chain_id,
        paged_at=now,
        answer_due_at=now + timedelta(minutes=timeout),
        token_hash=token_hash(token),
    )
    session.add(page)
    session.flush()
    title = session.scalar(select(Ticket.title).where(Ticket.id == ticket_id)) or ""
    session.add(
        Notification(
            agent_id=agent.id,
            team_id=None,
            ticket_id=ticket_id,
            change_id=None,
            kind="page",
            # Pages go out at once, whatever the calendar or quiet hours say.
            message=_(
                "PAGE {number}: {title} ({why}). Acknowledge within {minutes} min: "
                "itsm oncall ack {number}, or open /ack/{token}"
            ).format(number=number, title=title, why=why, minutes=timeout, token=token),
            created_at=now,
            deliver_at=now,
            read_at=None,
            sent_at=None,
        )
    )
    session.add(
        AuditEvent(
            at=now,
            actor_id=None,
            record_type="ticket",
            record_id=ticket_id,
            record_number=number,
            action="paged",
            field="page",
            old_value=None,
            new_value=_("level {level} ({agent})").format(level=level, agent=agent.username),
            reason=why,
        )
    )
    return PageSent(page.id, number, team.name, agent.username, level, token)


def _chain_ended(session: Session, ticket: Ticket, team: Team, now: datetime, last: str) -> None:
    why = _("nobody acknowledged the page; everyone the chain could reach was paged")
    session.add(
        AuditEvent(
            at=now,
            actor_id=None,
            record_type="ticket",
            record_id=ticket.id,
            record_number=ticket.number,
            action="page_unanswered",
            field="page",
            old_value=last,
            new_value=None,
            reason=why,
        )
    )
    session.add(
        Notification(
            agent_id=None,
            team_id=team.id,
            ticket_id=ticket.id,
            change_id=None,
            kind="page",
            message=_("{number}: {why}").format(number=ticket.number, why=why),
            created_at=now,
            deliver_at=now,
            read_at=None,
            sent_at=None,
        )
    )


def _in_chain(chain: int) -> Any:
    return or_(Page.id == chain, Page.chain_id == chain)


def _chain_agents(session: Session, chain: int) -> set[int]:
    return set(session.scalars(select(Page.agent_id).where(_in_chain(chain))))


def _chain_last_agent(session: Session, chain: int) -> int | None:
    return session.scalar(
        select(Page.agent_id).where(_in_chain(chain)).order_by(Page.id.desc()).limit(1)
    )


def _running_chain(session: Session, ticket_id: int) -> int | None:
    return session.scalar(
        select(Page.id).where(Page.ticket_id == ticket_id, Page.answer_due_at.is_not(None)).limit(1)
    )


def _active_agent(session: Session, username: str) -> Agent | None:
    agent = session.scalars(select(Agent).where(Agent.username == username)).first()
    return agent if agent is not None and agent.active else None
