"""Benchmark a browser's cold start on `itsm serve --web` over a slow link.

    python bench/web.py [--tickets 10000] [--store PATH] [--rounds 2] [--spares 2]

What a browser does on its first visit, over the throttling proxy the SSH figures use
(bench/remote.py's SlowLink: 1 Mbit/s each way, 100 ms round trip, one link shared by
every connection): fetch the page, then every static file the page names (at most six
connections at once, as browsers do), then open the websocket and wait for the app's
first frame, the queue, painted at 120×40 (rendered with pyte). Each step's seconds and
the bytes the link carried for it (HTTP headers included). An aiohttp client stands in
for the browser, sending the proxy's header and secret as the reverse proxy would.

Two kinds of visit, alternated (`--rounds` each): `gzip`, a browser that sends
`Accept-Encoding: gzip` (every browser does), and `plain`, one that sends no
Accept-Encoding, which gets the files as textual-serve ships them: the figure before
the files were compressed. Both offer permessage-deflate on the websocket, as browsers
do. Also: `repeat_s`, a second visit by the gzip browser, which keeps the files (their
URLs carry textual-serve's release: Cache-Control immutable) so fetches only the page
and opens the websocket; and what compressing the files costs the server once per start
(`prepare_s`, wall and CPU, into an empty cache).

The server runs as a child process with `--spares` spare consoles (the SSH side's
pool, which tabs now share); every visit waits until the spares are past their start
(as a server that has been up). Then, in the same run, a second server with none:
`fresh`, the gzip visit whose tab starts its console from scratch, as every tab did
before. The store: the SQLite file at `--store PATH`, or
/tmp/itsm-bench-queue-N.db built first in a child process (bench/build_store.py); the
queue's first frame is one page whatever the store's size. The machine's 1-minute load
average is printed beside each figure. The last line is one JSON object:
{"bench": "web", "tickets": N, "gzip": {"page_s", "files_s", "app_s", "total_s",
"page_wire_bytes", "files_wire_bytes", "files_body_bytes", "ws_wire_bytes",
"total_wire_bytes", "server_cpu_s_files", "client_cpu_s"} (medians), "plain": {the
same}, "fresh": {the same, no spare}, "spares": N, "repeat_s": …,
"repeat_wire_bytes": …, "prepare_s": …, "prepare_cpu_s": …,
"static_files": {name: [bytes, gzip bytes]}, "load_avg_1m": …,
"load_avg_1m_by_round": […], "built": {…} or null}.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py shadows the standard library's `queue` (asyncio imports it): take this
# folder off the path before anything else is imported, and put the repository there.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import aiohttp  # noqa: E402
import pyte  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.build_store import build_file_in_child  # noqa: E402
from bench.machine import load_avg  # noqa: E402
from bench.remote import (  # noqa: E402
    COLUMNS,
    LIMIT_S,
    ROWS,
    TICKET_NUMBER,
    SlowLink,
    cpu_seconds,
    spares_ready,
)
from itsm_tui.data.models import Agent, Ticket  # noqa: E402
from itsm_tui.data.store import open_store, sqlite_url  # noqa: E402

SECRET = "bench-web-proxy-secret-0123456789"
# Browsers open at most six connections to one host over HTTP/1.1.
CONNECTIONS = 6
# Between visits: the last visit's console has ended and the spare taken is replaced
# (the server tops up 3 s after a take); then the spares' start is waited out.
SETTLE_S = 3.5
PAGE_FILES = (
    "js/textual.js",
    "fonts/RobotoMono-VariableFont_wght.ttf",
    "images/background.png",
    "css/xterm.css",
)


def serve(url: str, folder: Path, spares: int) -> int:
    """The server's own process (`--serve`): `itsm serve --web` without its command line."""
    import logging

    from itsm_tui.remote.server import DeskServer, run_server
    from itsm_tui.remote.web_server import ProxyTrust

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    server = DeskServer(
        store=open_store(url, upgrade=False),
        url=url,
        host_key_path=folder / "ssh_host_ed25519_key",
        ssh_address=("127.0.0.1", 0),
        clock=lambda: datetime.now(UTC),
        start_escalator=None,
        env=dict(os.environ, XDG_DATA_HOME=str(folder / "data")),
        web_address=("127.0.0.1", 0),
        web_trust=ProxyTrust.of(["127.0.0.1"], SECRET),
        web_cache=folder / "cache",
        spare_consoles=spares,
    )
    return run_server(server, lambda line: print(line, file=sys.stderr, flush=True))


