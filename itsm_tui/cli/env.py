"""The store and the acting agent: what the top-level options chose, and one transaction on it."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent
from itsm_tui.data.store import Store, default_db_url, open_store
from itsm_tui.desk import DeskError
from itsm_tui.desk.records import get_agent, utcnow
from itsm_tui.desk.setup import has_configuration
from itsm_tui.i18n import _

T = TypeVar("T")


class Refused(DeskError):
    """A refusal the command line raises itself (no store, no desk yet, bad option value)."""


@dataclass
class Env:
    """What the top-level options chose: which store, who acts, and (for tests) when."""

    url: str | None
    actor_name: str | None
    fixed_now: datetime | None

    def now(self) -> datetime:
        return self.fixed_now or utcnow()

    def store_url(self) -> str:
        return self.url or default_db_url()

    def actor(self) -> str:
        if self.actor_name:
            return self.actor_name
        try:
            return getpass.getuser()
        except (OSError, KeyError):
            raise Refused(
                _("cannot tell who you are; pass --as USERNAME or set ITSM_AGENT")
            ) from None


def shown_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def connect(url: str) -> Store:
    """Open (and migrate) the store, or refuse in one line saying which store and why."""
    try:
        return open_store(url)
    except (SQLAlchemyError, OSError, ValueError) as exc:
        raise Refused(
            _("cannot open the store {url}: {why}").format(
                url=shown_url(url), why=database_error(exc)
            )
        ) from None


@contextmanager
def opened(env: Env) -> Iterator[Store]:
    store = connect(env.store_url())
    try:
        yield store
    finally:
        store.dispose()


def acting_agent(session: Session, env: Env) -> Agent:
    if not has_configuration(session):
        raise Refused(_("this store has no desk yet; run itsm init first"))
    return get_agent(session, env.actor())


@contextmanager
def desk_session(env: Env, *, write: bool) -> Iterator[tuple[Session, Agent]]:
    """One transaction on a configured desk, with the acting agent loaded."""
    with opened(env) as store, store.write() if write else store.read() as session:
        yield session, acting_agent(session, env)


def write(env: Env, action: Callable[[Session, Agent, datetime], T]) -> T:
    """Run one write command in one transaction; the result is built before the commit."""
    with desk_session(env, write=True) as (session, actor):
        return action(session, actor, env.now())


def agent_zone(agent: Agent) -> tzinfo:
    try:
        return ZoneInfo(agent.timezone) if agent.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


pass_env = click.make_pass_decorator(Env)


def database_error(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
