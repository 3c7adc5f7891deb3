"""Acknowledging a page from a screen (the inbox, the ticket): one write, one line back."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from itsm_tui.context import DeskContext
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.paging import acknowledge_ticket_page
from itsm_tui.desk.records import get_agent
from itsm_tui.i18n import _


def acknowledge_from_app(ctx: DeskContext, number: str) -> tuple[str, bool]:
    """Acknowledge the ticket's latest page as the acting agent: (what to tell them, whether
    it was refused). Runs in a thread worker: it writes to the store."""
    try:
        with ctx.store.write() as session:
            done = acknowledge_ticket_page(
                session, get_agent(session, ctx.actor), number, ctx.now(), via="app"
            )
            return (
                _("{number}: page acknowledged; nobody else will be paged").format(
                    number=done.number
                ),
                False,
            )
    except DeskError as exc:
        return exc.message, True
    except SQLAlchemyError as exc:
        return _("the store refused the write: {error}").format(error=exc), True
