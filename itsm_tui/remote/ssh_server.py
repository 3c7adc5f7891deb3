"""The SSH side of `itsm serve`: who may sign in, and one console process per session.

Only public keys sign in, and only keys the desk holds (itsm_tui.desk.agent_keys);
the name typed after `ssh` must be the key's agent. A session must ask for a
terminal; commands, subsystems (SFTP, scp), port, X11 and agent forwarding are all
refused. Each session runs the app for its agent in a child process on a PTY
(console_process.py), within the desk file's limits ([serve]: sessions in total and
per agent, idle timeout, keepalive).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import asyncssh
from sqlalchemy.orm import Session

from itsm_tui.config.model import ServeSettings
from itsm_tui.config.readers import serve_settings
from itsm_tui.data.store import Store
from itsm_tui.desk.remote_sessions import SignedIn, record_login, record_logout, sign_in
from itsm_tui.i18n import _
from itsm_tui.remote.console_pool import SpareConsoles
from itsm_tui.remote.console_process import HANG_UP_GRACE_S, ConsoleProcess, terminal_type

log = logging.getLogger("itsm.serve")

T = TypeVar("T")
Clock = Callable[[], datetime]
# Builds the child's command line and environment for an agent and a terminal type.
ConsoleCommand = Callable[[str, str], tuple[Sequence[str], Mapping[str, str]]]

# Failed sign-ins an address may make in a window before it is refused outright.
FAILURES_ALLOWED = 10
FAILURE_WINDOW = timedelta(minutes=5)
# A client that has not signed in by then is dropped (asyncssh's default is two minutes).
LOGIN_TIMEOUT_S = 30
DEFAULT_COLUMNS, DEFAULT_ROWS = 80, 24
SPARE_REFILL_S = 3.0


class FailedSignIns:
    """Failed sign-ins per client address over a sliding window: too many, and the
    address gets no way to sign in until the oldest failures age out."""

    def __init__(self, allowed: int = FAILURES_ALLOWED, window: timedelta = FAILURE_WINDOW) -> None:
        self.allowed = allowed
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(address)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[address]
        return times

    def blocked(self, address: str, now: datetime) -> bool:
        return len(self._recent(address, now)) >= self.allowed

    def failed(self, address: str, now: datetime) -> None:
        self._recent(address, now)
        self._failures.setdefault(address, deque()).append(now)


@dataclass
class RemoteDesk:
    """What every SSH connection of one server shares: the store, the open sessions,
    the failed sign-ins, the clock, and how a session's console is started."""

    store: Store
    console_command: ConsoleCommand
    clock: Clock
    failures: FailedSignIns = field(default_factory=FailedSignIns)
    sessions: set[DeskSession] = field(default_factory=set)
    # The agents of the browser sessions open now (web_server.py), one entry per tab.
    web_sessions: list[SignedIn] = field(default_factory=list)
    stopping: bool = False
    # Audit writes still on their way (a logout's, after its console ended).
    pending: set[asyncio.Task[None]] = field(default_factory=set)
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="itsm-serve")
    )
    # Consoles past their start, waiting for a session (console_pool.py), or None.
    spares: SpareConsoles | None = None

    async def run(self, work: Callable[[Session], T], *, write: bool = False) -> T:
        """`work` in one transaction on a worker thread: the server's loop never waits on SQL."""

        def call() -> T:
            with self.store.write() if write else self.store.read() as session:
                return work(session)

        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    def open_sessions(self, username: str | None = None) -> int:
        """Sessions open now, SSH and browser alike; `username`'s only if given."""
        ssh = sum(
            1
            for s in self.sessions
            if s.console is not None and (username is None or s.who.username == username)
        )
        web = sum(1 for w in self.web_sessions if username is None or w.username == username)
        return ssh + web

    def refusal(self, username: str, settings: ServeSettings) -> str | None:
        """Why a new session of `username` may not open now (a desk-file limit), or None."""
        if self.open_sessions() >= settings.max_sessions:
            return _("itsm: the desk has {n} sessions open, its limit; try again later").format(
                n=settings.max_sessions
            )
        if self.open_sessions(username) >= settings.max_sessions_per_agent:
            return _(
                "itsm: {agent} already has {n} sessions open, the most one agent may; "
                "close one first"
            ).format(agent=username, n=settings.max_sessions_per_agent)
        return None

    async def check_idle(self) -> int:
        """End the sessions idle past the desk's limit; how many ended."""
        settings = await self.run(serve_settings)
        if not settings.idle_timeout_minutes:
            return 0
        limit = timedelta(minutes=settings.idle_timeout_minutes)
        now = self.clock()
        idle = [
            s for s in list(self.sessions) if s.console is not None and now - s.last_input >= limit
        ]
        for s in idle:
            await s.end(
                _("itsm: signed out after {n} minutes without a key").format(
                    n=settings.idle_timeout_minutes
                ),
                why="idle",
                grace=HANG_UP_GRACE_S,
            )
        return len(idle)

    async def stop(self, grace: float = HANG_UP_GRACE_S) -> None:
        """The server is stopping: every session keeps its drafts and is told, then ends."""
        self.stopping = True
        await asyncio.gather(
            *(
                s.end(
                    _(
                        "itsm: the desk's server is stopping; your drafts are kept. "
                        "Sign in again in a moment."
                    ),
                    why="server stopping",
                    grace=grace,
                    orderly=True,
                )
                for s in list(self.sessions)
            )
        )
        if self.pending:
            await asyncio.gather(*self.pending, return_exceptions=True)


