"""Survey links: a one-use token sent to a resolved ticket's requester, who rates with it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Survey, SurveyInvitation, Ticket
from itsm_tui.desk.errors import InvalidInput, NotFound
from itsm_tui.desk.measures import check_rating, check_surveyable, write_survey
from itsm_tui.desk.records import Edit, as_utc, get_ticket, require
from itsm_tui.i18n import _


@dataclass(frozen=True)
class SurveySent:
    number: str
    requester: str | None
    # Shown once, to whoever sends it; the store keeps only its hash.
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def send_survey(session: Session, actor: Agent, number: str, *, now: datetime) -> SurveySent:
    """A resolved ticket's survey link; one per ticket, refused once it has a survey."""
    now = as_utc(now, _("now"))
    require(actor, "ticket.work", _("send surveys"))
    ticket = get_ticket(session, number, for_update=True)
    check_surveyable(session, ticket)
    sent = session.scalars(
        select(SurveyInvitation.sent_at).where(SurveyInvitation.ticket_id == ticket.id)
    ).first()
    if sent is not None:
        raise InvalidInput(
            _("{number} already has a survey link, sent {at}").format(
                number=ticket.number, at=sent.isoformat(timespec="minutes")
            )
        )
    token = secrets.token_urlsafe(24)
    session.add(
        SurveyInvitation(
            ticket_id=ticket.id, token_hash=_hash(token), sent_by_id=actor.id, sent_at=now
        )
    )
    Edit(session, actor, ticket, action="survey.sent", now=now).note("survey", None, "sent")
    session.flush()
    return SurveySent(ticket.number, ticket.requester.email if ticket.requester else None, token)


def record_survey_by_token(
    session: Session, token: str, rating: int, *, comment: str = "", now: datetime
) -> Survey:
    """The requester's answer through the link: works once; the audit names no agent."""
    now = as_utc(now, _("now"))
    if not isinstance(token, str) or not 16 <= len(token) <= 128:
        raise NotFound(_("this survey link is not valid"))
    check_rating(rating, comment)
    invitation = session.scalars(
        select(SurveyInvitation).where(SurveyInvitation.token_hash == _hash(token))
    ).first()
    if invitation is None:
        raise NotFound(_("this survey link is not valid"))
    # The claim is one conditional UPDATE: two answers racing on one link, one wins.
    claimed = session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id, SurveyInvitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise InvalidInput(_("this survey link was already used"))
    ticket = session.get(Ticket, invitation.ticket_id, with_for_update=True)
    assert ticket is not None
    return write_survey(session, None, ticket, rating, comment, now, now)
