"""One remote session's console: the app in a child process on a pseudo-terminal of its own.

The terminal is the child's controlling terminal (a new session, then TIOCSCTTY in
the child: see console.py), which is what makes the kernel do the right things:
a window-size change (TIOCSWINSZ on the master) reaches the app as SIGWINCH, and
closing the master hangs the line up, so the app gets SIGHUP, keeps its drafts and
ends. A child that outlives the grace after that is killed with its process group:
a dropped connection never leaves a console spinning.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import signal
import struct
import subprocess
import termios
from collections.abc import Callable, Mapping, Sequence

# How long a console has to keep its drafts and end after a hang-up before it is killed.
HANG_UP_GRACE_S = 5.0
READ_CHUNK = 65_536
POLL_S = 0.05


def terminal_type(term: str) -> str:
    """The client's terminal type as the console's TERM (anything odd: xterm-256color)."""
    return term if term.isprintable() and len(term) < 64 else "xterm-256color"


def set_window_size(fd: int, columns: int, rows: int) -> None:
    # Zero sizes (some clients send them before they know) would give the app a 0×0 screen.
    size = struct.pack("HHHH", max(rows, 1), max(columns, 1), 0, 0)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, size)


class ConsoleProcess:
    """The child's side of one session: bytes in and out, its size, and its end."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        columns: int,
        rows: int,
        on_output: Callable[[bytes], None],
        on_exit: Callable[[int], None],
        pass_fds: Sequence[int] = (),
    ) -> None:
        self._loop = asyncio.get_running_loop()
        # Replaced when a spare console (console_pool.py) is given its session.
        self.on_output = on_output
        self.on_exit = on_exit
        self._pending = bytearray()
        self._reading = False
        self._exited = False
        master, slave = os.openpty()
        try:
            set_window_size(slave, columns, rows)
            self.process = subprocess.Popen(
                list(argv),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=dict(env),
                # setsid: the child leads a session of its own, so the PTY can become its
                # controlling terminal, and its process group is what a kill must reach.
                start_new_session=True,
                close_fds=True,
                pass_fds=tuple(pass_fds),
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master: int | None = master
        os.set_blocking(master, False)
        self.resume_output()

    @property
    def pid(self) -> int:
        return self.process.pid

    # ------------------------------------------------------------------ the app's output

    def pause_output(self) -> None:
        """Stop reading the app while the client is behind: the app blocks on its own writes."""
        if self._reading and self.master is not None:
            self._loop.remove_reader(self.master)
            self._reading = False

    def resume_output(self) -> None:
        if not self._reading and self.master is not None:
            self._loop.add_reader(self.master, self._readable)
            self._reading = True

    def _readable(self) -> None:
        assert self.master is not None
        try:
            data = os.read(self.master, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            # EIO: every slave descriptor is closed, the app has ended.
            if exc.errno != errno.EIO:
                raise
            data = b""
        if data:
            self.on_output(data)
            return
        self.pause_output()
        self._loop.create_task(self._reap())

    async def _reap(self) -> None:
        code = await self.wait(None)
        self._finish(code)

    def _finish(self, code: int) -> None:
        if self._exited:
            return
        self._exited = True
        self._close_master()
        # Anything the app started and left behind goes with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.on_exit(code)

    # ------------------------------------------------------------------ the client's input

    def write(self, data: bytes) -> None:
        """Keys for the app, passed on byte for byte (an escape sequence split by a slow
        link arrives whole at the app's parser, which reads the stream, not packets)."""
        if self.master is None:
            return
        if self._pending:
            self._pending += data
            return
        try:
            written = os.write(self.master, data)
        except BlockingIOError:
            written = 0
        except OSError:
            return  # the app has gone; its exit is on the way
        if written < len(data):
            self._pending += data[written:]
            self._loop.add_writer(self.master, self._writable)

    def _writable(self) -> None:
        assert self.master is not None
        try:
            written = os.write(self.master, bytes(self._pending))
        except BlockingIOError:
            return
        except OSError:
            written = len(self._pending)
        del self._pending[:written]
        if not self._pending:
            self._loop.remove_writer(self.master)

    def resize(self, columns: int, rows: int) -> None:
        """The client's window changed: the kernel tells the app with SIGWINCH."""
        if self.master is not None:
            with contextlib.suppress(OSError):
                set_window_size(self.master, columns, rows)

    # ------------------------------------------------------------------ the end

    def _close_master(self) -> None:
        if self.master is None:
            return
        if self._reading:
            self._loop.remove_reader(self.master)
            self._reading = False
        if self._pending:
            self._loop.remove_writer(self.master)
            self._pending.clear()
        os.close(self.master)
        self.master = None

    async def wait(self, limit: float | None) -> int | None:
        """The exit code once the child has ended, or None if it still runs after `limit` s."""
        waited = 0.0
        while (code := self.process.poll()) is None:
            if limit is not None and waited >= limit:
                return None
            await asyncio.sleep(POLL_S)
            waited += POLL_S
        return code

    async def hang_up(self, grace: float = HANG_UP_GRACE_S) -> int:
        """The connection is gone: hang the line up, give the app `grace` s, then kill it."""
        if self._exited:
            return self.process.returncode or 0
        # Closing the master is the hang-up: SIGHUP to the session, reads fail from now on.
        self._close_master()
        code = await self.wait(grace)
        if code is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            code = await self.wait(None)
            assert code is not None
        self._finish(code)
        return code

    async def stop(self, grace: float = HANG_UP_GRACE_S) -> int:
        """The server is stopping: the app keeps its drafts and ends, its screen restored."""
        if not self._exited:
            # SIGHUP with the line still up: the app keeps every draft and exits the way
            # it does on a hang-up, but can still put the terminal back as it found it.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGHUP)
            code = await self.wait(grace)
            if code is not None:
                # Let the reader drain what the app wrote last (leaving the alternate screen).
                await self._drain()
        return await self.hang_up(0)

    async def _drain(self) -> None:
        while self.master is not None and self._reading:
            try:
                data = os.read(self.master, READ_CHUNK)
            except (BlockingIOError, OSError):
                return
            if not data:
                return
            self.on_output(data)
