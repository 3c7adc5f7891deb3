"""`itsm serve`: one long-lived process with the SSH server, the browser server (when
asked for) and the escalator, run once.

Sessions come and go; the SLA sweep runs here once for all of them (each console is
started without one). SIGTERM or SIGINT: no new sessions, every open one keeps its
drafts and is told the server is stopping, then the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh

from itsm_tui.config.readers import serve_settings
from itsm_tui.data.store import Store
from itsm_tui.remote.console_pool import SPARE_CONSOLES, SpareConsoles
from itsm_tui.remote.console_process import HANG_UP_GRACE_S, terminal_type
from itsm_tui.remote.host_key import fingerprint, load_or_create_host_key
from itsm_tui.remote.ssh_server import LOGIN_TIMEOUT_S, DeskSSHServer, RemoteDesk

if TYPE_CHECKING:
    from itsm_tui.remote.intake_server import IntakeServer
    from itsm_tui.remote.web_server import DeskWebServer, ProxyTrust

log = logging.getLogger("itsm.serve")

# The compression a client may ask for: zlib started after sign-in (what OpenSSH's `ssh
# -C` asks for first), or none. Plain `zlib` from the first packet is left out.
SSH_COMPRESSION = ("zlib@openssh.com", "none")
# How often idle sessions are looked for: a tenth of a minute late at most.
IDLE_CHECK_S = 6.0
# What a console may inherit from the server's environment; nothing else reaches it
# (not ITSM_AGENT, not the server's own settings). COLORTERM is not among them: OpenSSH
# does not forward it, so the app is drawn for the 256 colours TERM promises.
# ITSM_FRAME_LOG: a console's timing log, for diagnosis (frame_log.py).
PASSED_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "XDG_DATA_HOME",
    "TMPDIR",
    "ITSM_FRAME_LOG",
)


def console_env(url: str, base: Mapping[str, str], term: str) -> dict[str, str]:
    env = {k: base[k] for k in PASSED_ENV if k in base}
    env.setdefault("LANG", "C.UTF-8")
    env["TERM"] = terminal_type(term)
    env["ITSM_DB"] = url  # in the environment: a password in a URL stays out of `ps`
    return env


def console_command(
    url: str, base: Mapping[str, str]
) -> Callable[[str, str], tuple[Sequence[str], dict[str, str]]]:
    """How a session's console starts: this interpreter, the console module, the agent."""

    def command(agent: str, term: str) -> tuple[Sequence[str], dict[str, str]]:
        return [sys.executable, "-m", "itsm_tui.remote.console", agent], console_env(
            url, base, term
        )

    return command


def spare_command(
    url: str, base: Mapping[str, str]
) -> Callable[[], tuple[Sequence[str], dict[str, str]]]:
    """How a spare console starts: the same, waiting for its agent (the pipe's number
    follows); the session's terminal type replaces TERM when it is given one."""

    def command() -> tuple[Sequence[str], dict[str, str]]:
        argv = [sys.executable, "-m", "itsm_tui.remote.console", "--wait"]
        return argv, console_env(url, base, "xterm-256color")

    return command


def parse_address(text: str, default_port: int) -> tuple[str, int]:
    """HOST:PORT, [v6]:PORT, HOST or :PORT."""
    host, _sep, port = text.rpartition(":") if ":" in text else (text, "", "")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port:
        return (host or "127.0.0.1"), default_port
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r} is not HOST:PORT")
    return (host or "127.0.0.1"), int(port)


