"""`itsm serve`'s SSH server in the test's own event loop, and a real SSH client's screen.

The server listens on 127.0.0.1 on a port of the kernel's choosing and is stopped by
the test; every console it starts is a real child process on a real PTY. Keys are
made here, per test, never kept. Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncssh
import pyte

from itsm_tui.data.models import DeskSetting
from itsm_tui.data.store import Store
from itsm_tui.desk.agent_keys import add_key
from itsm_tui.desk.records import get_agent
from itsm_tui.remote.server import DeskServer
from itsm_tui.remote.web_server import ProxyTrust
from tests.factories import NOW

# Generous: two cores shared by many; a console that hangs fails long before.
START_S = 60.0
END_S = 20.0


class Clock:
    """The server's clock, moved by the test (idle timeouts, failed sign-ins)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def new_key(comment: str = "") -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519", comment=comment)


def give_key(store: Store, agent: str, key: asyncssh.SSHKey) -> str:
    """Add the key's public half to `agent` (as the desk's admin); its fingerprint."""
    line = key.export_public_key("openssh").decode()
    with store.write() as session:
        added = add_key(session, get_agent(session, "root"), agent, line, now=NOW)
    return added.fingerprint


def set_limits(store: Store, **limits: int) -> None:
    with store.write() as session:
        row = session.get(DeskSetting, "serve")
        if row is None:
            session.add(DeskSetting(key="serve", value=dict(limits)))
        else:
            row.value = {**row.value, **limits}


@dataclass
class Server:
    server: DeskServer
    clock: Clock
    escalators: list[Any] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def web_port(self) -> int:
        return self.server.web_port

    @property
    def desk(self):  # type: ignore[no-untyped-def]
        return self.server.desk

    def console_pids(self) -> list[int]:
        return [s.console.pid for s in self.desk.sessions if s.console is not None]


class CountingEscalator:
    def __init__(self) -> None:
        self.stopped = False

    def shutdown(self, wait: bool = True) -> None:
        self.stopped = True


@contextlib.asynccontextmanager
async def running_server(
    store: Store,
    folder: Path,
    *,
    grace: float = 5.0,
    web_secret: str | None = None,
    web_public_url: str | None = None,
    spare_consoles: int | None = None,
) -> AsyncIterator[Server]:
    clock = Clock()
    started: list[Any] = []

    def start_escalator(_store: Store) -> CountingEscalator:
        started.append(CountingEscalator())
        return started[-1]

    server = DeskServer(
        store=store,
        url=store.url,
        host_key_path=folder / "host" / "ssh_host_ed25519_key",
        ssh_address=("127.0.0.1", 0),
        clock=clock,
        start_escalator=start_escalator,
        grace=grace,
        env=dict(os.environ, XDG_DATA_HOME=str(folder / "xdg-data")),
        web_address=("127.0.0.1", 0) if web_secret else None,
        web_trust=ProxyTrust.of(["127.0.0.1"], web_secret) if web_secret else None,
        web_public_url=web_public_url,
        # Tests of what comes before a console (the page, its files) may start none.
        **({} if spare_consoles is None else {"spare_consoles": spare_consoles}),
    )
    await server.start()
    try:
        yield Server(server, clock, started)
    finally:
        await server.stop()


async def connect(
    port: int, username: str, key: asyncssh.SSHKey | None, **options: Any
) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1",
        port,
        username=username,
        client_keys=[key] if key is not None else [],
        known_hosts=None,
        agent_path=None,
        password=options.pop("password", None),
        preferred_auth=options.pop("preferred_auth", "publickey"),
        **options,
    )


class RemoteScreen:
    """A session's terminal as the client sees it: the stream rendered by pyte."""

    def __init__(self, process: asyncssh.SSHClientProcess, columns: int, rows: int) -> None:
        self.process = process
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.ended = False

    @classmethod
    async def open(
        cls, conn: asyncssh.SSHClientConnection, columns: int = 100, rows: int = 30
    ) -> RemoteScreen:
        process = await conn.create_process(
            term_type="xterm-256color", term_size=(columns, rows), encoding=None
        )
        return cls(process, columns, rows)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def _pump(self, timeout: float) -> None:
        try:
            data = await asyncio.wait_for(self.process.stdout.read(65536), timeout)
        except TimeoutError:
            return
        if not data:
            self.ended = True
            return
        self.raw += data
        self.stream.feed(data)

    async def wait_for(
        self, condition: Callable[[str], bool] | str, limit: float = START_S
    ) -> bool:
        test = (lambda text: condition in text) if isinstance(condition, str) else condition
        end = time.monotonic() + limit
        while not test(self.text()):
            if self.ended or time.monotonic() > end:
                return test(self.text())
            await self._pump(0.2)
        return True

    async def until_closed(self, limit: float = END_S) -> bool:
        end = time.monotonic() + limit
        while not self.ended and time.monotonic() < end:
            await self._pump(0.2)
        return self.ended

    def type(self, keys: str) -> None:
        self.process.stdin.write(keys.encode())

    def resize(self, columns: int, rows: int) -> None:
        self.screen.resize(rows, columns)
        self.process.change_terminal_size(columns, rows)


def alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie, ended but not yet reaped, does not count)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def wait_until(condition: Callable[[], bool], limit: float) -> bool:
    end = time.monotonic() + limit
    while not condition():
        if time.monotonic() > end:
            return condition()
        await asyncio.sleep(0.05)
    return True