class DeskSSHServer(asyncssh.SSHServer):
    """One client connection: public-key sign-in against the desk's keys, nothing else."""

    def __init__(self, desk: RemoteDesk) -> None:
        self.desk = desk
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "?"
        self.candidate: SignedIn | None = None
        self.who: SignedIn | None = None
        self.refused = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"

    def connection_lost(self, exc: Exception | None) -> None:
        if self.who is None and self.refused:
            self.desk.failures.failed(self.address, self.desk.clock())
            log.warning("sign-in refused from %s", self.address)

    def begin_auth(self, username: str) -> bool:
        return True  # always: there is no way in without a key

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        # An address with too many recent failures is offered no method at all.
        return not self.desk.failures.blocked(self.address, self.desk.clock())

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        fingerprint = key.get_fingerprint("sha256")
        try:
            found = await self.desk.run(lambda s: sign_in(s, username, fingerprint))
        except Exception:
            log.exception("looking up a key for %s failed", self.address)
            found = None
        if found is None:
            self.refused = True
            return False
        # asyncssh asks again with the signature: the last key validated is the one that signed.
        self.candidate = found
        return True

    def auth_completed(self) -> None:
        self.who = self.candidate

    def session_requested(self) -> DeskSession | bool:
        if self.who is None:
            return False
        return DeskSession(self.desk, self.who, self.address)

    # Forwarding of every kind is refused (these are asyncssh's defaults, said here on purpose).
    def connection_requested(self, *args: Any) -> bool:
        return False

    def server_requested(self, *args: Any) -> bool:
        return False

    def unix_connection_requested(self, *args: Any) -> bool:
        return False

    def unix_server_requested(self, *args: Any) -> bool:
        return False


