"""The store and the acting agent: what the top-level options chose, and one transaction on it."""

from __future__ import annotations

import getpass
import os
import pwd
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import update_wrapper
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from itsm_tui.data.failures import explain
from itsm_tui.data.models import Agent
from itsm_tui.data.store import Store, default_db_url, open_store
from itsm_tui.desk import DeskError
from itsm_tui.desk.identity import Acting, resolve_acting, session_marks
from itsm_tui.desk.records import utcnow
from itsm_tui.desk.setup import has_configuration
from itsm_tui.i18n import _
from itsm_tui.text_input import check_argument

T = TypeVar("T")


class Refused(DeskError):
    """A refusal the command line raises itself (no store, no desk yet, bad option value)."""


def login_name() -> str:
    """Who runs the command: the operating system's account, not an environment variable."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        # An account without a passwd entry (some containers): the environment's word for it.
        try:
            return getpass.getuser()
        except (OSError, KeyError):
            raise Refused(
                _("cannot tell who you are: your account has no name on this machine")
            ) from None


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
        """The name a new desk's first administrator gets (`init`, `demo`): --as, else you."""
        return self.actor_name or login_name()


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
                url=shown_url(url), why=explain(exc, url) or database_error(exc)
            )
        ) from None


@contextmanager
def opened(env: Env) -> Iterator[Store]:
    store = connect(env.store_url())
    try:
        yield store
    finally:
        store.dispose()


def acting(session: Session, env: Env) -> Acting:
    """Who this command acts as on a configured desk: you, or (admins) the agent --as names."""
    if not has_configuration(session):
        raise Refused(_("this store has no desk yet; run itsm init first"))
    return resolve_acting(session, login=login_name(), acting_as=env.actor_name)


def acting_agent(session: Session, env: Env) -> Agent:
    """The acting agent; an impersonation marks the session so its audit names both."""
    who = acting(session, env)
    session.info.update(session_marks(who))
    return who.agent


@contextmanager
def desk_session(env: Env, *, write: bool) -> Iterator[tuple[Session, Agent]]:
    """One transaction on a configured desk, with the acting agent loaded."""
    with opened(env) as store, store.write() if write else store.read() as session:
        yield session, acting_agent(session, env)


def write(env: Env, action: Callable[[Session, Agent, datetime], T]) -> T:
    """Run one write command in one transaction; the result is built before the commit."""
    with desk_session(env, write=True) as (session, actor):
        return action(session, actor, env.now())


def pass_env(command: Callable[..., T]) -> Callable[..., T]:
    """Give a command the Env, once every text value it was given is known to be UTF-8."""

    def with_env(*args: Any, **kwargs: Any) -> T:
        ctx = click.get_current_context()
        for param in ctx.command.params:
            # Options by their flag (--service), arguments by their metavar (BODY).
            what = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
            check_text_values(ctx.params.get(param.name or ""), what)
        return ctx.invoke(command, ctx.find_object(Env), *args, **kwargs)

    return update_wrapper(with_env, command)


def check_text_values(value: object, what: str) -> None:
    """Refuse an argument that is not UTF-8 (file names, given as paths, may be anything)."""
    if isinstance(value, str):
        check_argument(value, what)
    elif isinstance(value, tuple):
        for item in value:
            check_text_values(item, what)


def database_error(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
