"""The alert intake's HTTP side (aiohttp): Alertmanager's webhook and the generic shape in,
kept in the store before the sender is answered, worked into incidents by a worker thread.

A 2xx answer means the delivery is in the store; a 5xx means it is not (Alertmanager sends
it again). Requests arriving together are kept in one transaction (group commit), so a
burst costs a commit per group of requests, not per request. HTTPS is the proxy's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from itsm_tui.config.readers import intake_settings
from itsm_tui.data.store import Store
from itsm_tui.desk.errors import DeskError, NotFound
from itsm_tui.desk.intake import keep_deliveries, waiting_deliveries, work_through_deliveries
from itsm_tui.desk.paging import PageAcknowledged, acknowledge_page_by_token
from itsm_tui.domain.alerts import AlertBatch, PayloadError, read_alertmanager, read_generic

log = logging.getLogger("itsm.intake")

TOKEN_ENV = "ITSM_INTAKE_TOKEN"
DEFAULT_PORT = 9095
# A request's body at most: Alertmanager's largest groups stay far below it.
MAX_BODY = 8 * 1024 * 1024
# Requests kept in one transaction at most.
KEEP_AT_ONCE = 2_000
# How often the worker looks for deliveries when nobody told it of new ones, and how
# often the desk's token hash is read again (a `config apply` takes effect without restart).
WORKER_POLL_S = 2.0
# A batch of the worker's ends after this long, or sooner once requests wait to be kept:
# on SQLite the keeper waits for the worker's transaction (one writer at a time).
BATCH_S = 0.5
BATCH_S_WHEN_KEEPING = 0.05
# …or once this many new incidents wait to be opened at its end, while requests wait: the
# bulk opening is the batch's long part (about 1 ms an incident on SQLite, more under load).
OPEN_WHEN_KEEPING = 10
GIVE_WAY_S = 0.2
GIVE_WAY_AT_MOST_S = 5.0
TOKEN_REFRESH_S = 30.0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class IntakeTokens:
    """Who may post: the bearer token in ITSM_INTAKE_TOKEN, or one whose sha256 the desk
    file names ([intake] token_sha256)."""

    env_token: str | None
    desk_hash: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.env_token) or bool(self.desk_hash)

    def allows(self, header: str | None) -> bool:
        scheme, _sep, given = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        given = given.strip()
        # Both compared in constant time, both always: timing tells nothing of either.
        by_env = bool(self.env_token) and hmac.compare_digest(
            given.encode(), (self.env_token or "").encode()
        )
        by_desk = bool(self.desk_hash) and hmac.compare_digest(
            token_hash(given), self.desk_hash or ""
        )
        return by_env or by_desk


def intake_tokens() -> IntakeTokens:
    """The tokens as the process starts: the environment's now, the desk's read on start."""
    return IntakeTokens(env_token=os.environ.get(TOKEN_ENV) or None)


class DeliveryKeeper:
    """One thread that writes every delivery queued since its last commit in one transaction,
    then answers each waiting request."""

    def __init__(self, store: Store, on_kept: Callable[[], None]) -> None:
        self.store = store
        self.on_kept = on_kept
        self._queue: queue.Queue[Any] = queue.Queue()
        # Set while nothing is queued to keep: the worker gives way until it is.
        self.drained = threading.Event()
        self.drained.set()
        # When the last request came (time.monotonic()): the worker gives way to a burst.
        self.last_request = 0.0
        self._thread = threading.Thread(target=self._run, name="intake-keeper", daemon=True)
        self._thread.start()

    async def keep(self, batch: AlertBatch, received_at: datetime) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self.drained.clear()
        self.last_request = time.monotonic()
        self._queue.put((batch, received_at, done, loop))
        await done

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is None:
                break
            items = [item]
            while len(items) < KEEP_AT_ONCE:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                items.append(more)
            error: BaseException | None = None
            try:
                with self.store.write() as session:
                    keep_deliveries(session, [(b, at) for b, at, _done, _loop in items])
            except Exception as exc:
                log.exception("keeping %d deliveries failed", len(items))
                error = exc
            if self._queue.empty():
                self.drained.set()
            if error is None:
                self.on_kept()  # before the answers: a sender that was answered finds it busy
            for _b, _at, done, loop in items:
                loop.call_soon_threadsafe(_answer, done, error)


def _answer(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # the sender hung up; what was kept stays kept
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


class IntakeWorker:
    """The thread that works kept deliveries into incidents, batch after batch."""

    def __init__(
        self, store: Store, clock: Callable[[], datetime], keeper: DeliveryKeeper | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        # Receiving comes first: the worker gives way while the keeper is busy.
        self.keeper = keeper
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        # Wakes asked for so far: a round that saw no new one may say it is idle.
        self._asked = 0
        self._lock = threading.Lock()
        self._said: str | None = None
        self._thread = threading.Thread(target=self._run, name="intake-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        with self._lock:
            self._asked += 1
            self._idle.clear()
        self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is waiting (tests and the bench use it)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()

    def _enough(self, began: float, opening: int) -> bool:
        spent = time.monotonic() - began
        waiting = self.keeper is not None and not self.keeper.drained.is_set()
        if waiting and opening >= OPEN_WHEN_KEEPING:
            return True
        return spent > (BATCH_S_WHEN_KEEPING if waiting else BATCH_S)

    def _give_way(self) -> None:
        """During a burst, wait for a pause in requests (GIVE_WAY_S), or GIVE_WAY_AT_MOST_S at
        most: answering fast under a burst matters more than opening its incidents at once,
        and incidents are still opened while a burst goes on for long."""
        if self.keeper is None:
            return
        until = time.monotonic() + GIVE_WAY_AT_MOST_S
        while not self._stop.is_set():
            now = time.monotonic()
            quiet = now - self.keeper.last_request
            if quiet >= GIVE_WAY_S or now >= until:
                break
            self._stop.wait(min(GIVE_WAY_S - quiet, until - now))
        self.keeper.drained.wait(1.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(WORKER_POLL_S)
            self._wake.clear()
            with self._lock:
                asked = self._asked
            finished = False
            while not self._stop.is_set():
                self._give_way()
                began = time.monotonic()
                try:
                    with self.store.write() as session:
                        report = work_through_deliveries(
                            session,
                            self.clock(),
                            enough=lambda opening, began=began: self._enough(began, opening),
                        )
                except Exception:
                    log.exception("taking alerts in failed; the deliveries wait")
                    break
                for refusal in report.refused:
                    log.warning("alert refused: %s", refusal)
                if report.waiting != self._said and report.waiting:
                    log.warning("alerts wait: %s", report.waiting)
                self._said = report.waiting
                if report.deliveries == 0:
                    finished = report.waiting is None
                    break
            with self._lock:
                # Everything kept before the last wake has been worked through.
                if finished and self._asked == asked:
                    self._idle.set()


READERS = {"/alertmanager": read_alertmanager, "/alerts": read_generic}


class IntakeServer:
    """The intake on one store: HTTP in, the keeper and the worker behind it."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        address: tuple[str, int],
        tokens: IntakeTokens,
    ) -> None:
        self.store = store
        self.clock = clock
        self.address = address
        self.tokens = tokens
        self.worker: IntakeWorker | None = None
        self._keeper: DeliveryKeeper | None = None
        self._runner: web.AppRunner | None = None
        self._refresh: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        assert self._runner is not None
        site = next(iter(self._runner.sites))
        server = site._server  # type: ignore[attr-defined]
        return int(server.sockets[0].getsockname()[1])

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/alertmanager", self._receive)
        app.router.add_post("/alerts", self._receive)
        app.router.add_get("/healthz", self._health)
        # The on-call page's acknowledgement link (docs/oncall.md): the link's own token is
        # its credential. GET only asks (link previews and scanners fetch what they see).
        app.router.add_get("/ack/{token}", self._ask_to_acknowledge)
        app.router.add_post("/ack/{token}", self._acknowledge)
        return app

    async def start(self) -> None:
        await self._read_desk_hash()
        if not self.tokens.configured:
            raise IntakeRefused(
                f"the intake needs a bearer token: set {TOKEN_ENV}, or token_sha256 in the "
                "desk file's [intake] (itsm intake token makes one)"
            )
        self._keeper = DeliveryKeeper(self.store, lambda: self.worker and self.worker.wake())
        self.worker = IntakeWorker(self.store, self.clock, self._keeper)
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        host, port = self.address
        await web.TCPSite(self._runner, host, port).start()
        self._refresh = asyncio.get_running_loop().create_task(self._refresh_hash())
        self.worker.wake()  # what an earlier run kept and did not finish

    async def stop(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh
        if self._runner is not None:
            await self._runner.cleanup()
        loop = asyncio.get_running_loop()
        if self._keeper is not None:
            await loop.run_in_executor(None, self._keeper.close)
        if self.worker is not None:
            await loop.run_in_executor(None, self.worker.close)

    async def _read_desk_hash(self) -> None:
        def read() -> str | None:
            with self.store.read() as session:
                settings = intake_settings(session)
                return settings.token_sha256 if settings else None

        self.tokens.desk_hash = await asyncio.get_running_loop().run_in_executor(None, read)

    async def _refresh_hash(self) -> None:
        while True:
            await asyncio.sleep(TOKEN_REFRESH_S)
            try:
                await self._read_desk_hash()
            except Exception:
                log.exception("reading [intake] token_sha256 failed; the last one stays")

    async def _receive(self, request: web.Request) -> web.Response:
        if not self.tokens.allows(request.headers.get("Authorization")):
            return _plain(
                401,
                "a bearer token is needed: Authorization: Bearer <token>",
                headers={"WWW-Authenticate": 'Bearer realm="itsm intake"'},
            )
        received_at = self.clock()
        body = await request.read()
        try:
            batch = READERS[request.path](body, received_at)
        except PayloadError as exc:
            return _plain(400, f"not taken: {exc}")
        if not batch.alerts:
            return web.json_response({"kept": 0})
        assert self._keeper is not None
        try:
            await self._keeper.keep(batch, received_at)
        except Exception as exc:
            # Not stored: the sender must send it again.
            return _plain(503, f"not stored, send again: {type(exc).__name__}")
        return web.json_response({"kept": len(batch.alerts)}, status=202)

    async def _health(self, _request: web.Request) -> web.Response:
        def waiting() -> int:
            with self.store.read() as session:
                return waiting_deliveries(session)

        count = await asyncio.get_running_loop().run_in_executor(None, waiting)
        return web.json_response({"waiting_deliveries": count})

    async def _ask_to_acknowledge(self, request: web.Request) -> web.Response:
        return _page(
            200,
            "Acknowledge this page?",
            "Acknowledging tells the desk you are on it and stops paging the next person.",
            form=True,
        )

    async def _acknowledge(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]

        def acknowledge() -> PageAcknowledged:
            with self.store.write() as session:
                return acknowledge_page_by_token(session, token, self.clock())

        try:
            done = await asyncio.get_running_loop().run_in_executor(None, acknowledge)
        except NotFound as exc:
            return _page(404, "Not acknowledged", str(exc))
        except DeskError as exc:
            return _page(409, "Not acknowledged", str(exc))
        return _page(
            200,
            f"Acknowledged: {done.number}",
            f"Page level {done.level} for {done.number} acknowledged by {done.acknowledged_by} "
            f"at {done.acknowledged_at.isoformat(timespec='seconds')}.",
        )


def _page(status: int, title: str, text: str, *, form: bool = False) -> web.Response:
    """A small HTML page; every text in it escaped (a desk message may quote user text)."""
    button = '<form method="post"><button type="submit">Acknowledge</button></form>' if form else ""
    body = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{button}</body></html>"
    )
    return web.Response(
        status=status,
        text=body,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


class IntakeRefused(Exception):
    """The intake cannot start as configured (one line for the person starting it)."""


def _plain(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=message + "\n", headers=headers)
