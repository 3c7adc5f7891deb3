"""The real `itsm` console in a real terminal, for the tests that need one: a pseudo-terminal
of our own (pty.fork) or a tmux server on a private socket. Every wait is bounded."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select as sql_select

from itsm_tui.data.models import Comment
from itsm_tui.data.store import open_store, sqlite_url

# The console script next to the interpreter running the tests (the venv's).
ITSM = str(Path(sys.executable).with_name("itsm"))
TMUX = shutil.which("tmux") or "/usr/bin/tmux"
# Generous: the machine may be shared; a console that hangs fails long before.
START_S = 60.0
EXIT_S = 20.0


def desk_env(folder: Path) -> dict[str, str]:
    """An environment whose data directory (and so its drafts) lives in `folder`."""
    return dict(
        os.environ,
        XDG_DATA_HOME=str(folder / "xdg-data"),
        TERM="xterm-256color",
    )


def itsm(folder: Path, *args: str) -> str:
    db = sqlite_url(folder / "desk.db")
    done = subprocess.run(
        # As the login running the tests: `init` makes it the desk's administrator (acting
        # as another agent is an administrator's audited impersonation).
        [ITSM, "--db", db, *args],
        env=desk_env(folder),
        capture_output=True,
        text=True,
        timeout=START_S,
        check=True,
    )
    return done.stdout


def new_desk(folder: Path) -> str:
    """The default desk with the login as its admin and one incident; returns its number."""
    itsm(folder, "init")
    created = itsm(
        folder,
        "ticket",
        "create",
        "--type",
        "incident",
        "--title",
        "VPN down",
        "--impact",
        "2",
        "--urgency",
        "2",
        "--json",
    )
    return str(json.loads(created)["number"])


def console_args(folder: Path) -> list[str]:
    return [ITSM, "--db", sqlite_url(folder / "desk.db"), "--no-escalator"]


def wait_for(condition: Callable[[], bool], limit: float) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def notes(folder: Path, kind: str = "work_note") -> list[str]:
    store = open_store(sqlite_url(folder / "desk.db"))
    try:
        with store.read() as session:
            return list(
                session.scalars(
                    sql_select(Comment.body).where(Comment.kind == kind).order_by(Comment.id)
                ).all()
            )
    finally:
        store.dispose()


class PtyConsole:
    """`itsm` on a pseudo-terminal we hold the master side of: closing it hangs the line up."""

    def __init__(self, folder: Path, *, rows: int = 30, columns: int = 100) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the console
            args = console_args(folder)
            os.execve(args[0], args, desk_env(folder))
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.output = b""
        self.closed = False

    def read_until(self, text: str, limit: float = START_S) -> bool:
        token = text.encode()
        end = time.monotonic() + limit
        while token not in self.output and time.monotonic() < end:
            ready, _w, _x = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    break
        return token in self.output

    def type(self, data: str) -> None:
        os.write(self.fd, data.encode())

    def hang_up(self) -> None:
        os.close(self.fd)
        self.closed = True

    def wait_exit(self, limit: float = EXIT_S) -> int | None:
        """The exit status, or None if the process still runs after `limit` seconds."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return status
            time.sleep(0.05)
        return None

    def kill(self) -> None:
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        if not self.closed:
            os.close(self.fd)


class TmuxConsole:
    """`itsm` in a detached tmux session on a socket of its own (killed with its server)."""

    def __init__(self, folder: Path, *, rows: int = 30, columns: int = 100) -> None:
        self.socket = str(folder / "tmux.sock")
        self.env = desk_env(folder)
        # Textual draws on stderr: it stays on the pane. `sleep` keeps a crashed console's
        # last screen readable instead of closing the pane.
        command = " ".join(console_args(folder)) + "; sleep 60"
        self.tmux("new-session", "-d", "-s", "desk", "-x", str(columns), "-y", str(rows), command)

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-S", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=START_S,
            check=True,
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "desk")

    def wait_for_text(self, text: str, limit: float = START_S) -> bool:
        return wait_for(lambda: text in self.screen(), limit)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "desk", *keys)

    def literal(self, text: str) -> None:
        self.tmux("send-keys", "-t", "desk", "-l", text)

    def kill(self) -> None:
        subprocess.run(
            [TMUX, "-S", self.socket, "kill-server"], env=self.env, capture_output=True, timeout=30
        )
