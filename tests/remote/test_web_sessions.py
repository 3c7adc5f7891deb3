"""`itsm serve --web`: the app in a browser behind the organisation's proxy, over a real
HTTP and websocket connection; nothing for a request the proxy did not vouch for."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pyte
import pytest
from sqlalchemy import select

from itsm_tui.data.models import AuditEvent
from itsm_tui.data.store import Store
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.tickets import create_ticket
from itsm_tui.remote.web_server import SECRET_HEADER, ProxyTrust
from tests.factories import NOW, build_desk
from tests.remote.sessions import END_S, START_S, running_server, wait_until

pytestmark = pytest.mark.timeout(300)

SECRET = "correct horse battery staple"


def vouched(agent: str, secret: str = SECRET) -> dict[str, str]:
    return {"X-Forwarded-User": agent, SECRET_HEADER: secret}


async def first_frame(ws: aiohttp.ClientWebSocketResponse, expected: str) -> pyte.Screen:
    """The app's screen as the browser gets it (binary frames of terminal output)."""
    screen = pyte.Screen(100, 30)
    stream = pyte.ByteStream(screen)
    end = time.monotonic() + START_S
    while expected not in "\n".join(screen.display) and time.monotonic() < end:
        try:
            message = await ws.receive(timeout=1)
        except TimeoutError:
            continue
        if message.type == aiohttp.WSMsgType.BINARY:
            stream.feed(message.data)
        elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            break
    assert expected in "\n".join(screen.display), "\n".join(screen.display)
    return screen


async def closed_by_server(ws: aiohttp.ClientWebSocketResponse) -> bool:
    """Whether the server closes the socket (frames still on their way are read past)."""
    end = time.monotonic() + END_S
    while not ws.closed and time.monotonic() < end:
        try:
            message = await ws.receive(timeout=1)
        except TimeoutError:
            continue
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return True
    return ws.closed


def test_the_proxy_is_believed_only_from_its_address_with_its_secret() -> None:
    trust = ProxyTrust.of(["10.1.0.0/16", "::1"], SECRET)
    assert trust.agent_named("10.1.2.3", vouched("alice")) == "alice"
    assert trust.agent_named("::1", vouched("alice")) == "alice"
    assert trust.agent_named("10.2.0.1", vouched("alice")) is None  # not the proxy
    assert trust.agent_named("10.1.2.3", vouched("alice", "guess")) is None
    assert trust.agent_named("10.1.2.3", {"X-Forwarded-User": "alice"}) is None
    assert trust.agent_named("10.1.2.3", {SECRET_HEADER: SECRET}) is None
    assert trust.agent_named("10.1.2.3", vouched(" alice")) == "alice"
    assert trust.agent_named("10.1.2.3", vouched("alice\x1b[2J")) is None
    assert trust.agent_named(None, vouched("alice")) is None


