"""`itsm serve` over SSH with a real client: the app on a real PTY per session, signed in
by key, its agent fixed, its process gone with its connection."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta
from pathlib import Path

import asyncssh
import pytest
from sqlalchemy import select

from itsm_tui.data.models import AuditEvent
from itsm_tui.data.store import Store
from itsm_tui.remote.console_pool import SPARE_CONSOLES
from tests.remote.sessions import (
    END_S,
    START_S,
    RemoteScreen,
    alive,
    connect,
    give_key,
    new_key,
    running_server,
    set_limits,
    wait_until,
)

pytestmark = pytest.mark.timeout(300)


def header(screen: RemoteScreen) -> str:
    return screen.screen.display[0]


def test_the_queue_of_the_keys_agent_appears_and_reflows_on_resize(
    desk_store: Store, tmp_path: Path
) -> None:
    key = new_key()
    give_key(desk_store, "alice", key)

    async def scenario() -> None:
        async with (
            running_server(desk_store, tmp_path) as server,
            await connect(server.port, "alice", key) as conn,
        ):
            screen = await RemoteScreen.open(conn, 100, 30)
            # The whole first frame: the queue's row and the footer on the last line (a
            # frame can arrive in pieces).
            assert await screen.wait_for(
                lambda text: "VPN drops every hour" in text and "Open" in screen.screen.display[29]
            ), screen.text()
            # The header names the key's agent; bob's ticket is not in alice's queue.
            assert "alice" in header(screen)
            assert "Printer jams" not in screen.text()
            # OpenSSH forwards no COLORTERM: the app draws in the 256 colours TERM
            # promises, never in 24-bit colour the terminal may not have.
            assert b"\x1b[38;5;" in screen.raw or b";38;5;" in screen.raw
            assert b"38;2;" not in screen.raw and b"48;2;" not in screen.raw
            # Forget what is on the screen: only a redraw by the app can fill it again.
            screen.screen.reset()
            screen.resize(60, 20)
            # The app was told (SIGWINCH: the PTY is its controlling terminal) and drew
            # itself anew at the new size: header on the first row, footer on the last.
            assert await screen.wait_for(
                lambda _t: (
                    "IT Service Desk" in screen.screen.display[0]
                    and "Open" in screen.screen.display[19]
                )
            ), screen.text()
            assert len(screen.screen.display) == 20

    asyncio.run(scenario())


def test_keys_reach_the_app_and_a_disconnect_ends_its_process(
    desk_store: Store, tmp_path: Path
) -> None:
    key = new_key()
    give_key(desk_store, "alice", key)

    async def scenario() -> None:
        async with running_server(desk_store, tmp_path) as server:
            conn = await connect(server.port, "alice", key)
            screen = await RemoteScreen.open(conn)
            assert await screen.wait_for("VPN drops every hour"), screen.text()
            # Keys get through (no line editor in between): n opens the new incident form.
            screen.type("n")
            assert await screen.wait_for("New incident"), screen.text()
            # A slow link splits what was typed anywhere: in a UTF-8 character, in an escape
            # sequence (← here). Each piece goes out as its own SSH message; the app must
            # still read "é" and ←, not two broken bytes or Esc (which would close the form).
            e_acute = "é".encode()
            for piece in (b"Core switch r", e_acute[:1], e_acute[1:], b"boots", b"\x1b[", b"D"):
                screen.process.stdin.write(piece)
                await screen.process.stdin.drain()
            screen.type("!")
            assert await screen.wait_for("Core switch réboot!s"), screen.text()
            [session] = server.desk.sessions
            assert session.console is not None
            pid = session.console.pid
            assert alive(pid)
            conn.abort()  # the link drops: no exit, no EOF from the client
            assert await wait_until(lambda: not alive(pid), END_S), f"console {pid} still runs"
            assert await wait_until(lambda: not server.desk.sessions, END_S)
            # It ended itself on the hang-up (128+SIGHUP), drafts written, not killed later.
            assert session.console.process.returncode == 129
        # The drop was audited as a logout of alice, with the key and the address.
        with desk_store.read() as session:
            events = session.scalars(
                select(AuditEvent).where(AuditEvent.record_type == "agent").order_by(AuditEvent.id)
            ).all()
            actions = [(e.action, e.record_number) for e in events]
            logout = events[-1].new_value or ""
        assert actions[-2:] == [("session.login", "alice"), ("session.logout", "alice")]
        assert '"address": "127.0.0.1"' in logout and '"why": "disconnected"' in logout
        # The form's text is kept as a draft for alice's next session.
        drafts = list((tmp_path / "xdg-data").rglob("NewTicketForm.incident.json"))
        assert drafts and "Core switch réboot!s" in drafts[0].read_text(encoding="utf-8")

    asyncio.run(scenario())


def test_two_agents_at_once_each_see_their_own(desk_store: Store, tmp_path: Path) -> None:
    alice_key, bob_key = new_key(), new_key()
    give_key(desk_store, "alice", alice_key)
    give_key(desk_store, "bob", bob_key)

    async def scenario() -> None:
        async with (
            running_server(desk_store, tmp_path) as server,
            await connect(server.port, "alice", alice_key) as alice,
            await connect(server.port, "bob", bob_key) as bob,
        ):
            alice_screen = await RemoteScreen.open(alice)
            bob_screen = await RemoteScreen.open(bob)
            # Each sees their own queue under their own name.
            assert await alice_screen.wait_for(
                lambda text: "VPN drops every hour" in text and "alice" in header(alice_screen)
            ), alice_screen.text()
            assert await bob_screen.wait_for(
                lambda text: "Printer jams on floor 3" in text and "bob" in header(bob_screen)
            ), bob_screen.text()
            assert "Printer jams" not in alice_screen.text()
            assert "VPN drops" not in bob_screen.text()
            assert len(set(server.console_pids())) == 2

    asyncio.run(scenario())


def test_a_key_signs_in_only_as_its_own_agent(desk_store: Store, tmp_path: Path) -> None:
    alice_key, stranger = new_key(), new_key()
    give_key(desk_store, "alice", alice_key)

    async def scenario() -> None:
        async with running_server(desk_store, tmp_path) as server:
            # An unknown key, and alice's key offered as bob: both refused.
            for user, key in (("alice", stranger), ("bob", alice_key)):
                with pytest.raises(asyncssh.PermissionDenied):
                    await connect(server.port, user, key)
            # A password is not even a method the server offers.
            with pytest.raises(asyncssh.PermissionDenied):
                await connect(
                    server.port,
                    "alice",
                    None,
                    password="alice",
                    preferred_auth="password,keyboard-interactive",
                )
            assert not server.desk.sessions

    asyncio.run(scenario())


def test_commands_subsystems_and_forwarding_are_refused(desk_store: Store, tmp_path: Path) -> None:
    key = new_key()
    give_key(desk_store, "alice", key)

    async def scenario() -> None:
        async with (
            running_server(desk_store, tmp_path) as server,
            await connect(server.port, "alice", key) as conn,
        ):
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.create_connection(asyncssh.SSHTCPSession, "127.0.0.1", server.port)
            with pytest.raises(asyncssh.ChannelListenError):
                await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 22)
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.create_process("id", term_type="xterm-256color")
            with pytest.raises(asyncssh.ChannelOpenError):  # SFTP: a subsystem
                await conn.start_sftp_client()
            # A shell without a terminal gets one line saying what to do, and no console.
            done = await asyncio.wait_for(conn.run(encoding="utf-8"), START_S)
            assert done.exit_status == 1
            assert "needs a terminal" in (done.stdout or "")
            assert not server.desk.sessions

    asyncio.run(scenario())


def test_session_limits_in_total_and_per_agent(desk_store: Store, tmp_path: Path) -> None:
    keys = {name: new_key() for name in ("alice", "bob", "nina")}
    for name, key in keys.items():
        give_key(desk_store, name, key)
    set_limits(desk_store, max_sessions=2, max_sessions_per_agent=1)

    async def refused(conn: asyncssh.SSHClientConnection) -> str:
        process = await conn.create_process(term_type="xterm-256color", encoding=None)
        out = await asyncio.wait_for(process.stdout.read(), START_S)
        await process.wait_closed()
        assert process.exit_status == 1
        return out.decode()

    async def scenario() -> None:
        async with (
            running_server(desk_store, tmp_path) as server,
            await connect(server.port, "alice", keys["alice"]) as a1,
        ):
            first = await RemoteScreen.open(a1)
            assert await first.wait_for("VPN drops every hour"), first.text()
            async with await connect(server.port, "alice", keys["alice"]) as a2:
                assert "alice already has 1 sessions open" in await refused(a2)
            async with await connect(server.port, "bob", keys["bob"]) as b:
                second = await RemoteScreen.open(b)
                assert await second.wait_for("Printer jams"), second.text()
                async with await connect(server.port, "nina", keys["nina"]) as n:
                    assert "has 2 sessions open, its limit" in await refused(n)
                assert len(server.console_pids()) == 2

    asyncio.run(scenario())


def test_the_escalator_runs_once_with_three_sessions_open(
    desk_store: Store, tmp_path: Path
) -> None:
    keys = {name: new_key() for name in ("alice", "bob", "nina")}
    for name, key in keys.items():
        give_key(desk_store, name, key)

    async def scenario() -> None:
        async with running_server(desk_store, tmp_path) as server:
            conns = [await connect(server.port, n, k) for n, k in keys.items()]
            try:
                screens = [await RemoteScreen.open(c) for c in conns]
                for s in screens:
                    assert await s.wait_for("IT Service Desk"), s.text()
                assert len(server.console_pids()) == 3
                assert len(server.escalators) == 1
                # No console sweeps: each is started without the escalator (and has no
                # way to start one); the server's is the only scheduler.
                for pid in server.console_pids():
                    with open(f"/proc/{pid}/cmdline", "rb") as handle:
                        argv = handle.read().split(b"\0")
                    assert b"itsm_tui.remote.console" in argv
            finally:
                for c in conns:
                    c.close()
        assert server.escalators[0].stopped

    asyncio.run(scenario())


def test_an_idle_session_is_signed_out(desk_store: Store, tmp_path: Path) -> None:
    key = new_key()
    give_key(desk_store, "alice", key)
    set_limits(desk_store, idle_timeout_minutes=15)

    async def scenario() -> None:
        async with (
            running_server(desk_store, tmp_path) as server,
            await connect(server.port, "alice", key) as conn,
        ):
            screen = await RemoteScreen.open(conn)
            assert await screen.wait_for("VPN drops every hour"), screen.text()
            server.clock.advance(timedelta(minutes=14))
            assert await server.desk.check_idle() == 0
            screen.type("j")  # a key resets the idle time
            await wait_until(
                lambda: (
                    server.desk.sessions
                    and next(iter(server.desk.sessions)).last_input == server.clock.now
                ),
                10,
            )
            server.clock.advance(timedelta(minutes=14))
            assert await server.desk.check_idle() == 0
            server.clock.advance(timedelta(minutes=1))
            assert await server.desk.check_idle() == 1
            assert await screen.until_closed(), screen.text()
            assert "signed out after 15 minutes without a key" in screen.text()

    asyncio.run(scenario())


def test_repeated_failures_from_an_address_lock_it_out(desk_store: Store, tmp_path: Path) -> None:
    key, stranger = new_key(), new_key()
    give_key(desk_store, "alice", key)

    async def scenario() -> None:
        async with running_server(desk_store, tmp_path) as server:
            server.desk.failures.allowed = 3
            for _ in range(3):
                with pytest.raises(asyncssh.PermissionDenied):
                    await connect(server.port, "alice", stranger)
            await wait_until(lambda: server.desk.failures.blocked("127.0.0.1", server.clock()), 5)
            # Now even the right key is refused from that address…
            with pytest.raises(asyncssh.PermissionDenied):
                await connect(server.port, "alice", key)
            # …until the failures age out of the window.
            server.clock.advance(server.desk.failures.window)
            async with await connect(server.port, "alice", key) as conn:
                screen = await RemoteScreen.open(conn)
                assert await screen.wait_for("IT Service Desk"), screen.text()

    asyncio.run(scenario())


def test_a_session_is_given_a_spare_console_started_before_it(
    desk_store: Store, tmp_path: Path
) -> None:
    key = new_key()
    give_key(desk_store, "alice", key)

    async def scenario() -> list[int]:
        async with running_server(desk_store, tmp_path) as server:
            spares = server.desk.spares
            assert spares is not None and len(spares) == SPARE_CONSOLES
            # A spare that died while it waited is not handed out.
            dead, waiting = spares.pids
            os.kill(dead, signal.SIGKILL)
            assert await wait_until(lambda: dead not in spares.pids, END_S)
            conn = await connect(server.port, "alice", key)
            screen = await RemoteScreen.open(conn)
            assert await screen.wait_for("VPN drops every hour"), screen.text()
            [session] = server.desk.sessions
            assert session.console is not None and session.console.pid == waiting
            # The agent is the key's, given on the server's pipe.
            assert await screen.wait_for(lambda _t: "alice" in screen.screen.display[0])
            # Started at 80×24, it was given the client's 100×30 before the app began.
            assert await screen.wait_for(lambda _t: "Open" in screen.screen.display[29])
            # Spares are started again in place of the one taken (and the dead one).
            assert await wait_until(lambda: len(spares) == SPARE_CONSOLES, END_S)
            assert waiting not in spares.pids
            left = spares.pids
            conn.close()
        return left

    left = asyncio.run(scenario())
    assert not any(alive(pid) for pid in left)  # a stopped server leaves no spare behind


def test_a_frame_log_says_what_each_console_did_and_when(
    desk_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ITSM_FRAME_LOG (a diagnostic, off by default) reaches the consoles through the
    # server's environment: the key read, the screen pushed, the read's result and the
    # frames written with their bytes, each on the machine's monotonic clock.
    log = tmp_path / "frames.log"
    monkeypatch.setenv("ITSM_FRAME_LOG", str(log))
    key = new_key()
    give_key(desk_store, "alice", key)

    async def scenario() -> None:
        async with running_server(desk_store, tmp_path) as server:
            conn = await connect(server.port, "alice", key)
            screen = await RemoteScreen.open(conn)
            assert await screen.wait_for("VPN drops every hour"), screen.text()
            screen.type("\r")
            assert await screen.wait_for("Description"), screen.text()
            conn.close()

    asyncio.run(scenario())
    lines = [line.split(" ", 2) for line in log.read_text(encoding="utf-8").splitlines()]
    events = [event for _at, _pid, event in lines]
    assert "console started" in events
    opened = events.index("key enter")
    # The next thing the console did for the key (the queue may still write a frame it
    # had pending, its scroll bar after the rows, and a young collection of 5 ms or more
    # may be logged: the kept ticket screen's refill allocates before the push).
    assert next(e for e in events[opened + 1 :] if not e.startswith(("gc ", "frame "))) == (
        "push TicketDetailScreen"
    )
    assert "result TicketDetailScreen.Loaded" in events[opened:]
    frames = [int(event.split()[1]) for event in events[opened:] if event.startswith("frame ")]
    assert frames and max(frames) > 1000
    assert len({pid for _at, pid, _event in lines}) == 1


def test_a_client_that_asks_for_compression_gets_it_after_sign_in(
    desk_store: Store, tmp_path: Path
) -> None:
    # `ssh -C` (and phone clients with compression on) ask for zlib@openssh.com: the
    # frames then cross a slow link several times smaller. A client that does not ask
    # gets none; nobody gets zlib before the key is checked.
    key = new_key()
    give_key(desk_store, "alice", key)

    async def scenario() -> None:
        async with running_server(desk_store, tmp_path) as server:
            async with await connect(
                server.port, "alice", key, compression_algs=["zlib@openssh.com"]
            ) as conn:
                assert conn.get_extra_info("recv_compression") == "zlib@openssh.com"
                assert conn.get_extra_info("send_compression") == "zlib@openssh.com"
                screen = await RemoteScreen.open(conn, 100, 30)
                assert await screen.wait_for("VPN drops every hour"), screen.text()
            async with await connect(server.port, "alice", key) as conn:
                assert conn.get_extra_info("recv_compression") == "none"
            with pytest.raises(asyncssh.Error):
                await connect(server.port, "alice", key, compression_algs=["zlib"])

    asyncio.run(scenario())
