"""Local stand-ins for the services notifications go to: an SMTP server (aiosmtpd) and one
aiohttp server playing Slack, DingTalk, WeCom, Feishu and a generic webhook.

Both bind 127.0.0.1 on a free port and are stopped by the fixture that started them. The
chat server checks what the real services check (DingTalk's and Feishu's signatures) and
answers as they do: errors as HTTP 200 with a non-zero `errcode` / `code`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DINGTALK_SECRET = "SECdingtalk-test-secret"
FEISHU_SECRET = "feishu-test-secret"
SMTP_USER, SMTP_PASSWORD = "desk", "s3cret"


@dataclass
class SmtpSink:
    """Mail the SMTP server accepted: (envelope recipients, parsed message)."""

    mails: list[tuple[list[str], Message]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == SMTP_USER
            and data.password.decode() == SMTP_PASSWORD
        )
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)


def _free_port() -> int:
    # aiosmtpd's Controller connects to its own port to know it is up: it needs a number.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_server() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = _free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=sink.authenticate,
        # The test server speaks plain SMTP on loopback; AUTH is still checked.
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    query: dict[str, str]
    body: dict[str, Any]


class ChatServer:
    """Slack, DingTalk, WeCom, Feishu and webhook endpoints; what each received."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        # Per path: answer with this HTTP status (a failing service), or wait this long.
        self.status: dict[str, int] = {}
        self.delay: dict[str, float] = {}
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.received]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        body = await request.json()
        with self.lock:
            self.received.append(Received(path, dict(request.query), body))
        if path in self.delay:
            await asyncio.sleep(self.delay[path])
        if path in self.status:
            return web.Response(status=self.status[path], text="upstream unavailable")
        service = path.strip("/").split("/")[0]
        if service == "slack":
            return web.Response(text="ok")
        if service == "dingtalk":
            stamp, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
            expected = base64.b64encode(
                hmac.new(
                    DINGTALK_SECRET.encode(), f"{stamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
                ).digest()
            ).decode()
            if sign != expected:
                return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
            return web.json_response({"errcode": 0, "errmsg": "ok"})
        if service == "wecom":
            if path.endswith("/muted"):
                return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
            return web.json_response({"errcode": 0, "errmsg": "ok"})
        if service == "feishu":
            stamp = body.get("timestamp", "")
            expected = base64.b64encode(
                hmac.new(f"{stamp}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()
            ).decode()
            if body.get("sign") != expected:
                return web.json_response({"code": 19021, "msg": "sign match fail"})
            return web.json_response({"code": 0, "msg": "success"})
        return web.json_response({"received": True})

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def chat_server() -> Iterator[ChatServer]:
    server = ChatServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
