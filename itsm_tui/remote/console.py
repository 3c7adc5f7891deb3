"""The console of one remote session, as the child process the server starts for it.

`python -m itsm_tui.remote.console AGENT` on the PTY the server made (stdin, stdout
and stderr), the store in ITSM_DB; `--wait FD` for a spare console, which imports the
app and then reads its agent from the server's pipe FD (console_pool.py). A browser's
tab is the same console on a PTY of its own (web_server.py relays the page's terminal).
The agent is the one the session's key (or the proxy, for a tab) vouched for, given by
the server and by nothing else: this entry point has no `--as`, reads no ITSM_AGENT,
and the app has no way to change its acting agent, so a remote session works as its
key's agent from its first key to its last. The escalator runs once in the server,
never in a session.
"""

from __future__ import annotations

import fcntl
import gc
import os
import sys
import termios

# Allocations between two young collections (Python's default: 700).
YOUNG_COLLECTED_AFTER = 20_000
# Seconds after the first frame when the ticket screen is composed ahead (the queue's
# rows have arrived by then on the bench's slow link).
PREPARE_TICKET_SCREEN_S = 1.5


def take_terminal() -> None:
    """Make stdin's terminal this process's controlling terminal.

    The server started us in a session of our own (setsid); without a controlling
    terminal no hang-up and no window size would ever reach us, and a dropped
    connection would leave the app running.
    """
    fcntl.ioctl(sys.stdin.fileno(), termios.TIOCSCTTY, 0)


def keep_out_of_collector() -> None:
    """What exists now lives as long as the console: the collector stops walking it.

    A console holds a few hundred thousand objects once the app is imported (modules,
    classes, SQLAlchemy's and Textual's tables). Python's full collection walks all of
    them: 0.3 to 0.6 s in the middle of opening a ticket on the bench machine, the
    largest part of that open. Frozen, they are left out of every collection; garbage
    made later is still collected.
    """
    gc.collect()
    gc.freeze()
    # And collect the young less often: opening a ticket (its widgets, styles and rows)
    # set off young collections of 30 to 90 ms each, 0.2 s of the open on the bench. A
    # console's garbage cycles are few; waiting longer for them costs little memory.
    gc.set_threshold(YOUNG_COLLECTED_AFTER, *gc.get_threshold()[1:])


def wait_for_session(fd: int) -> str | None:
    """A spare console (console_pool.py): import the app now, then wait for the agent and
    the terminal type on the server's pipe `fd`. None: the server went away first."""
    import itsm_tui.app  # noqa: F401  (the imports are the wait a session is spared)
    from itsm_tui.remote.console_pool import read_assignment

    # While nobody waits: a full collection here costs a session nothing.
    keep_out_of_collector()

    assignment = read_assignment(fd)
    if assignment is None:
        return None
    agent, term, colors = assignment
    # Read by the app's console when it is made, below: the session's terminal, not ours.
    os.environ["TERM"] = term
    if colors:
        os.environ["COLORTERM"] = colors
    return agent


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    spare = args[:1] == ["--wait"] and len(args) == 2 and args[1].isdigit()
    if len(args) != 1 and not spare:
        print(
            "usage: python -m itsm_tui.remote.console AGENT (started by itsm serve)",
            file=sys.stderr,
        )
        return 2
    take_terminal()
    if spare:
        waited = wait_for_session(int(args[1]))
        if waited is None:
            return 0
        agent_name = waited
    else:
        agent_name = args[0]
    url = os.environ.get("ITSM_DB")
    if not url:
        print("itsm: no store given (ITSM_DB)", file=sys.stderr)
        return 2

    from itsm_tui.app import make_app
    from itsm_tui.context import DeskContext
    from itsm_tui.data import store_summary
    from itsm_tui.data.store import open_store
    from itsm_tui.desk import DeskError
    from itsm_tui.desk.identity import resolve_acting
    from itsm_tui.screens.detail_kept import prepare_ticket_screen

    if not spare:
        keep_out_of_collector()

    # The server migrated the store before it listened: no session upgrades it.
    store = open_store(url, upgrade=False)
    try:
        with store.read() as session:
            try:
                # As the agent itself (no impersonation): refuses one made inactive since.
                acting = resolve_acting(session, login=agent_name, acting_as=None)
            except DeskError as exc:
                print(f"itsm: {exc}", file=sys.stderr)
                return 1
            name = store_summary.desk_name(session)
        ctx = DeskContext(
            store=store,
            actor=acting.agent.username,
            desk_name=name or DeskContext.desk_name,
        )
        if os.environ.get("ITSM_FRAME_LOG"):
            from itsm_tui.remote.frame_log import install

            install(os.environ["ITSM_FRAME_LOG"])
        app = make_app(ctx, escalator=False)
        # And what the app built to draw its first frame (its widgets, styles, queries).
        app.first_frame_hooks.append(gc.freeze)
        # Then, once the queue's rows are drawn, the ticket screen is composed ahead: the
        # first ticket opened is filled in, not built (0.1 to 0.2 s of CPU, and a frame).
        app.first_frame_hooks.append(
            lambda: app.set_timer(PREPARE_TICKET_SCREEN_S, lambda: prepare_ticket_screen(app))
        )
        app.run()
        return app.return_code or 0
    finally:
        store.dispose()


if __name__ == "__main__":
    code = main()
    for stream in ("stdout", "stderr"):
        try:
            getattr(sys, stream).flush()
        except (OSError, ValueError, AttributeError):
            # The terminal hung up: nothing more can be said on it, and the exit code must
            # stay the app's (129 after a hang-up), not Python's 120 for a failed flush.
            setattr(sys, stream, None)
    sys.exit(code)
