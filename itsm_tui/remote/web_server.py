"""The browser side of `itsm serve`: the same app, a console of its own per browser tab.

textual-serve's page and script draw the terminal (xterm.js); each tab's console is the
SSH side's: its own process on its own PTY, a spare one when one waits (console_pool.py),
its bytes relayed over the tab's websocket.

It is meant to sit behind the organisation's reverse proxy and its single sign-on:
the proxy says who the agent is in a header. That header is believed only from the
proxy's own addresses and only with the secret the proxy and the desk share; any
other request gets a bare 403 and nothing else: not the page, not a static file, not
a websocket. The agent it names is fixed for the connection's app, as over SSH.

The static files are served compressed and kept by the browser (web_statics.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import textual_serve
from aiohttp import WSMsgType, hdrs, web
from textual_serve.server import Server

from itsm_tui.config.readers import serve_settings
from itsm_tui.desk.remote_sessions import SignedIn, record_login, record_logout, vouched_for
from itsm_tui.domain.roles import USERNAME
from itsm_tui.remote.console_process import HANG_UP_GRACE_S, ConsoleProcess
from itsm_tui.remote.ssh_server import SPARE_REFILL_S, RemoteDesk
from itsm_tui.remote.web_statics import STATIC_CACHE_CONTROL, Statics

log = logging.getLogger("itsm.serve")

SECRET_HEADER = "X-Itsm-Proxy-Secret"
DEFAULT_USER_HEADER = "X-Forwarded-User"
TEMPLATES = Path(__file__).with_name("templates")
STATICS = Path(textual_serve.__file__).with_name("static")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The agent the proxy vouched for, on the request the gate let through.
AGENT = web.RequestKey("itsm.agent", SignedIn)
# A tab's console: the page's terminal is xterm.js, which draws true colour.
WEB_TERM = "xterm-256color"
WEB_COLORS = "truecolor"
# Bytes queued for a tab beyond which its console is made to wait.
BEHIND_BYTES = 256 * 1024


@dataclass(frozen=True)
class ProxyTrust:
    """Whom the browser side believes: the proxy's addresses, its secret, its header."""

    proxies: tuple[Network, ...]
    secret: str
    user_header: str = DEFAULT_USER_HEADER

    @classmethod
    def of(
        cls, proxies: Iterable[str], secret: str, user_header: str = DEFAULT_USER_HEADER
    ) -> ProxyTrust:
        return cls(
            tuple(ipaddress.ip_network(p, strict=False) for p in proxies), secret, user_header
        )

    def agent_named(self, remote: str | None, headers: Mapping[str, str]) -> str | None:
        """The agent a request is vouched for, or None when it is not the proxy's."""
        try:
            address = ipaddress.ip_address(remote or "")
        except ValueError:
            return None
        if not any(address in network for network in self.proxies):
            return None
        # Constant time: the comparison must not tell an attacker how much they got right.
        given = headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return None
        name = headers.get(self.user_header, "").strip()
        if not USERNAME.fullmatch(name) or len(name) > 80:
            return None
        return name


class TabOutput:
    """What a tab's console writes, sent to the page in order. A slow browser makes the
    console wait (its output is no longer read), as a slow SSH client does, rather than
    the server holding an ever longer queue of frames."""

    def __init__(self, websocket: web.WebSocketResponse) -> None:
        self.websocket = websocket
        self.console: ConsoleProcess | None = None
        self.queued = 0
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._sender = asyncio.get_running_loop().create_task(self._send())

    def put(self, data: bytes) -> None:
        self._queue.put_nowait(data)
        self.queued += len(data)
        if self.queued > BEHIND_BYTES and self.console is not None:
            self.console.pause_output()

    def ended(self, _code: int) -> None:
        # The app quit (or died): the tab's socket closes once its last frame is sent.
        self._queue.put_nowait(None)

    async def _send(self) -> None:
        while (data := await self._queue.get()) is not None:
            self.queued -= len(data)
            # A tab gone mid-frame: its handler hangs the console up.
            with contextlib.suppress(ConnectionError):
                await self.websocket.send_bytes(data)
            if self.queued <= BEHIND_BYTES // 2 and self.console is not None:
                self.console.resume_output()
        await self.websocket.close()

    async def close(self) -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await self._sender


