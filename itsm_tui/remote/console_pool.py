"""Spare consoles: started before anyone signs in, so a session does not wait for Python.

A console spends most of its start in the interpreter's start and the app's imports
(about 1.2 s of CPU on the bench machine, 3.4 s to the first queue over a slow link).
A spare is a console process started ahead on a terminal of its own (the PTY is already
its controlling terminal), past its imports, waiting on a pipe only the server holds for
the agent a key signed in as. The server hands it the next session: the window size
first (the app reads it when it starts), then the agent and the terminal type, and
starts another spare. Each session is still its own process on its own PTY, and its
agent comes from the server and nothing else.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence

from itsm_tui.remote.console_process import ConsoleProcess

log = logging.getLogger("itsm.serve")

# Spare consoles kept ready: sign-ins arriving together beyond this start from scratch.
SPARE_CONSOLES = 2
# The command line and environment of a console waiting for its agent.
SpareCommand = Callable[[], tuple[Sequence[str], Mapping[str, str]]]


class SpareConsoles:
    """A few consoles waiting for their session; `take` gives one out, `fill` tops up."""

    def __init__(self, command: SpareCommand, count: int = SPARE_CONSOLES) -> None:
        self.command = command
        self.count = count
        self._ready: list[tuple[ConsoleProcess, int]] = []
        self._closed = False

    def __len__(self) -> int:
        return len(self._ready)

    @property
    def pids(self) -> list[int]:
        return [console.pid for console, _fd in self._ready]

    def fill(self) -> None:
        """Start spares until `count` wait (a failed start is logged; sessions still
        start the slow way)."""
        while not self._closed and len(self._ready) < self.count:
            try:
                self._ready.append(self._start())
            except OSError:
                log.exception("a spare console could not be started")
                return

    def _start(self) -> tuple[ConsoleProcess, int]:
        argv, env = self.command()
        agent_in, agent_out = os.pipe()
        try:
            console = ConsoleProcess(
                [*argv, str(agent_in)],
                env,
                columns=80,
                rows=24,
                on_output=lambda _data: None,  # a spare writes nothing before its session
                on_exit=lambda _code: None,
                pass_fds=(agent_in,),
            )
        except BaseException:
            os.close(agent_out)
            raise
        finally:
            os.close(agent_in)
        os.set_inheritable(agent_out, False)
        console.on_exit = lambda _code: self._ended(console)
        return console, agent_out

    def _ended(self, console: ConsoleProcess) -> None:
        # A spare that died waiting (killed by hand, out of memory) is not handed out.
        for i, (ready, fd) in enumerate(self._ready):
            if ready is console:
                del self._ready[i]
                os.close(fd)
                return

    def take(
        self,
        agent: str,
        term: str,
        *,
        columns: int,
        rows: int,
        on_output: Callable[[bytes], None],
        on_exit: Callable[[int], None],
        colors: str = "",
    ) -> ConsoleProcess | None:
        """A waiting console given its session, or None when none waits. `colors`: the
        session's COLORTERM (a browser's terminal has true colour; an SSH client does not
        say)."""
        while self._ready:
            console, fd = self._ready.pop(0)
            if console.process.poll() is not None:
                os.close(fd)
                continue
            console.on_output = on_output
            console.on_exit = on_exit
            console.resize(columns, rows)
            try:
                os.write(fd, f"{agent}\t{term}\t{colors}\n".encode())
            except OSError:
                log.warning("spare console %s was gone; trying another", console.pid)
                continue
            finally:
                os.close(fd)
            return console
        return None

    async def close(self) -> None:
        """The server is stopping: the spares end (a hang-up, as a dropped session)."""
        self._closed = True
        ready, self._ready = self._ready, []
        for console, fd in ready:
            with contextlib.suppress(OSError):
                os.close(fd)
            await console.hang_up(0)


def read_assignment(fd: int) -> tuple[str, str, str] | None:
    """In the spare: wait for (agent, terminal type, COLORTERM); None if the server went
    away."""
    data = b""
    with os.fdopen(fd, "rb", closefd=True) as pipe:
        data = pipe.readline()
    text = data.decode("utf-8", "replace").rstrip("\n")
    agent, sep, rest = text.partition("\t")
    if not sep or not agent:
        return None
    term, _sep, colors = rest.partition("\t")
    return agent, term, colors