def test_the_page_and_the_apps_first_frame_for_the_vouched_agent(
    desk_store: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        # The server stops first (the last context leaves first) while bob's tab is open.
        async with (
            aiohttp.ClientSession() as http,
            running_server(desk_store, tmp_path, web_secret=SECRET) as server,
        ):
            base = f"http://127.0.0.1:{server.web_port}"
            # Without the proxy's word: a bare 403 for the page, its files and the socket.
            for path in ("/", "/static/js/textual.js", "/ws"):
                async with http.get(base + path) as refused:
                    assert refused.status == 403
                    assert await refused.read() == b""
            async with http.get(base + "/", headers=vouched("alice", "wrong")) as refused:
                assert refused.status == 403
            async with http.get(base + "/", headers=vouched("nobody")) as refused:
                assert refused.status == 403
            async with http.get(base + "/", headers=vouched("alice")) as page:
                assert page.status == 200
                html = await page.text()
            # Nothing from the internet: every URL on the page is the desk's own.
            assert "googleapis" not in html and "cdn" not in html
            assert f"ws://127.0.0.1:{server.web_port}/ws" in html
            # Its script is the desk's own copy, under the release of textual-serve's files.
            script = re.search(r'<script src="([^"]+)"', html)
            assert script is not None and script[1].endswith("/js/textual.js"), html
            async with http.get(script[1], headers=vouched("alice")) as js:
                assert js.status == 200
            async with http.get(script[1]) as refused:
                assert refused.status == 403

            ws = await http.ws_connect(f"{base}/ws?width=100&height=30", headers=vouched("alice"))
            screen = await first_frame(ws, "VPN drops every hour")
            text = "\n".join(screen.display)
            assert "VPN drops every hour" in text, text
            assert "alice" in screen.display[0]
            assert "Printer jams" not in text
            assert len(server.desk.web_sessions) == 1
            await ws.close()
            assert await wait_until(lambda: not server.desk.web_sessions, END_S)
            # Bob's tab is still open when the server stops: it is closed, and audited so.
            bobs = await http.ws_connect(f"{base}/ws?width=100&height=30", headers=vouched("bob"))
            await first_frame(bobs, "Printer jams on floor 3")
        assert await closed_by_server(bobs)
        with desk_store.read() as session:
            events = session.execute(
                select(AuditEvent.record_number, AuditEvent.action, AuditEvent.new_value)
                .where(AuditEvent.action.in_(["session.login", "session.logout"]))
                .order_by(AuditEvent.id)
            ).all()
        assert [(who, action) for who, action, _v in events] == [
            ("alice", "session.login"),
            ("alice", "session.logout"),
            ("bob", "session.login"),
            ("bob", "session.logout"),
        ]
        assert '"why": "server stopping"' in events[-1][2]
        assert '"fingerprint": "proxy"' in events[-1][2]

    asyncio.run(scenario())


@pytest.fixture
def either_desk(store: Store) -> Store:
    """alice's and bob's desk on each backend: the tabs' consoles open it themselves."""
    build_desk(store)
    with store.write() as session:
        for agent, title in (("alice", "VPN drops every hour"), ("bob", "Printer jams on floor 3")):
            create_ticket(
                session,
                get_agent(session, agent),
                type="incident",
                title=title,
                impact=2,
                urgency=2,
                assignee=agent,
                now=NOW,
            )
    return store


async def frames_until(
    ws: aiohttp.ClientWebSocketResponse, screen: pyte.Screen, done: Callable[[], bool]
) -> bytes:
    """Feed the app's frames to `screen` until `done()`; the raw bytes received."""
    stream = pyte.ByteStream(screen)
    raw = bytearray()
    end = time.monotonic() + START_S
    while not done() and time.monotonic() < end:
        try:
            message = await ws.receive(timeout=1)
        except TimeoutError:
            continue
        if message.type == aiohttp.WSMsgType.BINARY:
            raw += message.data
            stream.feed(message.data)
        elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            break
    assert done(), "\n".join(screen.display)
    return bytes(raw)


def test_a_tab_is_served_by_a_waiting_console_as_the_proxys_agent(
    either_desk: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with (
            aiohttp.ClientSession() as http,
            running_server(either_desk, tmp_path, web_secret=SECRET, spare_consoles=1) as server,
        ):
            web = server.server.web
            spares = server.server.desk.spares
            assert web is not None and spares is not None
            [spare] = spares.pids
            base = f"ws://127.0.0.1:{server.web_port}/ws"

            alices = await http.ws_connect(f"{base}?width=100&height=30", headers=vouched("alice"))
            screen = pyte.Screen(100, 30)
            raw = await frames_until(
                alices, screen, lambda: "VPN drops every hour" in "\n".join(screen.display)
            )
            # The spare that waited is alice's tab's console, and it acts as alice.
            [console] = web.consoles.values()
            assert console.pid == spare
            assert "alice" in screen.display[0]
            assert "Printer jams" not in "\n".join(screen.display)
            # The page's terminal draws true colour, and the spare was told so.
            assert b"\x1b[38;2;" in raw

            # Bob's tab, the pool empty until its refill: a console started for him.
            bobs = await http.ws_connect(f"{base}?width=100&height=30", headers=vouched("bob"))
            bob_screen = pyte.Screen(100, 30)
            await frames_until(
                bobs, bob_screen, lambda: "Printer jams on floor 3" in "\n".join(bob_screen.display)
            )
            assert "bob" in bob_screen.display[0]
            pids = {c.pid for c in web.consoles.values()}
            assert len(pids) == 2 and spare in pids

            # The page's terminal resized: the app redraws at the new size (its footer
            # on the 40th line, where the 30-line frames left nothing).
            wider = pyte.Screen(120, 40)
            pyte.ByteStream(wider).feed(raw)
            assert not wider.display[39].strip()
            await alices.send_json(["resize", {"width": 120, "height": 40}])
            await frames_until(alices, wider, lambda: "? Help" in wider.display[39])
            # Keys from the page's terminal reach the app: q quits, and the tab is closed.
            await alices.send_json(["stdin", "q"])
            assert await closed_by_server(alices)
            assert await wait_until(lambda: len(web.consoles) == 1, END_S)
            assert await wait_until(lambda: console.process.poll() is not None, END_S)
            await bobs.close()
            assert await wait_until(lambda: not web.consoles, END_S)

    asyncio.run(scenario())
