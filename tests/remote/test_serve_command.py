"""The real `itsm serve` process with Debian's OpenSSH client on a real terminal: the
queue appears, and SIGTERM tells the session, keeps its draft and exits 0."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import stat
import struct
import subprocess
import termios
import time
from pathlib import Path

import pyte
import pytest

from itsm_tui.remote.console_pool import SPARE_CONSOLES
from tests.remote.sessions import END_S, START_S, alive, new_key
from tests.ui.terminal import ITSM, desk_env, itsm, new_desk

SSH = shutil.which("ssh")
LISTENING = re.compile(r"SSH on 127\.0\.0\.1:(\d+), host key (SHA256:\S+)")


class SshClient:
    """OpenSSH's `ssh` on a pseudo-terminal of ours, its output rendered by pyte."""

    def __init__(
        self, port: int, key_file: Path, user: str, columns: int = 100, rows: int = 30
    ) -> None:
        assert SSH is not None, "Debian's OpenSSH client (openssh-client) is not installed"
        argv = [
            SSH,
            "-p", str(port),
            "-i", str(key_file),
            "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR",
            f"{user}@127.0.0.1",
        ]  # fmt: skip
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(
                SSH,
                argv,
                {
                    "PATH": os.environ.get("PATH", ""),
                    "TERM": "xterm-256color",
                    "HOME": str(key_file.parent),
                },
            )
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def read_until(self, text: str, limit: float = START_S) -> bool:
        end = time.monotonic() + limit
        while text not in self.text() and text.encode() not in self.raw and time.monotonic() < end:
            ready, _w, _x = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                self.raw += data
                self.stream.feed(data)
        return text in self.text() or text.encode() in self.raw

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def wait_exit(self, limit: float = END_S) -> int | None:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            self.read_until("\0never", 0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return status
        return None

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


@pytest.mark.timeout(300)
def test_openssh_client_then_sigterm_keeps_the_draft_and_exits_0(tmp_path: Path) -> None:
    number = new_desk(tmp_path)
    login = itsm(tmp_path, "agent", "key", "list", "--json")  # an admin may list: none yet
    assert login.strip() == "[]"
    key = new_key("on-call@phone")
    key_file = tmp_path / "id_ed25519"
    key_file.write_bytes(key.export_private_key("openssh"))
    key_file.chmod(0o600)
    (tmp_path / "id_ed25519.pub").write_bytes(key.export_public_key("openssh"))
    whoami = subprocess.run(
        ["id", "-un"], capture_output=True, text=True, check=True
    ).stdout.strip()
    itsm(tmp_path, "agent", "key", "add", whoami, str(tmp_path / "id_ed25519.pub"))
    printed = itsm(tmp_path, "serve", "--fingerprint").strip()
    host_key = tmp_path / "xdg-data" / "itsm-tui" / "ssh_host_ed25519_key"
    assert stat.S_IMODE(host_key.stat().st_mode) == 0o600

    db = f"sqlite:///{tmp_path / 'desk.db'}"
    server = subprocess.Popen(
        [ITSM, "--db", db, "serve", "--ssh", "127.0.0.1:0"],
        env=desk_env(tmp_path),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    client: SshClient | None = None
    try:
        assert server.stderr is not None
        found = None
        end = time.monotonic() + START_S
        while found is None and time.monotonic() < end:
            line = server.stderr.readline()
            if not line:
                break
            found = LISTENING.search(line)
        assert found, "itsm serve never said where it listens"
        port, announced = int(found.group(1)), found.group(2)
        # The same key across restarts: what --fingerprint printed is what the server uses.
        assert announced == printed

        client = SshClient(port, key_file, whoami)
        assert client.read_until("IT Service Desk"), client.text()
        client.type("6")  # All open: the one ticket
        assert client.read_until(number), client.text()
        assert whoami in client.screen.display[0]
        client.type("n")
        assert client.read_until("New incident"), client.text()
        client.type("Fibre cut at the depot")
        assert client.read_until("Fibre cut at the depot"), client.text()
        consoles = [
            int(p)
            for p in subprocess.run(
                ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
            ).stdout.split()
        ]
        # The session's console, and the spares started for the next sign-ins.
        assert 1 <= len(consoles) <= 1 + SPARE_CONSOLES

        server.send_signal(signal.SIGTERM)
        assert client.read_until("server is stopping", END_S), client.text()
        assert server.wait(END_S) == 0
        assert client.wait_exit() is not None
        assert not any(alive(pid) for pid in consoles)  # spares too: none left behind
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if client is not None:
            client.kill()
    drafts = list((tmp_path / "xdg-data").rglob("NewTicketForm.incident.json"))
    assert drafts and "Fibre cut at the depot" in drafts[0].read_text(encoding="utf-8")
