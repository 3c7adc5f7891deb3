"""Once, a real browser: Debian's Chromium, headless, loads the desk through a proxy that
vouches for the agent, and its screenshot shows the agent's queue.

The page draws the terminal on a canvas, so the page's text is not in its DOM. What the
browser received is rendered by pyte in the proxy; the screenshot of the terminal must
have ink on exactly the lines where that screen has text (a blank page, the page's own
intro or a frame never drawn fails), and the queue's ticket must be on one of them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import pyte
import pytest
from aiohttp import web

from itsm_tui.data.store import Store
from itsm_tui.remote.web_server import SECRET_HEADER
from tests.remote.sessions import START_S, running_server

pytestmark = pytest.mark.timeout(300)

SECRET = "correct horse battery staple"
CHROMIUM = shutil.which("chromium")


class VouchingProxy:
    """The organisation's reverse proxy in miniature: names alice, sends the secret, and
    renders what the desk sends the browser on a pyte screen of the browser's size."""

    def __init__(self) -> None:
        self.upstream = ""
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.http = aiohttp.ClientSession()

    def headers(self) -> dict[str, str]:
        return {"X-Forwarded-User": "alice", SECRET_HEADER: SECRET}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        url = self.upstream + request.path_qs
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._relay_socket(request, url.replace("http:", "ws:", 1))
        async with self.http.get(url, headers=self.headers()) as answer:
            return web.Response(
                status=answer.status,
                body=await answer.read(),
                content_type=answer.content_type,
            )

    async def _relay_socket(self, request: web.Request, url: str) -> web.WebSocketResponse:
        browser = web.WebSocketResponse()
        await browser.prepare(request)
        self.screen.resize(
            int(request.query.get("height", 24)), int(request.query.get("width", 80))
        )
        async with self.http.ws_connect(url, headers=self.headers()) as desk:

            async def to_desk() -> None:
                async for message in browser:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        self._follow_resize(message.data)
                        await desk.send_str(message.data)
                    elif message.type == aiohttp.WSMsgType.BINARY:
                        await desk.send_bytes(message.data)
                await desk.close()

            upward = asyncio.get_running_loop().create_task(to_desk())
            async for message in desk:
                if message.type == aiohttp.WSMsgType.BINARY:
                    self.stream.feed(message.data)
                    await browser.send_bytes(message.data)
                elif message.type == aiohttp.WSMsgType.TEXT:
                    await browser.send_str(message.data)
            upward.cancel()
        await browser.close()
        return browser

    def _follow_resize(self, data: str) -> None:
        with_size = json.loads(data)
        if isinstance(with_size, list) and with_size[:1] == ["resize"]:
            self.screen.resize(with_size[1]["height"], with_size[1]["width"])


class DevTools:
    """Chromium's DevTools protocol on the page it opened: one command at a time."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.next_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.socket.send_json({"id": self.next_id, "method": method, "params": params})
        async for message in self.socket:
            answer = json.loads(message.data)
            if answer.get("id") == self.next_id:
                assert "error" not in answer, answer
                return dict(answer["result"])
        raise ConnectionError("Chromium closed its DevTools socket")

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


def decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """Width, height, unfiltered rows and bytes per pixel of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat = 8, b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    bpp = 4 if colour == 6 else 3
    raw, stride = zlib.decompress(idat), width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up, corner = previous[x], previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (
                    line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)
                ) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows, bpp


def inked_lines(png: bytes, lines: int) -> list[bool]:
    """For each terminal line of the screenshot: whether glyphs are drawn on it (pixels
    far from the line's own most common colour, the background)."""
    width, height, rows, bpp = decode_png(png)
    inked = []
    for line in range(lines):
        band = rows[line * height // lines : (line + 1) * height // lines]
        pixels = [row[x : x + 3] for row in band for x in range(0, width * bpp, bpp)]
        background = max(set(pixels), key=pixels.count)
        far = sum(
            1 for p in pixels if sum(abs(a - b) for a, b in zip(p, background, strict=True)) > 96
        )
        inked.append(far >= 6)
    return inked


def test_headless_chromium_shows_the_agents_queue(desk_store: Store, tmp_path: Path) -> None:
    assert CHROMIUM, "Debian's chromium is not installed (.ci/run installs it)"

    async def scenario() -> None:
        proxy = VouchingProxy()
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", proxy.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        proxy_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        browser = None
        try:
            async with running_server(
                desk_store, tmp_path, web_secret=SECRET, web_public_url=proxy_url
            ) as server:
                proxy.upstream = f"http://127.0.0.1:{server.web_port}"
                browser = subprocess.Popen(
                    [
                        CHROMIUM,
                        "--headless",
                        "--no-sandbox",  # as root in a container: no user namespaces
                        "--disable-gpu",
                        "--no-first-run",
                        f"--user-data-dir={tmp_path / 'chromium'}",
                        "--window-size=1280,800",
                        "--remote-debugging-port=0",
                        "about:blank",
                    ],
                    stderr=subprocess.PIPE,
                    text=True,
                )
                assert browser.stderr is not None
                devtools_url = ""
                while "DevTools listening on" not in devtools_url:
                    devtools_url = await asyncio.to_thread(browser.stderr.readline)
                    assert devtools_url, "Chromium ended before it listened"
                port = devtools_url.split("127.0.0.1:")[1].split("/")[0]
                async with proxy.http.get(f"http://127.0.0.1:{port}/json/list") as listed:
                    page = next(t for t in await listed.json() if t["type"] == "page")
                async with proxy.http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as s:
                    tools = DevTools(s)
                    await tools.call("Page.navigate", url=proxy_url + "/")
                    end = time.monotonic() + START_S
                    text = ""
                    # The queue's whole frame reached the browser, which took it as its first
                    # byte (the page hides its terminal until then).
                    while time.monotonic() < end:
                        text = "\n".join(proxy.screen.display)
                        sent = "VPN drops every hour" in text and "Open" in proxy.screen.display[-1]
                        if sent and await tools.evaluate(
                            "document.body.classList.contains('-first-byte')"
                        ):
                            break
                        await asyncio.sleep(0.2)
                    assert "VPN drops every hour" in text, text
                    box = await tools.evaluate(
                        "(() => { const r = document.querySelector('.xterm-screen')"
                        ".getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()"
                    )
                    # The page fades its terminal in (0.3 s): shoot until what is painted
                    # matches what was sent, or the deadline passes.
                    lines = proxy.screen.display
                    expected = [bool(line.strip()) for line in lines]
                    inked: list[bool] = []
                    while time.monotonic() < end and inked != expected:
                        shot = await tools.call(
                            "Page.captureScreenshot",
                            format="png",
                            clip={
                                "x": box[0],
                                "y": box[1],
                                "width": box[2],
                                "height": box[3],
                                "scale": 1,
                            },
                        )
                        png = base64.b64decode(shot["data"])
                        inked = inked_lines(png, len(lines))
                    (tmp_path / "queue.png").write_bytes(png)
                    # Ink on every line the app wrote text to, none on the empty ones: the
                    # header, the table with alice's ticket, the footer of keys.
                    assert inked == expected, (inked, lines)
                    title_line = next(i for i, line in enumerate(lines) if "VPN drops" in line)
                    assert inked[title_line]
                    assert sum(inked) >= 4
        finally:
            if browser is not None:
                browser.terminate()
                browser.wait(timeout=30)
            await proxy.http.close()
            await runner.cleanup()

    asyncio.run(scenario())