@contextlib.contextmanager
def serving(url: str, folder: Path, spares: int) -> Iterator[tuple[subprocess.Popen[str], int]]:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", url, str(folder), str(spares)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        found = None
        while found is None:
            line = process.stderr.readline()
            if not line:
                raise RuntimeError("the server ended before it listened")
            found = re.search(r"browsers on [\d.]+:(\d+)", line)
        yield process, int(found.group(1))
    finally:
        process.terminate()
        process.wait(timeout=60)


def own_cpu_seconds(pid: int) -> float:
    # The server process alone (its consoles are its children: not the files' cost).
    return cpu_seconds([pid])


def static_urls(html: str) -> list[str]:
    """Every static file the page names (style sheet, script, font, background)."""
    found = re.findall(r'(?:href|src)="([^"]+/static/[^"]+)"|url\("([^"]+/static/[^"]+)"\)', html)
    return sorted({a or b for a, b in found})


async def first_queue_frame(ws: aiohttp.ClientWebSocketResponse) -> int:
    """Read the app's frames until the queue is painted; the terminal bytes received."""
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)
    received = 0
    end = time.monotonic() + LIMIT_S
    while time.monotonic() < end:
        message = await ws.receive(timeout=LIMIT_S)
        if message.type == aiohttp.WSMsgType.BINARY:
            received += len(message.data)
            stream.feed(message.data)
            lines = screen.display
            # Rows of tickets and the key bindings' footer: the whole first frame.
            if any(TICKET_NUMBER.search(line) for line in lines[1:-1]) and "Open" in lines[-1]:
                return received
        elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            break
    raise TimeoutError("\n".join(screen.display))


async def visit(
    web_port: int, server_pid: int, agent: str, *, accepts_gzip: bool, repeat: bool = False
) -> dict[str, float]:
    """One browser's visit over a fresh slow link: page, files (unless `repeat`: the
    browser kept them), websocket to the queue's first frame."""
    link = SlowLink(web_port)
    port = await link.start()
    base = f"http://127.0.0.1:{port}"
    headers = {"X-Forwarded-User": agent, "X-Itsm-Proxy-Secret": SECRET}
    if accepts_gzip:
        headers["Accept-Encoding"] = "gzip"
    skip = () if accepts_gzip else ("Accept-Encoding",)
    figures: dict[str, float] = {}
    client_cpu = time.process_time()
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit_per_host=CONNECTIONS),
            auto_decompress=False,  # the bytes as they crossed the link
            headers=headers,
            skip_auto_headers=skip,
        ) as http:
            started = time.perf_counter()
            async with http.get(base + "/") as page:
                assert page.status == 200, page.status
                body = await page.read()
                gzipped = page.headers.get("Content-Encoding") == "gzip"
                html = (gzip.decompress(body) if gzipped else body).decode()
            figures["page_s"] = time.perf_counter() - started
            figures["page_wire_bytes"] = link.carried_down
            # The page names the server's own address: fetch through the link instead.
            urls = [u.replace(f":{web_port}/", f":{port}/") for u in static_urls(html)]
            assert len(urls) == len(PAGE_FILES), urls

            async def fetch(url: str) -> int:
                async with http.get(url) as response:
                    assert response.status == 200, (url, response.status)
                    data = await response.read()
                    encoded = response.headers.get("Content-Encoding")
                    assert encoded == ("gzip" if accepts_gzip else None), (url, encoded)
                    return len(data)

            files_started, carried = time.perf_counter(), link.carried_down
            server_cpu = own_cpu_seconds(server_pid)
            if not repeat:
                sizes = await asyncio.gather(*(fetch(u) for u in urls))
                figures["files_body_bytes"] = sum(sizes)
            figures["files_s"] = time.perf_counter() - files_started
            figures["files_wire_bytes"] = link.carried_down - carried
            figures["server_cpu_s_files"] = own_cpu_seconds(server_pid) - server_cpu

            app_started, carried = time.perf_counter(), link.carried_down
            ws_url = re.search(r'data-session-websocket-url="([^"]+)"', html)
            assert ws_url is not None
            url = ws_url[1].replace(f":{web_port}/", f":{port}/")
            # A browser offers permessage-deflate; aiohttp's client only when asked.
            async with http.ws_connect(f"{url}?width={COLUMNS}&height={ROWS}", compress=15) as ws:
                figures["app_terminal_bytes"] = await first_queue_frame(ws)
                figures["app_s"] = time.perf_counter() - app_started
                figures["ws_wire_bytes"] = link.carried_down - carried
            figures["total_s"] = time.perf_counter() - started
            figures["total_wire_bytes"] = link.carried_down
    finally:
        await link.close()
    figures["client_cpu_s"] = time.process_time() - client_cpu
    return figures