class DeskWebServer(Server):
    """textual-serve's server with the proxy's word for who is connecting."""

    def __init__(
        self,
        desk: RemoteDesk,
        trust: ProxyTrust,
        *,
        host: str,
        port: int,
        public_url: str | None,
        statics: Statics,
        title: str = "IT Service Desk",
        grace: float = HANG_UP_GRACE_S,
    ) -> None:
        super().__init__(
            "itsm",
            host=host,
            port=port,
            title=title,
            public_url=public_url,
            statics_path=statics.folder,
            templates_path=TEMPLATES,
        )
        self.statics = statics
        self.desk = desk
        self.trust = trust
        self.grace = grace
        self.connections: set[web.WebSocketResponse] = set()
        # Each open tab's console (its own process on its own PTY).
        self.consoles: dict[web.WebSocketResponse, ConsoleProcess] = {}

    async def make_application(self) -> web.Application:
        import aiohttp_jinja2
        import jinja2

        # The proxy's gate first: a refused request never reaches the files' headers.
        app = web.Application(middlewares=[self._only_the_proxy, self._kept_by_the_browser])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                # The release in the URL: a new textual-serve is new URLs, never a stale copy.
                web.static(f"/static/{self.statics.release}", self.statics_path, name="static"),
            ]
        )
        return app

    async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
        response = await super().handle_index(request)
        assert isinstance(response, web.Response)  # rendered by aiohttp_jinja2's decorator
        # A few kB made per request anyway: compressed for a client that accepts it, and
        # never kept (it names the current files and websocket).
        response.enable_compression()
        response.headers[hdrs.CACHE_CONTROL] = "no-cache"
        return response

    @web.middleware
    async def _kept_by_the_browser(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        if request.match_info.route.name == "static":
            # FileResponse picks the .gz sibling per request's Accept-Encoding, but says
            # Vary only when it sends the sibling: a cache must know that the plain answer
            # depends on the header too.
            response.headers[hdrs.CACHE_CONTROL] = STATIC_CACHE_CONTROL
            response.headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
        return response

    @web.middleware
    async def _only_the_proxy(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        name = self.trust.agent_named(request.remote, request.headers)
        who = None
        if name is not None:
            try:
                who = await self.desk.run(lambda s: vouched_for(s, name))
            except Exception:
                log.exception("looking up agent %s failed", name)
        if who is None:
            log.warning("web request refused from %s", request.remote)
            # Nothing at all: no page, no hint of what would have been accepted.
            return web.Response(status=403)
        request[AGENT] = who
        return await handler(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        who = request[AGENT]
        address = (
            request.headers.get("X-Forwarded-For", request.remote or "?").split(",")[0].strip()
        )
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        settings = await self.desk.run(serve_settings)
        refusal = self.desk.refusal(who.username, settings)
        if refusal is not None or self.desk.stopping:
            await websocket.close(message=(refusal or "the server is stopping").encode()[:120])
            return websocket
        width = _size(request.query.get("width"), 80)
        height = _size(request.query.get("height"), 24)
        tab = TabOutput(websocket)
        console = self._console_for(who.username, width, height, tab)
        tab.console = console
        self.connections.add(websocket)
        self.desk.web_sessions.append(who)
        self.consoles[websocket] = console
        started = self.desk.clock()
        await self.desk.run(lambda s: record_login(s, who, address, now=started), write=True)
        log.info(
            "%s signed in from %s in a browser (console pid %s)", who.username, address, console.pid
        )
        why = "disconnected"
        try:
            try:
                await self._tab_messages(websocket, console)
            finally:
                why = "server stopping" if self.desk.stopping else "disconnected"
                if self.desk.stopping:
                    # The line still up: the app keeps its drafts and restores the screen.
                    await console.stop(self.grace)
                else:
                    await console.hang_up()
                await tab.close()
        except asyncio.CancelledError:
            await websocket.close()
        finally:
            self.connections.discard(websocket)
            self.consoles.pop(websocket, None)
            self.desk.web_sessions.remove(who)
            now = self.desk.clock()
            await self.desk.run(
                lambda s: record_logout(s, who, address, started=started, now=now, why=why),
                write=True,
            )
            log.info("%s from %s signed out of the browser (%s)", who.username, address, why)
        return websocket

    def _console_for(self, agent: str, columns: int, rows: int, tab: TabOutput) -> ConsoleProcess:
        """The tab's console: a spare one when one waits (the same pool as SSH's), else one
        started now. Either way its own process on its own PTY, its agent the proxy's."""
        spares = self.desk.spares
        console = None
        if spares is not None:
            console = spares.take(
                agent,
                WEB_TERM,
                columns=columns,
                rows=rows,
                on_output=tab.put,
                on_exit=tab.ended,
                colors=WEB_COLORS,
            )
            # Topped up a little later: a spare's start would take CPU from this tab's.
            asyncio.get_running_loop().call_later(SPARE_REFILL_S, spares.fill)
        if console is None:
            argv, env = self.desk.console_command(agent, WEB_TERM)
            console = ConsoleProcess(
                argv,
                {**env, "COLORTERM": WEB_COLORS},
                columns=columns,
                rows=rows,
                on_output=tab.put,
                on_exit=tab.ended,
            )
        return console

    async def _tab_messages(
        self, websocket: web.WebSocketResponse, console: ConsoleProcess
    ) -> None:
        """What the page's terminal (xterm.js) sends: keys, its size, pings. Its focus and
        blur need nothing here: xterm.js reports focus itself when the app asks for it."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = message.json()
                kind = envelope[0]
            except (ValueError, TypeError, IndexError, KeyError):
                continue
            if kind == "stdin" and isinstance(envelope[1], str):
                console.write(envelope[1].encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(envelope[1], dict):
                size = envelope[1]
                columns = _size(str(size.get("width")), 80)
                console.resize(columns, _size(str(size.get("height")), 24))
            elif kind == "ping":
                await websocket.send_json(["pong", envelope[1]])

    async def close_connections(self) -> None:
        """The server is stopping: each browser's app quits (keeping its drafts)."""
        for websocket in list(self.connections):
            await websocket.close(message=b"the desk's server is stopping")


def _size(value: str | None, default: int) -> int:
    try:
        return max(10, min(int(value or default), 1000))
    except ValueError:
        return default


async def start_web(server: DeskWebServer) -> web.AppRunner:
    runner = web.AppRunner(await server.make_application(), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, server.host, server.port)
    await site.start()
    return runner


def web_port(runner: web.AppRunner) -> int:
    for site in runner.sites:
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            return int(server.sockets[0].getsockname()[1])
    raise RuntimeError("the web server is not listening")