@dataclass
class DeskServer:
    """The SSH server on one store, with its escalator; start, then stop."""

    store: Store
    url: str
    host_key_path: Path
    ssh_address: tuple[str, int]
    clock: Callable[[], datetime]
    # Starts the escalator on the store and returns something with shutdown(); None: none.
    start_escalator: Callable[[Store], Any] | None = None
    grace: float = HANG_UP_GRACE_S
    env: Mapping[str, str] | None = None
    # The browser side (web_server.py): where it listens, whom it believes, its public URL.
    web_address: tuple[str, int] | None = None
    web_trust: ProxyTrust | None = None
    web_public_url: str | None = None
    # Where the browser's files are kept compressed (web_statics.py); None: in `cache/web`
    # beside the host key, which `itsm serve` keeps in the data directory.
    web_cache: Path | None = None
    # The alert intake (intake_server.py): where it listens; None: not here.
    intake_address: tuple[str, int] | None = None
    # Consoles started ahead of the sign-ins (console_pool.py); 0: each starts on its own.
    spare_consoles: int = SPARE_CONSOLES

    def __post_init__(self) -> None:
        self.host_key = load_or_create_host_key(self.host_key_path)
        env = self.env if self.env is not None else os.environ
        self.desk = RemoteDesk(
            self.store,
            console_command(self.url, env),
            self.clock,
            spares=SpareConsoles(spare_command(self.url, env), self.spare_consoles)
            if self.spare_consoles
            else None,
        )
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._web: DeskWebServer | None = None
        self._web_runner: Any = None
        self._escalator: Any = None
        self._idle_task: asyncio.Task[None] | None = None
        self.intake: IntakeServer | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.host_key)

    @property
    def port(self) -> int:
        assert self._acceptor is not None
        return int(self._acceptor.sockets[0].getsockname()[1])

    @property
    def web(self) -> DeskWebServer | None:
        """The browser side, once started with `web_address`."""
        return self._web

    @property
    def web_port(self) -> int:
        from itsm_tui.remote.web_server import web_port

        return web_port(self._web_runner)

    async def start(self) -> None:
        settings = await self.desk.run(serve_settings)
        if self.intake_address is not None:
            # First: a refusal (no token) stops the server before anyone connects.
            from itsm_tui.remote.intake_server import IntakeServer, intake_tokens

            self.intake = IntakeServer(self.store, self.clock, self.intake_address, intake_tokens())
            await self.intake.start()
        host, port = self.ssh_address
        self._acceptor = await asyncssh.create_server(
            lambda: DeskSSHServer(self.desk),
            host,
            port,
            server_host_keys=[self.host_key],
            # Bytes straight through: no decoding (a key split by a slow link stays whole
            # for the app's parser) and no line editor (it would swallow the app's keys).
            encoding=None,
            line_editor=False,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_scp=False,
            sftp_factory=None,
            # A client that asks (OpenSSH's `ssh -C`, `Compression yes`) gets its frames
            # compressed after sign-in: a frame of the queue is 5 to 10 times smaller, and
            # on a slow link the bytes are most of a page-down. Only the delayed kind: no
            # compression before the key is checked. Clients that do not ask get none.
            compression_algs=SSH_COMPRESSION,
            login_timeout=LOGIN_TIMEOUT_S,
            keepalive_interval=settings.keepalive_seconds,
            keepalive_count_max=3,
        )
        if self.desk.spares is not None:
            self.desk.spares.fill()
        if self.web_address is not None:
            await self._start_web()
        if self.start_escalator is not None:
            self._escalator = self.start_escalator(self.store)
        self._idle_task = asyncio.get_running_loop().create_task(self._watch_idle())

    async def _start_web(self) -> None:
        from itsm_tui.remote.web_server import STATICS, DeskWebServer, start_web
        from itsm_tui.remote.web_statics import prepare_statics

        assert self.web_address is not None and self.web_trust is not None
        host, port = self.web_address
        cache = self.web_cache or self.host_key_path.parent / "cache" / "web"
        # Once per start, before the first browser: compressing on a request would make
        # that browser wait (and the file is the same for everyone).
        statics = await asyncio.to_thread(prepare_statics, STATICS, cache)
        self._web = DeskWebServer(
            self.desk,
            self.web_trust,
            host=host,
            port=port,
            public_url=self.web_public_url,
            statics=statics,
            grace=self.grace,
        )
        self._web_runner = await start_web(self._web)
        if self.web_public_url is None:
            # Port 0 listens where the kernel chose: the page must name that port.
            shown = f"[{host}]" if ":" in host else host
            self._web.public_url = f"http://{shown}:{self.web_port}"

    async def _watch_idle(self) -> None:
        while True:
            await asyncio.sleep(IDLE_CHECK_S)
            try:
                await self.desk.check_idle()
            except Exception:
                log.exception("looking for idle sessions failed")

    async def stop(self) -> None:
        if self._idle_task is not None:
            self._idle_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._idle_task
        if self._acceptor is not None:
            self._acceptor.close()
        await self.desk.stop(self.grace)
        if self.desk.spares is not None:
            await self.desk.spares.close()
        if self._web is not None:
            await self._web.close_connections()
            await self._web_runner.cleanup()
            self._web = None
        if self._acceptor is not None:
            await self._acceptor.wait_closed()
        if self.intake is not None:
            await self.intake.stop()
            self.intake = None
        if self._escalator is not None:
            self._escalator.shutdown(wait=True)
            self._escalator = None
        self.desk.executor.shutdown(wait=True)


def run_server(server: DeskServer, announce: Callable[[str], None]) -> int:
    """Serve until SIGTERM or SIGINT; 0 once every session has ended."""

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await server.start()
        host, _port = server.ssh_address
        announce(f"itsm serve: SSH on {host}:{server.port}, host key {server.fingerprint}")
        if server.web_address is not None:
            announce(f"itsm serve: browsers on {server.web_address[0]}:{server.web_port}")
        if server.intake is not None:
            assert server.intake_address is not None
            announce(f"itsm serve: alerts on {server.intake_address[0]}:{server.intake.port}")
        await stop.wait()
        announce("itsm serve: stopping")
        await server.stop()
        announce("itsm serve: stopped")
        return 0

    return asyncio.run(main())