def prepare_cost() -> tuple[float, float]:
    """Seconds (wall, CPU) to copy and compress textual-serve's files into an empty cache."""
    from itsm_tui.remote.web_server import STATICS
    from itsm_tui.remote.web_statics import prepare_statics

    with tempfile.TemporaryDirectory(prefix="itsm-bench-web-cache-") as cache:
        wall, cpu = time.perf_counter(), time.process_time()
        prepare_statics(STATICS, Path(cache))
        return time.perf_counter() - wall, time.process_time() - cpu


def static_sizes() -> dict[str, list[int]]:
    """The page's files: [as shipped, gzip] bytes."""
    from itsm_tui.remote.web_server import STATICS

    sizes = {}
    for name in PAGE_FILES:
        data = (STATICS / name).read_bytes()
        sizes[name] = [len(data), len(gzip.compress(data, 9, mtime=0))]
    return sizes


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--store", type=Path, help="reuse (or build here) a seeded store")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--spares", type=int, default=2)
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        sys.exit(serve(args.serve[0], Path(args.serve[1]), int(args.serve[2])))
    path = args.store or Path(f"/tmp/itsm-bench-queue-{args.tickets}.db")
    built = None
    if not path.exists():
        built = build_file_in_child(path, tickets=args.tickets, days=90, seed=7)
    url = sqlite_url(path)
    store = open_store(url)  # applies the app's migrations to an older store
    with store.read() as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        agent = session.scalar(
            select(Agent.username)
            .where(Agent.team_id.is_not(None), Agent.active.is_(True))
            .order_by(Agent.id)
        )
    store.dispose()
    assert agent is not None
    prepare_s, prepare_cpu_s = prepare_cost()
    runs: dict[str, list[dict[str, float]]] = {"plain": [], "gzip": [], "fresh": []}
    loads: list[float] = []
    repeat: dict[str, float] = {}

    def settled(pid: int, spares: bool = True) -> None:
        time.sleep(SETTLE_S)
        if spares:
            asyncio.run(spares_ready(pid))

    def one(kind: str, web_port: int, pid: int) -> None:
        settled(pid, spares=kind != "fresh")
        figures = asyncio.run(visit(web_port, pid, agent, accepts_gzip=kind != "plain"))
        runs[kind].append(figures)
        loads.append(load_avg())
        print(json.dumps({kind: figures, "load_avg_1m": loads[-1]}), flush=True)

    with (
        tempfile.TemporaryDirectory(prefix="itsm-bench-web-") as folder,
        serving(url, Path(folder), args.spares) as (process, web_port),
    ):
        for _ in range(args.rounds):
            # Alternated, so a change in the machine's load falls on both kinds alike.
            for kind in ("plain", "gzip"):
                one(kind, web_port, process.pid)
        settled(process.pid)
        repeat = asyncio.run(visit(web_port, process.pid, agent, accepts_gzip=True, repeat=True))
        print(json.dumps({"repeat": repeat, "load_avg_1m": load_avg()}), flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="itsm-bench-web-") as folder,
        serving(url, Path(folder), 0) as (process, web_port),
    ):
        for _ in range(args.rounds):
            one("fresh", web_port, process.pid)
    plain, packed = median_of(runs["plain"]), median_of(runs["gzip"])
    fresh = median_of(runs["fresh"])
    for name in ("page_s", "files_s", "app_s", "total_s", "files_wire_bytes", "total_wire_bytes"):
        print(
            f"{name:18} plain {plain[name]:12.3f}   gzip {packed[name]:12.3f}"
            f"   gzip, no spare {fresh[name]:12.3f}",
            flush=True,
        )
    print(
        json.dumps(
            {
                "bench": "web",
                "tickets": tickets,
                "gzip": packed,
                "plain": plain,
                "fresh": fresh,
                "spares": args.spares,
                "repeat_s": round(repeat["total_s"], 3),
                "repeat_wire_bytes": int(repeat["total_wire_bytes"]),
                "prepare_s": round(prepare_s, 3),
                "prepare_cpu_s": round(prepare_cpu_s, 3),
                "static_files": static_sizes(),
                "load_avg_1m": load_avg(),
                "load_avg_1m_by_round": loads,
                "built": built,
            }
        )
    )


if __name__ == "__main__":
    main()