class DeskSession(asyncssh.SSHServerSession):  # type: ignore[type-arg]
    """One shell session: the app for the session's agent on a terminal of its own."""

    def __init__(self, desk: RemoteDesk, who: SignedIn, address: str) -> None:
        self.desk = desk
        self.who = who
        self.address = address
        self.chan: asyncssh.SSHServerChannel | None = None  # type: ignore[type-arg]
        self.term_type: str | None = None
        self.size = (DEFAULT_COLUMNS, DEFAULT_ROWS)
        self.console: ConsoleProcess | None = None
        self.started_at = desk.clock()
        self.last_input = self.started_at
        self.logged_in = False
        self._ending = False
        self._why = "disconnected"
        self._notice: str | None = None

    def connection_made(self, chan: Any) -> None:
        self.chan = chan

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any
    ) -> bool:
        self.term_type = term_type or "xterm-256color"
        columns, rows = term_size[0], term_size[1]
        if columns and rows:
            self.size = (columns, rows)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log.info("%s from %s: a command refused", self.who.username, self.address)
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log.info("%s from %s: subsystem %r refused", self.who.username, self.address, subsystem)
        return False

    def session_started(self) -> None:
        asyncio.get_running_loop().create_task(self._start())

    def _refuse(self, message: str) -> None:
        assert self.chan is not None
        self.chan.write(f"{message}\r\n".encode())
        self.chan.exit(1)

    async def _start(self) -> None:
        if self.term_type is None:
            self._refuse(
                _("itsm: the desk needs a terminal; connect with ssh -t, or without a command")
            )
            return
        if self.desk.stopping:
            self._refuse(_("itsm: the desk's server is stopping; sign in again in a moment"))
            return
        settings: ServeSettings = await self.desk.run(serve_settings)
        refusal = self.desk.refusal(self.who.username, settings)
        if refusal is not None:
            self._refuse(refusal)
            return
        if self.chan is None or self.chan.is_closing():
            return
        columns, rows = self.size
        spares = self.desk.spares
        console = None
        if spares is not None:
            console = spares.take(
                self.who.username,
                terminal_type(self.term_type),
                columns=columns,
                rows=rows,
                on_output=self._output,
                on_exit=self._console_ended,
            )
            # Topped up a little later: a spare's start would take CPU from this session's.
            asyncio.get_running_loop().call_later(SPARE_REFILL_S, spares.fill)
        if console is None:
            argv, env = self.desk.console_command(self.who.username, self.term_type)
            console = ConsoleProcess(
                argv,
                env,
                columns=columns,
                rows=rows,
                on_output=self._output,
                on_exit=self._console_ended,
            )
        self.console = console
        self.desk.sessions.add(self)
        self.started_at = self.last_input = self.desk.clock()
        log.info(
            "%s signed in from %s with %s (console pid %s)",
            self.who.username,
            self.address,
            self.who.fingerprint,
            self.console.pid,
        )
        self.logged_in = True
        await self._audit(login=True)

    async def _audit(self, *, login: bool) -> None:
        now = self.desk.clock()
        try:
            if login:
                await self.desk.run(
                    lambda s: record_login(s, self.who, self.address, now=now), write=True
                )
            else:
                await self.desk.run(
                    lambda s: record_logout(
                        s, self.who, self.address, started=self.started_at, now=now, why=self._why
                    ),
                    write=True,
                )
        except Exception:
            log.exception(
                "the %s of %s could not be audited",
                "login" if login else "logout",
                self.who.username,
            )

    # ------------------------------------------------------------------ the stream

    def _output(self, data: bytes) -> None:
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write(data)

    def data_received(self, data: bytes, datatype: Any) -> None:
        self.last_input = self.desk.clock()
        if self.console is not None:
            self.console.write(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if width and height:
            self.size = (width, height)
            if self.console is not None:
                self.console.resize(width, height)

    def pause_writing(self) -> None:
        if self.console is not None:
            self.console.pause_output()

    def resume_writing(self) -> None:
        if self.console is not None:
            self.console.resume_output()

    def break_received(self, msec: int) -> bool:
        return False

    def eof_received(self) -> bool:
        # The client will send no more keys: the session is over.
        asyncio.get_running_loop().create_task(self.end(None, why="disconnected"))
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.chan = None
        if self.console is not None and not self._ending:
            asyncio.get_running_loop().create_task(self.end(None, why="disconnected"))

    # ------------------------------------------------------------------ the end

    async def end(
        self, notice: str | None, *, why: str, grace: float = HANG_UP_GRACE_S, orderly: bool = False
    ) -> None:
        """End the console (orderly: let it restore the screen first), then the channel."""
        if self._ending or self.console is None:
            return
        self._ending = True
        self._why = why
        self._notice = notice
        console = self.console
        if orderly and self.chan is not None:
            await console.stop(grace)
        else:
            await console.hang_up(grace)

    def _console_ended(self, code: int) -> None:
        self.desk.sessions.discard(self)
        if not self._ending:
            self._why = "quit"
        log.info(
            "%s from %s signed out (%s, exit %s)", self.who.username, self.address, self._why, code
        )
        chan = self.chan
        if chan is not None and not chan.is_closing():
            if self._notice:
                chan.write(f"\r\n{self._notice}\r\n".encode())
            chan.exit(0 if code == 0 else 1)
        if self.logged_in:
            self.logged_in = False
            task = asyncio.get_running_loop().create_task(self._audit(login=False))
            self.desk.pending.add(task)
            task.add_done_callback(self.desk.pending.discard)
