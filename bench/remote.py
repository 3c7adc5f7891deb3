"""Benchmark `itsm serve` over SSH: a slow link, then twenty sessions at once.

    python bench/remote.py [--tickets 1000000] [--store PATH] [--sessions 20]

Reuses the SQLite store at `--store PATH` (default /tmp/itsm-bench-queue-N.db, the one
bench/queue.py builds), or builds it first in a child process (bench/build_store.py);
opening it applies the app's own migrations. Starts `itsm serve` as a child process
(its host key and the agents' keys are made for this run in a temporary folder and
never kept), waits until its spare consoles are past their start (a server that has
been up, as agents meet it), then connects asyncssh's client, rendering what it receives
with pyte.

Over a throttling TCP proxy in this process, on loopback (1 Mbit/s each way, 100 ms
round trip), at 120×40: connect until the queue is painted, page-down until the new
rows are visible, Enter until the ticket's detail is painted (three tickets: the first
open of a console is also given), and the bytes the app wrote and the link carried for
each; once with a client that does not ask for compression, once with one that asks
for zlib as `ssh -C` does (the headline figures). Then `--sessions` sessions at once on
plain loopback, without compression, page-down timed in each (every session pressed at
the same instant, three rounds), and the memory of their consoles (RSS, and PSS: the
shared pages split between the processes that share them; the spares still waiting are
not counted).
The machine's 1-minute load average is printed beside each figure (the machine may be
shared). The last line is one JSON object: {"bench": "remote", "tickets": N,
"connect_s": …, "page_s": …, "open_s": …, "page_bytes": …, "connect_bytes": …,
"open_bytes": …, "open_first_s": …, "compression": "zlib@openssh.com",
"connect_wire_bytes": …, "page_wire_bytes": …, "open_wire_bytes": …,
"without_compression": {the same figures}, "sessions": 20, "page_s_at_20": median,
"page_s_at_20_max": …,
"rss_mb_per_session": …, "pss_mb_per_session": …, "cpu_s_per_round_at_20":
{"consoles": …, "server": …, "client": …} (median CPU seconds of a round of page-downs,
the client's being pyte's), "load_avg_1m": …,
"load_avg_1m_by_figure": {…}, "built": {…} or null}.
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
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator, Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import asyncssh  # noqa: E402
import pyte  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.build_store import SEEDED_AT, build_file_in_child  # noqa: E402
from bench.machine import load_avg  # noqa: E402
from itsm_tui.data.models import Agent, Ticket  # noqa: E402
from itsm_tui.data.store import open_store, sqlite_url  # noqa: E402
from itsm_tui.desk.agent_keys import add_key, remove_key  # noqa: E402
from itsm_tui.desk.records import get_agent  # noqa: E402

COLUMNS, ROWS = 120, 40
# The slow link: a phone or a hotel network.
LINK_BYTES_PER_S = 1_000_000 / 8
LINK_ONE_WAY_S = 0.050
PAGE_DOWN = b"\x1b[6~"
ENTER = b"\r"
ESCAPE = b"\x1b"
DOWN = b"\x1b[B"
ALL_OPEN = b"6"
TICKET_NUMBER = re.compile(r"\b(?:INC|REQ|PRB)\d{7}\b")
LIMIT_S = 120.0
# After the timed screen appears: how long the output must stay quiet before the bytes
# of that step are counted as complete.
QUIET_S = 0.5


class SlowLink:
    """A TCP proxy on loopback that delays like a slow link: each direction carries
    LINK_BYTES_PER_S, and every byte arrives LINK_ONE_WAY_S after it left the wire.
    It is one link: connections open at once (a browser's) share its rate each way."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        # Bytes on the wire from the server to the client: what the link carried, after
        # SSH's compression (if the client asked for it), encryption and framing.
        self.carried_down = 0
        # When each direction's wire is next free (loop time), whatever connection is on it.
        self.wire_free = {False: 0.0, True: 0.0}

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        for source, sink, down in ((reader, up_writer, False), (up_reader, writer, True)):
            task = asyncio.get_running_loop().create_task(self._carry(source, sink, down))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _carry(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, down: bool
    ) -> None:
        # Store and forward: a chunk occupies the wire for len/rate after the previous one
        # left it, then travels the one-way delay; arrivals are delivered in order.
        in_flight: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, chunk = await in_flight.get()
                if not chunk:
                    sink.close()
                    return
                await asyncio.sleep(max(0.0, due - loop.time()))
                sink.write(chunk)
                await sink.drain()

        delivering = loop.create_task(deliver())
        try:
            while chunk := await source.read(16_384):
                if down:
                    self.carried_down += len(chunk)
                wire_free = max(loop.time(), self.wire_free[down]) + len(chunk) / LINK_BYTES_PER_S
                self.wire_free[down] = wire_free
                in_flight.put_nowait((wire_free + LINK_ONE_WAY_S, chunk))
            in_flight.put_nowait((0.0, b""))
            await delivering
        except (ConnectionError, asyncio.CancelledError):
            delivering.cancel()
            sink.close()


class Terminal:
    """One SSH session's screen as the client sees it, and the bytes it received."""

    def __init__(self, process: asyncssh.SSHClientProcess) -> None:
        self.process = process
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.received = 0
        self.last_arrival = time.perf_counter()
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while data := await self.process.stdout.read(65_536):
            self.received += len(data)
            self.last_arrival = time.perf_counter()
            self.stream.feed(data)

    def lines(self) -> list[str]:
        return list(self.screen.display)

    def numbers(self) -> list[str]:
        return [m.group(0) for line in self.lines()[1:-1] for m in TICKET_NUMBER.finditer(line)]

    def press(self, key: bytes) -> None:
        self.process.stdin.write(key)

    async def until(self, done: Callable[[], bool], limit_s: float = LIMIT_S) -> float:
        """Seconds until `done()` holds for what was received (checked every millisecond)."""
        started = time.perf_counter()
        while not done():
            if self.reader.done() or time.perf_counter() - started > limit_s:
                raise TimeoutError("\n".join(self.lines()))
            await asyncio.sleep(0.001)
        return time.perf_counter() - started

    async def quiet(self) -> None:
        while time.perf_counter() - self.last_arrival < QUIET_S:
            await asyncio.sleep(0.05)


def queue_painted(term: Terminal) -> Callable[[], bool]:
    # Rows of tickets, and the footer of key bindings on the last line: the whole frame.
    return lambda: len(term.numbers()) >= 1 and "Open" in term.lines()[-1]


def full_page(term: Terminal) -> Callable[[], bool]:
    # The biggest working view fills the table: as many rows as 40 lines leave room for.
    return lambda: len(term.numbers()) >= ROWS - 10 and "Open" in term.lines()[-1]


async def all_open(term: Terminal) -> None:
    """Switch to "All open" (key 6, as bench/queue.py does): page-down is timed there."""
    term.press(ALL_OPEN)
    # Its name in the view bar: "My tickets" may already fill the page on a big desk.
    await term.until(lambda: "All open" in term.lines()[1] and full_page(term)())
    await term.quiet()


def new_rows_shown(term: Terminal, before: list[str]) -> Callable[[], bool]:
    # The table scrolled (a cursor mid-page keeps some rows) and its bottom row is new: a
    # frame is written top to bottom, so the whole frame arrived.
    def check() -> bool:
        now = term.numbers()
        return len(now) >= len(before) - 1 and now[0] != before[0] and now[-1] not in before

    return check


def detail_painted(term: Terminal) -> Callable[[], bool]:
    # The ticket's heading (its number under the header), its description, nothing loading.
    def check() -> bool:
        lines = term.lines()
        text = "\n".join(lines)
        heading = any(TICKET_NUMBER.search(line) for line in lines[1:4])
        return heading and "Description" in text and "Loading" not in text

    return check


def back_in_queue(term: Terminal) -> Callable[[], bool]:
    return lambda: "Description" not in "\n".join(term.lines()) and full_page(term)()


@dataclass
class Served:
    process: subprocess.Popen[str]
    port: int
    store: Path


def serve(url: str, folder: Path) -> int:
    """The server's own process (`--serve`): `itsm serve` without its command line, which
    wants the machine's account to be an agent of the desk (the seeded desk has none)."""
    import logging

    from itsm_tui.remote.server import DeskServer, run_server

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    store = open_store(url, upgrade=False)
    server = DeskServer(
        store=store,
        url=url,
        host_key_path=folder / "ssh_host_ed25519_key",
        ssh_address=("127.0.0.1", 0),
        clock=lambda: datetime.now(UTC),
        # No escalator: its sweep over a million tickets would be measured with the sessions.
        start_escalator=None,
        env=dict(os.environ, XDG_DATA_HOME=str(folder / "data")),
    )
    return run_server(server, lambda line: print(line, file=sys.stderr, flush=True))


@contextlib.contextmanager
def serving(url: str, store: Path, folder: Path) -> Iterator[Served]:
    """The server in a child process, as `itsm serve` runs: this process holds only the
    clients, so the figures are not the server's CPU time competing with pyte's."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", url, str(folder)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # It says where it listens on stderr, after its log lines (if any).
        assert process.stderr is not None
        found = None
        while found is None:
            line = process.stderr.readline()
            if not line:
                raise RuntimeError("the server ended before it listened")
            found = re.search(r"SSH on [\d.]+:(\d+)", line)
        yield Served(process, int(found.group(1)), store)
    finally:
        process.terminate()
        process.wait(timeout=60)


@contextlib.asynccontextmanager
async def session(
    port: int, agent: str, key: asyncssh.SSHKey, *, compressed: bool = False
) -> AsyncIterator[Terminal]:
    """One SSH session at 120×40; `compressed`: the client asks for zlib, as `ssh -C` or a
    phone client with compression on does (asyncssh's client would not ask by default)."""
    async with asyncssh.connect(
        "127.0.0.1",
        port,
        username=agent,
        client_keys=[key],
        known_hosts=None,
        agent_path=None,
        preferred_auth="publickey",
        compression_algs=["zlib@openssh.com"] if compressed else ["none"],
    ) as conn:
        process = await conn.create_process(
            term_type="xterm-256color", term_size=(COLUMNS, ROWS), encoding=None
        )
        term = Terminal(process)
        try:
            yield term
        finally:
            process.stdin.write(b"q")
            term.reader.cancel()


async def measure_slow_link(
    port: int, server_pid: int, agent: str, key: asyncssh.SSHKey, *, compressed: bool
) -> dict[str, float]:
    """Connect, page-down (three times, the median) and open over the slow link. `…_bytes`:
    the terminal's bytes the app wrote; `…_wire_bytes`: what the link carried for them."""
    link = SlowLink(port)
    link_port = await link.start()
    figures: dict[str, float] = {}
    try:
        started = time.perf_counter()
        async with session(link_port, agent, key, compressed=compressed) as term:
            await term.until(queue_painted(term))
            figures["connect_s"] = time.perf_counter() - started
            await term.quiet()
            figures["connect_bytes"] = term.received
            figures["connect_wire_bytes"] = link.carried_down
            await all_open(term)
            # The spare started behind this session's (3 s after it) is past its start:
            # its CPU is not this session's page-downs'.
            await spares_ready(server_pid)

            pages: list[float] = []
            page_bytes: list[int] = []
            page_wire: list[int] = []
            for _ in range(3):
                before, received, carried = term.numbers(), term.received, link.carried_down
                term.press(PAGE_DOWN)
                pages.append(await term.until(new_rows_shown(term, before)))
                await term.quiet()
                page_bytes.append(term.received - received)
                page_wire.append(link.carried_down - carried)
            figures["page_s"] = statistics.median(pages)
            figures["page_bytes"] = statistics.median(page_bytes)
            figures["page_wire_bytes"] = statistics.median(page_wire)

            # Opened three times (Esc back to the queue between, the cursor a row down): the
            # first open of a console and the ones after it differ.
            opens: list[float] = []
            open_bytes: list[int] = []
            open_wire: list[int] = []
            for _ in range(3):
                received, carried = term.received, link.carried_down
                term.press(ENTER)
                opens.append(await term.until(detail_painted(term)))
                await term.quiet()
                open_bytes.append(term.received - received)
                open_wire.append(link.carried_down - carried)
                term.press(ESCAPE)
                await term.until(back_in_queue(term))
                await term.quiet()
                received = term.received
                term.press(DOWN)
                await term.until(lambda r=received: term.received > r)  # type: ignore[misc]
                await term.quiet()
            figures["open_first_s"] = opens[0]
            figures["open_s"] = statistics.median(opens)
            figures["open_bytes"] = statistics.median(open_bytes)
            figures["open_wire_bytes"] = statistics.median(open_wire)
    finally:
        await link.close()
    return figures


def children(server_pid: int) -> list[int]:
    """The server's child processes: the consoles of the sessions, and the spares."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if parent == server_pid:
            found.append(int(entry))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def spares_ready(server_pid: int, limit_s: float = 60.0) -> float:
    """Wait until the server's spare consoles are past their start (their CPU time stands
    still for a second): a server that has been up, as agents meet it. Seconds waited."""
    started = time.perf_counter()
    before = -1.0
    while time.perf_counter() - started < limit_s:
        now = cpu_seconds(children(server_pid))
        if now == before and children(server_pid):
            break
        before = now
        await asyncio.sleep(1.0)
    return time.perf_counter() - started


def has_store_open(pid: int, store: Path) -> bool:
    # A session's console opened the store; a spare waiting for its session has not.
    try:
        return any(
            os.readlink(f"/proc/{pid}/fd/{fd}") == str(store)
            for fd in os.listdir(f"/proc/{pid}/fd")
        )
    except (FileNotFoundError, PermissionError):
        return False


def console_memory_mb(server_pid: int, store: Path) -> tuple[list[float], list[float]]:
    """RSS and PSS (MB) of each session's console (the spares waiting are left out)."""
    rss, pss = [], []
    for pid in children(server_pid):
        if not has_store_open(pid, store):
            continue
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except (FileNotFoundError, ProcessLookupError):
            continue
        rss.append(int(fields["Rss"].split()[0]) / 1024)
        pss.append(int(fields["Pss"].split()[0]) / 1024)
    return rss, pss


async def measure_many(
    served: Served, logins: list[tuple[str, asyncssh.SSHKey]]
) -> dict[str, float]:
    async with contextlib.AsyncExitStack() as stack:
        terms = [
            await stack.enter_async_context(session(served.port, agent, key))
            for agent, key in logins
        ]
        await asyncio.gather(*(t.until(queue_painted(t)) for t in terms))
        await asyncio.gather(*(all_open(t) for t in terms))
        rss, pss = console_memory_mb(served.process.pid, served.store)
        times: list[float] = []
        not_shown: list[str] = []

        async def page_down(term: Terminal, before: list[str]) -> None:
            # A page not shown in 30 s is counted, and its screen printed, not waited for.
            try:
                times.append(await term.until(new_rows_shown(term, before), 30.0))
            except TimeoutError as missed:
                not_shown.append(str(missed).splitlines()[0].strip())

        # Where the time goes: CPU seconds of the consoles, the server (SSH) and this
        # client (pyte) for each round, beside the wall time the round took.
        server = served.process.pid
        rounds: list[dict[str, float]] = []
        for _ in range(3):
            befores = [t.numbers() for t in terms]
            cpu = (cpu_seconds(children(server)), cpu_seconds([server]), time.process_time())
            started = time.perf_counter()
            for term in terms:
                term.press(PAGE_DOWN)
            await asyncio.gather(*(page_down(t, b) for t, b in zip(terms, befores, strict=True)))
            wall = time.perf_counter() - started
            rounds.append(
                {
                    "wall_s": wall,
                    "consoles_cpu_s": cpu_seconds(children(server)) - cpu[0],
                    "server_cpu_s": cpu_seconds([server]) - cpu[1],
                    "client_cpu_s": time.process_time() - cpu[2],
                    "load_avg_1m": load_avg(),
                }
            )
            await asyncio.gather(*(t.quiet() for t in terms))
        for figures in rounds:
            print(json.dumps({"round": {k: round(v, 3) for k, v in figures.items()}}), flush=True)
        for header in not_shown:
            print(f"page-down not shown in 30 s: {header}", file=sys.stderr, flush=True)
    return {
        "page_s_at_n": statistics.median(times),
        "page_s_at_n_max": max(times),
        "pages_not_shown_at_n": len(not_shown),
        "consoles": len(rss),
        "rss_mb_per_session": statistics.mean(rss),
        "pss_mb_per_session": statistics.mean(pss),
        "consoles_cpu_s_per_round": statistics.median(r["consoles_cpu_s"] for r in rounds),
        "server_cpu_s_per_round": statistics.median(r["server_cpu_s"] for r in rounds),
        "client_cpu_s_per_round": statistics.median(r["client_cpu_s"] for r in rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, help="reuse (or build here) a seeded store")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--serve", nargs=2, metavar=("URL", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        sys.exit(serve(args.serve[0], Path(args.serve[1])))
    path = args.store or Path(f"/tmp/itsm-bench-queue-{args.tickets}.db")
    built = None
    if not path.exists():
        built = build_file_in_child(path, tickets=args.tickets, days=90, seed=7)
    url = sqlite_url(path)
    store = open_store(url)  # applies the app's migrations to an older store
    with store.read() as session_:
        tickets = session_.scalar(select(func.count()).select_from(Ticket)) or 0
        # Agents with a team, as on a working desk; sessions spread over them.
        # The desk's administrator gives and takes the run's keys, as `itsm agent key` does.
        admin = session_.scalar(
            select(Agent.username).where(Agent.roles.contains("admin")).order_by(Agent.id)
        )
        agents = list(
            session_.scalars(
                select(Agent.username)
                .where(Agent.team_id.is_not(None), Agent.active.is_(True))
                .order_by(Agent.id)
            )
        )
    # Keys for this run only: one per session, each added to its agent, removed at the end.
    logins = [
        (agents[i % len(agents)], asyncssh.generate_private_key("ssh-ed25519"))
        for i in range(args.sessions)
    ]
    with store.write() as session_:
        root = get_agent(session_, admin)
        fingerprints = [
            add_key(
                session_, root, agent, key.export_public_key("openssh").decode(), now=SEEDED_AT
            ).fingerprint
            for agent, key in logins
        ]
    loads: dict[str, float] = {}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="itsm-bench-remote-") as folder,
            serving(url, path.resolve(), Path(folder)) as served,
        ):
            warmed = asyncio.run(spares_ready(served.process.pid))
            print(f"spare consoles ready after {warmed:.1f} s", file=sys.stderr, flush=True)
            # Without compression first (a client that does not ask), then with it (`ssh -C`):
            # the same session's console, so the second run is not the console's first open.
            plain = asyncio.run(
                measure_slow_link(served.port, served.process.pid, *logins[0], compressed=False)
            )
            print(json.dumps({"slow_link_plain": plain, "load_avg_1m": load_avg()}), flush=True)
            loads["without_compression"] = load_avg()
            slow = asyncio.run(
                measure_slow_link(served.port, served.process.pid, *logins[1], compressed=True)
            )
            print(json.dumps({"slow_link": slow, "load_avg_1m": load_avg()}), flush=True)
            for name in slow:
                loads[name] = load_avg()
            many = asyncio.run(measure_many(served, logins))
            loads["page_s_at_n"] = load_avg()
    finally:
        with store.write() as session_:
            root = get_agent(session_, admin)
            for (agent, _key), fingerprint in zip(logins, fingerprints, strict=True):
                remove_key(session_, root, agent, fingerprint, now=SEEDED_AT)
        store.dispose()
    figures = {**slow, **many}
    for name, value in figures.items():
        beside = f"  (load {loads[name]})" if name in loads else ""
        print(f"{name:20} {value:12.3f}{beside}", flush=True)
    print(
        json.dumps(
            {
                "bench": "remote",
                "tickets": tickets,
                "connect_s": round(slow["connect_s"], 3),
                "page_s": round(slow["page_s"], 3),
                "open_s": round(slow["open_s"], 3),
                "page_bytes": int(slow["page_bytes"]),
                "connect_bytes": int(slow["connect_bytes"]),
                "open_bytes": int(slow["open_bytes"]),
                "open_first_s": round(slow["open_first_s"], 3),
                "compression": "zlib@openssh.com",
                "connect_wire_bytes": int(slow["connect_wire_bytes"]),
                "page_wire_bytes": int(slow["page_wire_bytes"]),
                "open_wire_bytes": int(slow["open_wire_bytes"]),
                "without_compression": {k: round(v, 3) for k, v in plain.items()},
                "sessions": args.sessions,
                "page_s_at_20": round(many["page_s_at_n"], 3),
                "page_s_at_20_max": round(many["page_s_at_n_max"], 3),
                "pages_not_shown_at_20": many["pages_not_shown_at_n"],
                "rss_mb_per_session": round(many["rss_mb_per_session"], 1),
                "pss_mb_per_session": round(many["pss_mb_per_session"], 1),
                "cpu_s_per_round_at_20": {
                    who: round(many[f"{who}_cpu_s_per_round"], 2)
                    for who in ("consoles", "server", "client")
                },
                "load_avg_1m": load_avg(),
                "load_avg_1m_by_figure": loads,
                "built": built,
            }
        )
    )


if __name__ == "__main__":
    main()
