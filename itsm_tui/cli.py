"""The `itsm` command: parses arguments, calls the desk and the read queries, prints.

Every command opens the store, runs in one transaction and prints after it
committed. Exit codes: 0 done, 1 refused or invalid (one `itsm: …` line on
stderr), 2 usage, 3 conflict with a newer version of the record.
"""

from __future__ import annotations

import csv
import errno
import getpass
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, NoReturn, TextIO, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from itsm_tui.data import queries
from itsm_tui.data.models import Agent
from itsm_tui.data.queries import TicketFilter
from itsm_tui.data.store import Store, data_dir, default_db_url, open_store, sqlite_url
from itsm_tui.desk import (
    DeskError,
    InvalidInput,
    add_comment,
    assign_ticket,
    close_ticket,
    create_change,
    create_ticket,
    link_ticket,
    log_time,
    override_priority,
    record_complaint,
    record_outage,
    record_survey,
    reopen_ticket,
    resolve_ticket,
    transition_ticket,
    update_ticket,
)
from itsm_tui.desk.records import get_agent, get_team, get_ticket, require, utcnow
from itsm_tui.desk.setup import has_configuration, init_desk, seat_in_first_line
from itsm_tui.domain.priority import parse_priority
from itsm_tui.domain.workflow import TICKET_TYPES, all_statuses
from itsm_tui.i18n import _, ngettext

T = TypeVar("T")

DEMO_TICKETS = 5_000
DEMO_DAYS = 120
DEMO_SEED = 1

# ---------------------------------------------------------------------------
# Text that reaches a terminal

# Control characters would let user text move the cursor, recolour the screen or
# rewrite the title bar; bidi overrides make text read differently from what it is.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_TERMINAL_ESCAPES = {
    code: f"\\x{code:02x}"
    for code in [*range(0x00, 0x20), *range(0x7F, 0xA0)]
    if code not in (9, 10)
} | {ord(c): f"\\u{ord(c):04x}" for c in _BIDI}
# JSON escapes C0 itself; C1 and bidi controls are legal raw in JSON strings, so they are
# written as \u escapes: the parsed value is the same text, the terminal sees none of it.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in [*range(0x7F, 0xA0), *(ord(c) for c in _BIDI)]}


def terminal_safe(text: str) -> str:
    """`text` with control characters (other than newline and tab) shown as escapes."""
    return text.translate(_TERMINAL_ESCAPES)


def one_line(text: str) -> str:
    """A message for stderr: one line, nothing a terminal would interpret."""
    return terminal_safe(" ".join(text.split("\n")).replace("\t", " "))


def stdout_is_terminal() -> bool:
    stream = sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def out(text: str) -> None:
    """Print user-facing text: literal, escaped when it goes to a terminal."""
    # color=True: click would otherwise strip what looks like ANSI codes from piped output,
    # changing the user's text. Nothing here is markup.
    click.echo(terminal_safe(text) if stdout_is_terminal() else text, color=True)


def out_json(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=2).translate(_JSON_ESCAPES)
    click.echo(text, color=True)


def err(text: str) -> None:
    click.echo(text, err=True, color=True)


class Refused(DeskError):
    """A refusal the command line raises itself (no store, no desk yet, bad option value)."""


def fail(message: str, code: int = 1) -> NoReturn:
    err(f"itsm: {one_line(message)}")
    raise click.exceptions.Exit(code)


def _database_error(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _is_driver_error(exc: BaseException) -> bool:
    """A database driver's own error, from code that talks to the driver directly (bulk loads)."""
    return type(exc).__module__.split(".")[0] in ("sqlite3", "psycopg")


class DeskGroup(click.Group):
    """The top group: turns every refusal and failure into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except DeskError as exc:
            lines = getattr(exc, "errors", None)
            if lines:
                # A desk file's errors: every one on its own line, each naming file:line.
                for line in lines:
                    err(one_line(line))
                raise click.exceptions.Exit(exc.exit_code) from None
            fail(str(exc), exc.exit_code)
        except StaleDataError:
            # Another writer changed the record between our read and our write.
            fail(
                _("the record changed while this command ran; nothing was written, try again"),
                3,
            )
        except SQLAlchemyError as exc:
            fail(_("the store failed: {why}").format(why=_database_error(exc)))
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click quiets a closed pipe (`itsm ticket list | head`)
            fail(str(exc))
        except Exception as exc:
            if os.environ.get("ITSM_DEBUG") == "1":
                raise
            if _is_driver_error(exc):
                fail(_("the store failed: {why}").format(why=_database_error(exc)))
            fail(
                _("unexpected error ({kind}): {why}; ITSM_DEBUG=1 shows the traceback").format(
                    kind=type(exc).__name__, why=exc
                )
            )


# ---------------------------------------------------------------------------
# Option types


class IsoDateTime(click.ParamType):
    """ISO 8601; a naive value passes through so the desk can say to add a zone."""

    name = "ISO-8601"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(
                _("{value!r} is not an ISO 8601 date and time, e.g. 2026-11-24T09:30:00Z").format(
                    value=value
                ),
                param,
                ctx,
            )


ISO = IsoDateTime()


def _priority(value: str) -> int:
    try:
        return parse_priority(value)
    except ValueError:
        raise InvalidInput(
            _("priority must be P1, P2, P3 or P4, not {value}").format(value=value)
        ) from None


def _zone_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(
            _("{what} {value} has no time zone; add one, e.g. {value}Z").format(
                what=what, value=value.isoformat()
            )
        )
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------
# The store and the acting agent


@dataclass
class Env:
    """What the top-level options chose: which store, who acts, and (for tests) when."""

    url: str | None
    actor_name: str | None
    fixed_now: datetime | None

    def now(self) -> datetime:
        return self.fixed_now or utcnow()

    def store_url(self) -> str:
        return self.url or default_db_url()

    def actor(self) -> str:
        if self.actor_name:
            return self.actor_name
        try:
            return getpass.getuser()
        except (OSError, KeyError):
            raise Refused(
                _("cannot tell who you are; pass --as USERNAME or set ITSM_AGENT")
            ) from None


def _shown_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def connect(url: str) -> Store:
    """Open (and migrate) the store, or refuse in one line saying which store and why."""
    try:
        return open_store(url)
    except (SQLAlchemyError, OSError, ValueError) as exc:
        raise Refused(
            _("cannot open the store {url}: {why}").format(
                url=_shown_url(url), why=_database_error(exc)
            )
        ) from None


@contextmanager
def opened(env: Env) -> Iterator[Store]:
    store = connect(env.store_url())
    try:
        yield store
    finally:
        store.dispose()


def _acting_agent(session: Session, env: Env) -> Agent:
    if not has_configuration(session):
        raise Refused(_("this store has no desk yet; run itsm init first"))
    return get_agent(session, env.actor())


@contextmanager
def desk_session(env: Env, *, write: bool) -> Iterator[tuple[Session, Agent]]:
    """One transaction on a configured desk, with the acting agent loaded."""
    with opened(env) as store, store.write() if write else store.read() as session:
        yield session, _acting_agent(session, env)


def write(env: Env, action: Callable[[Session, Agent, datetime], T]) -> T:
    """Run one write command in one transaction; the result is built before the commit."""
    with desk_session(env, write=True) as (session, actor):
        return action(session, actor, env.now())


def _zone(agent: Agent) -> tzinfo:
    try:
        return ZoneInfo(agent.timezone) if agent.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


# ---------------------------------------------------------------------------
# Plain-text views


def _when(value: str | None, zone: tzinfo) -> str:
    if value is None:
        return "—"
    moment = datetime.fromisoformat(value).astimezone(zone)
    label = "UTC" if zone is UTC else moment.strftime("%Z")
    return f"{moment:%Y-%m-%d %H:%M} {label}"


def _v(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def format_ticket(record: dict[str, Any], zone: tzinfo = UTC) -> str:
    r = record
    lines = [
        f"{r['number']}  {r['priority']}  {r['status']}  {r['title']}",
        _("type {type} · impact {impact} · urgency {urgency} · version {version}").format(**r),
        _("service {service} · team {team} · assignee {assignee}").format(
            service=_v(r["service"]), team=_v(r["team"]), assignee=_v(r["assignee"])
        ),
        _("requester {requester} · category {category}").format(
            requester=_v(r["requester"]), category=_v(r["category"])
        ),
        _("opened {opened} · updated {updated}").format(
            opened=_when(r["opened_at"], zone), updated=_when(r["updated_at"], zone)
        ),
    ]
    if r["first_response_at"]:
        lines.append(_("first response {at}").format(at=_when(r["first_response_at"], zone)))
    if r["resolved_at"]:
        lines.append(
            _("resolved {at} ({code}): {notes}").format(
                at=_when(r["resolved_at"], zone),
                code=_v(r["resolution_code"]),
                notes=_v(r["resolution_notes"]),
            )
        )
    if r["closed_at"]:
        lines.append(_("closed {at}").format(at=_when(r["closed_at"], zone)))
    links = [
        f"{label} {r[key]}"
        for key, label in (
            ("parent", _("parent")),
            ("problem", _("problem")),
            ("change", _("change")),
        )
        if r[key]
    ]
    if r["priority_overridden"]:
        links.append(_("priority set by hand"))
    if r["reopen_count"]:
        links.append(_("reopened {n}×").format(n=r["reopen_count"]))
    if r["escalation_level"]:
        links.append(_("escalation level {n}").format(n=r["escalation_level"]))
    if links:
        lines.append(" · ".join(links))
    if r["form_data"]:
        for name, value in r["form_data"].items():
            lines.append(f"{name}: {value}")
    if r["description"]:
        lines += ["", r["description"]]
    return "\n".join(lines)


def format_detail(record: dict[str, Any], zone: tzinfo = UTC) -> str:
    parts = [format_ticket(record, zone)]
    if record.get("sla"):
        parts.append("\n" + _("SLA"))
        for c in record["sla"]:
            due = _when(c["due_at"], zone) if c["due_at"] else "—"
            parts.append(
                f"  {c['kind']:<10} {c['state']:<9} {c['elapsed_percent']:>6.1f}%  "
                + _("due {due}  target {minutes} min  ({policy})").format(
                    due=due, minutes=c["target_minutes"], policy=_v(c["policy"])
                )
            )
    if record.get("escalations"):
        parts.append("\n" + _("Escalations"))
        for e in record["escalations"]:
            parts.append(
                f"  {_when(e['at'], zone)}  {e['kind']} {e['level']}  {e['reason']}"
                + (f"  [{', '.join(e['actions'])}]" if e["actions"] else "")
            )
    if record["comments"]:
        parts.append("\n" + _("Comments"))
        for c in record["comments"]:
            parts.append(f"  {_when(c['created_at'], zone)}  {_v(c['author'])} ({c['kind']})")
            parts.append("    " + c["body"].replace("\n", "\n    "))
    if record["audit"]:
        parts.append("\n" + _("History"))
        for e in record["audit"]:
            change = ""
            if e["field"]:
                change = f" {e['field']}: {_v(e['old'])} → {_v(e['new'])}"
            elif e["new"]:
                change = f" {e['new']}"
            reason = f"  ({e['reason']})" if e["reason"] else ""
            parts.append(
                f"  {_when(e['at'], zone)}  {_v(e['actor'])} {e['action']}{change}{reason}"
            )
    return "\n".join(parts)


def _ticket_line(r: dict[str, Any]) -> str:
    return _("{number} {status} {priority} (version {version}): {title}").format(**r)


def emit_ticket(record: dict[str, Any], as_json: bool, *, full: bool = False) -> None:
    if as_json:
        out_json(record)
    elif full:
        out(format_ticket(record))
    else:
        out(_ticket_line(record))


LIST_COLUMNS = (
    "number",
    "type",
    "status",
    "priority",
    "impact",
    "urgency",
    "title",
    "category",
    "service",
    "team",
    "assignee",
    "requester",
    "opened_at",
    "updated_at",
    "resolved_at",
    "closed_at",
    "is_open",
    "version",
)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _table(records: Sequence[dict[str, Any]], zone: tzinfo) -> str:
    rows = [
        (
            r["number"],
            r["priority"],
            r["status"],
            _when(r["opened_at"], zone),
            _v(r["team"]),
            _v(r["assignee"]),
            " ".join(r["title"].split()),
        )
        for r in records
    ]
    header = (_("NUMBER"), _("PRI"), _("STATUS"), _("OPENED"), _("TEAM"), _("ASSIGNEE"), _("TITLE"))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in [header, *rows]
    )


# ---------------------------------------------------------------------------
# The console seam


def open_console(store: Store, actor: str) -> None:
    """Open the full-screen console on `store` as `actor`.

    Without a terminal (a pipe, a script, tests) it prints what is in the store instead.
    """
    if sys.stdin.isatty() and sys.stdout.isatty():
        from itsm_tui.app import make_app
        from itsm_tui.context import DeskContext

        root = click.get_current_context().find_root()
        env = root.obj
        with store.read() as session:
            name = queries.desk_name(session)
        ctx = DeskContext(store=store, actor=actor, desk_name=name or DeskContext.desk_name)
        if isinstance(env, Env) and env.fixed_now is not None:
            ctx.clock = env.now
        make_app(ctx, escalator=not root.params.get("no_escalator", False)).run()
        return
    with store.read() as session:
        summary = queries.store_summary(session)
    out(format_summary(summary))
    out("")
    out(
        _(
            "Signed in as {actor}. The full-screen console needs a terminal; from a script "
            "or a pipe, use itsm ticket list and itsm ticket show."
        ).format(actor=actor)
    )


def format_summary(summary: dict[str, Any]) -> str:
    lines = [
        _("Desk: {name}").format(name=summary["desk"] or _("(unnamed)")),
        ngettext("{n} ticket", "{n} tickets", summary["tickets"]).format(n=summary["tickets"])
        + _(", {open} open; ").format(open=summary["open"])
        + ngettext("{n} change", "{n} changes", summary["changes"]).format(n=summary["changes"]),
        ngettext("{n} agent", "{n} agents", summary["agents"]).format(n=summary["agents"])
        + ngettext(" in {n} team; ", " in {n} teams; ", summary["teams"]).format(n=summary["teams"])
        + ngettext("{n} service", "{n} services", summary["services"]).format(
            n=summary["services"]
        ),
    ]
    if summary["by_type"]:
        lines.append(
            _("By type: {counts}").format(
                counts=", ".join(f"{k} {n}" for k, n in summary["by_type"].items())
            )
        )
    if summary["by_status"]:
        lines.append(
            _("By status: {counts}").format(
                counts=", ".join(f"{k} {n}" for k, n in summary["by_status"].items())
            )
        )
    if summary["open_by_priority"]:
        lines.append(
            _("Open by priority: {counts}").format(
                counts=", ".join(f"{k} {n}" for k, n in summary["open_by_priority"].items())
            )
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Top level


pass_env = click.make_pass_decorator(Env)


@click.group(cls=DeskGroup, invoke_without_command=True)
@click.option("--db", "db", metavar="URL", envvar="ITSM_DB", help=_("The store (also ITSM_DB)."))
@click.option(
    "--as",
    "actor",
    metavar="USERNAME",
    envvar="ITSM_AGENT",
    help=_("Act as this agent (also ITSM_AGENT; default: your login name)."),
)
@click.option("--now", "now", type=ISO, envvar="ITSM_NOW", hidden=True)
@click.option(
    "--no-escalator",
    "no_escalator",
    is_flag=True,
    help=_("Do not run the SLA escalator inside the console (a daemon runs it)."),
)
@click.version_option(package_name="itsm-tui", prog_name="itsm")
@click.pass_context
def cli(
    ctx: click.Context,
    db: str | None,
    actor: str | None,
    now: datetime | None,
    no_escalator: bool,
) -> None:
    """A service-desk console: incidents, requests, problems and changes.

    With no command, opens the console.
    """
    fixed = _zone_aware(now, "--now") if now is not None else None
    ctx.obj = Env(url=db or None, actor_name=actor or None, fixed_now=fixed)
    if ctx.invoked_subcommand is None:
        env = ctx.obj
        with opened(env) as store:
            with store.read() as session:
                agent = _acting_agent(session, env)
            open_console(store, agent.username)


@cli.command()
@pass_env
def init(env: Env) -> None:
    """Set the store up: the default desk file, and you as the first admin."""
    with opened(env) as store:
        with store.write() as session:
            result = init_desk(session, os_user=env.actor(), now=env.now())
        url = _shown_url(store.url)
    if result.applied_default:
        out(
            _("Applied the default desk file to {url} ({n} changes).").format(
                url=url, n=len(result.config_lines)
            )
        )
    if result.created_admin:
        out(
            _("Created agent {name} as the desk's administrator.").format(name=result.created_admin)
        )
    if result.did_nothing:
        out(_("The desk in {url} is already set up; nothing changed.").format(url=url))


@cli.command()
@click.option(
    "--tickets",
    type=click.IntRange(min=0),
    default=DEMO_TICKETS,
    show_default=True,
    help=_("How many tickets of history to generate."),
)
@pass_env
def demo(env: Env, tickets: int) -> None:
    """Build a fresh demo desk in the data directory and open it."""
    path = data_dir() / "demo.db"
    # A demo store is always rebuilt from nothing, so it never mixes with an old one.
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    now = env.now()
    store = connect(sqlite_url(path))
    try:
        with store.write() as session:
            init_desk(session, os_user=env.actor(), now=now)
            # Before the seed, so the history hands some tickets to whoever opens the demo.
            seat_in_first_line(session, env.actor(), now=now)
        summary = _seed_with_progress(
            store, tickets=tickets, days=DEMO_DAYS, seed=DEMO_SEED, now=now
        )
        out(
            _("Built a demo desk in {path}: {n} tickets over {days} days in {s:.1f} s.").format(
                path=path, n=summary.tickets, days=summary.days, s=summary.seconds
            )
        )
        out(_("Open it again with: itsm --db {url}").format(url=sqlite_url(path)))
        out("")
        open_console(store, env.actor())
    finally:
        store.dispose()


def _seed_with_progress(store: Store, *, tickets: int, days: int, seed: int, now: datetime) -> Any:
    from itsm_tui.data.seed import seed_store

    # The seeder leaves WAL mode while it loads, which SQLite allows only to the one
    # connection of the store: close the ones this command opened before it.
    store.engine.dispose()
    with click.progressbar(length=max(tickets, 1), label=_("Seeding"), file=sys.stderr) as bar:
        last = 0

        def progress(done: int, total: int) -> None:
            nonlocal last
            bar.update(done - last)
            last = done

        try:
            return seed_store(
                store, tickets=tickets, days=days, seed=seed, now=now, progress=progress
            )
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None


@cli.command()
@click.option("--tickets", type=int, required=True, help=_("How many tickets to generate."))
@click.option("--days", type=int, default=90, show_default=True, help=_("Over how many days."))
@click.option("--seed", "seed", type=int, default=1, show_default=True, help=_("Random seed."))
@pass_env
def seed(env: Env, tickets: int, days: int, seed: int) -> None:
    """Add a generated ticket history to the desk (administrators)."""
    with opened(env) as store:
        with store.read() as session:
            actor = _acting_agent(session, env)
            require(actor, "desk.seed", _("seed the store"))
        summary = _seed_with_progress(store, tickets=tickets, days=days, seed=seed, now=env.now())
    out(
        _("Seeded {n} tickets over {days} days in {s:.1f} s.").format(
            n=summary.tickets, days=summary.days, s=summary.seconds
        )
    )
    for table, n in summary.rows.items():
        out(f"  {table}: {n}")


# ---------------------------------------------------------------------------
# config


@cli.group()
def config() -> None:
    """The desk file: apply it, or show what the store holds."""


@config.command("apply")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help=_("Show what would change; write nothing."))
@pass_env
def config_apply(env: Env, file: Path, dry_run: bool) -> None:
    """Validate FILE and make the store's configuration match it."""
    from itsm_tui.config import apply_config, load_desk_file, plan_config

    desk = load_desk_file(file)
    with desk_session(env, write=True) as (session, actor):
        require(actor, "desk.configure", _("configure the desk"))
        if dry_run:
            plan = plan_config(session, desk)
            # Nothing is written, but roll back anyway: planning may have touched the session.
            session.rollback()
        else:
            plan = apply_config(session, desk, actor=actor, now=env.now())
        lines = list(plan.lines())
    if plan.is_empty:
        out(_("Nothing to change: the store already matches {file}.").format(file=file))
        return
    for line in lines:
        out(line)
    if dry_run:
        out(_("Dry run: nothing was written."))


@config.command("show")
@pass_env
def config_show(env: Env) -> None:
    """Print the store's configuration as a desk file."""
    from itsm_tui.config import dump_toml, read_config

    with desk_session(env, write=False) as (session, _actor):
        text = dump_toml(read_config(session))
    out(text.rstrip("\n"))


# ---------------------------------------------------------------------------
# ticket

json_option = click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
version_option = click.option(
    "--expect-version",
    "expected",
    type=int,
    metavar="N",
    help=_("Refuse (exit 3) if the record is no longer at version N."),
)


@cli.group()
def ticket() -> None:
    """Incidents, service requests and problems."""


def _fields(values: Sequence[str]) -> dict[str, str] | None:
    answers: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(
                _("{item!r} is not name=value").format(item=item), param_hint="--field"
            )
        answers[name.strip()] = value
    return answers or None


@ticket.command("create")
@click.option("--type", "type_", required=True, help=", ".join(TICKET_TYPES))
@click.option("--title", required=True)
@click.option("--impact", type=int, required=True, help=_("1 high, 2 medium, 3 low."))
@click.option("--urgency", type=int, required=True, help=_("1 high, 2 medium, 3 low."))
@click.option("--description", default="")
@click.option("--service")
@click.option("--requester", metavar="EMAIL")
@click.option("--category", default="")
@click.option("--team")
@click.option("--assignee", metavar="USERNAME")
@click.option("--item", metavar="CODE", help=_("Catalogue item (service requests)."))
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE", help=_("Form answer."))
@click.option("--opened-at", type=ISO, help=_("When it was reported (ISO 8601 with a zone)."))
@json_option
@pass_env
def ticket_create(
    env: Env,
    type_: str,
    title: str,
    impact: int,
    urgency: int,
    description: str,
    service: str | None,
    requester: str | None,
    category: str,
    team: str | None,
    assignee: str | None,
    item: str | None,
    fields: tuple[str, ...],
    opened_at: datetime | None,
    as_json: bool,
) -> None:
    """Open a ticket and print it."""
    answers = _fields(fields)
    record = write(
        env,
        lambda s, actor, now: queries.ticket_record(
            s,
            create_ticket(
                s,
                actor,
                type=type_.strip().lower(),
                title=title,
                impact=impact,
                urgency=urgency,
                description=description,
                category=category,
                service=service,
                requester=requester,
                team=team,
                assignee=assignee,
                catalogue_item=item,
                form_data=answers,
                opened_at=opened_at,
                now=now,
            ),
        ),
    )
    emit_ticket(record, as_json, full=True)


@ticket.command("show")
@click.argument("number")
@json_option
@pass_env
def ticket_show(env: Env, number: str, as_json: bool) -> None:
    """Print a ticket with its comments and history."""
    with desk_session(env, write=False) as (session, actor):
        detail = queries.ticket_detail(session, number, now=env.now())
        zone = _zone(actor)
    if as_json:
        out_json(detail)
    else:
        out(format_detail(detail, zone))


@ticket.command("list")
@click.option("--status", "statuses", multiple=True, help=_("Repeat for several."))
@click.option("--priority", help="P1…P4")
@click.option("--type", "type_", help=", ".join(TICKET_TYPES))
@click.option("--team")
@click.option("--assignee", metavar="USERNAME")
@click.option("--mine", is_flag=True, help=_("Assigned to you."))
@click.option("--unassigned", is_flag=True)
@click.option("--open", "open_only", is_flag=True, help=_("Only tickets still being worked."))
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--after", metavar="NUMBER", help=_("Continue after this ticket (the last shown)."))
@click.option("--count", "count_only", is_flag=True, help=_("Print how many tickets match."))
@click.option("--json", "as_json", is_flag=True, help=_("Print a JSON array."))
@click.option("--csv", "as_csv", is_flag=True, help=_("Print CSV with a header."))
@pass_env
def ticket_list(
    env: Env,
    statuses: tuple[str, ...],
    priority: str | None,
    type_: str | None,
    team: str | None,
    assignee: str | None,
    mine: bool,
    unassigned: bool,
    open_only: bool,
    limit: int,
    after: str | None,
    count_only: bool,
    as_json: bool,
    as_csv: bool,
) -> None:
    """List tickets in queue order: priority, then oldest first."""
    if as_json and as_csv:
        raise click.UsageError(_("choose one of --json and --csv"))
    if sum((bool(assignee), mine, unassigned)) > 1:
        raise click.UsageError(_("choose one of --assignee, --mine and --unassigned"))
    known = all_statuses()
    wanted = tuple(s.strip().lower() for s in statuses)
    for status in wanted:
        if status not in known:
            raise InvalidInput(
                _("unknown status {status!r}; statuses: {known}").format(
                    status=status, known=", ".join(known)
                )
            )
    kind = type_.strip().lower() if type_ else None
    if kind is not None and kind not in TICKET_TYPES:
        raise InvalidInput(
            _("unknown ticket type {type!r}; use one of: {types}").format(
                type=type_, types=", ".join(TICKET_TYPES)
            )
        )
    with desk_session(env, write=False) as (session, actor):
        who = actor if mine else (get_agent(session, assignee) if assignee else None)
        filters = TicketFilter(
            statuses=wanted,
            priority=_priority(priority) if priority else None,
            type=kind,
            team_id=get_team(session, team).id if team else None,
            assignee_id=who.id if who else None,
            unassigned=unassigned,
            open_only=open_only,
        )
        if count_only:
            total = queries.count_tickets(session, filters)
        else:
            key = queries.page_key(session, after) if after else None
            records = queries.list_tickets(session, filters, limit=limit, after=key)
        zone = _zone(actor)
    if count_only:
        out(str(total))
    elif as_json:
        out_json(records)
    elif as_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(LIST_COLUMNS)
        for r in records:
            writer.writerow([_csv_value(r[c]) for c in LIST_COLUMNS])
        click.echo(
            terminal_safe(buffer.getvalue()) if stdout_is_terminal() else buffer.getvalue(),
            nl=False,
            color=True,
        )
    elif records:
        out(_table(records, zone))
        if len(records) == limit:
            err(_("more: --after {number}").format(number=records[-1]["number"]))
    else:
        err(_("no tickets match"))


@ticket.command("assign")
@click.argument("number")
@click.option("--team")
@click.option("--assignee", metavar="USERNAME")
@click.option("--take", is_flag=True, help=_("Assign it to yourself."))
@click.option("--unassign", is_flag=True, help=_("Take it off its assignee."))
@version_option
@json_option
@pass_env
def ticket_assign(
    env: Env,
    number: str,
    team: str | None,
    assignee: str | None,
    take: bool,
    unassign: bool,
    expected: int | None,
    as_json: bool,
) -> None:
    """Hand a ticket to a team and/or an agent."""
    if sum((bool(assignee), take, unassign)) > 1:
        raise click.UsageError(_("choose one of --assignee, --take and --unassign"))
    record = write(
        env,
        lambda s, actor, now: queries.ticket_record(
            s,
            assign_ticket(
                s,
                actor,
                number,
                team=team,
                assignee=actor.username if take else assignee,
                unassign=unassign,
                expected_version=expected,
                now=now,
            ),
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("transition")
@click.argument("number")
@click.argument("status")
@click.option("--note", help=_("A work note to add with the move."))
@version_option
@json_option
@pass_env
def ticket_transition(
    env: Env, number: str, status: str, note: str | None, expected: int | None, as_json: bool
) -> None:
    """Move a ticket to another status."""
    record = write(
        env,
        lambda s, actor, now: queries.ticket_record(
            s,
            transition_ticket(
                s, actor, number, status, note=note, expected_version=expected, now=now
            ),
        ),
    )
    emit_ticket(record, as_json)


def _text_or_stdin(value: str) -> str:
    """ "-" reads the text from standard input (long notes, pasted logs) byte for byte."""
    if value != "-":
        return value
    # Read bytes: a text stream would turn the user's \r\n into \n.
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(_("standard input is not UTF-8 text")) from None


@ticket.command("comment")
@click.argument("number")
@click.argument("body")
@click.option("--work-note", is_flag=True, help=_("An internal work note, not a reply."))
@version_option
@json_option
@pass_env
def ticket_comment(
    env: Env, number: str, body: str, work_note: bool, expected: int | None, as_json: bool
) -> None:
    """Reply to the requester (or add a work note). BODY "-" reads standard input."""
    text = _text_or_stdin(body)

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        add_comment(
            s,
            actor,
            number,
            text,
            kind="work_note" if work_note else "reply",
            expected_version=expected,
            now=now,
        )
        return queries.ticket_record(s, get_ticket(s, number))

    emit_ticket(write(env, action), as_json)


@ticket.command("resolve")
@click.argument("number")
@click.option("--code", required=True, help=_("Resolution code, e.g. fixed, workaround."))
@click.option("--notes", required=True, help=_('What was done ("-" reads standard input).'))
@version_option
@json_option
@pass_env
def ticket_resolve(
    env: Env, number: str, code: str, notes: str, expected: int | None, as_json: bool
) -> None:
    """Resolve an incident or problem, or fulfil a request."""
    text = _text_or_stdin(notes)
    record = write(
        env,
        lambda s, actor, now: queries.ticket_record(
            s,
            resolve_ticket(
                s, actor, number, code=code, notes=text, expected_version=expected, now=now
            ),
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("reopen")
@click.argument("number")
@click.option("--reason", required=True)
@version_option
@json_option
@pass_env
def ticket_reopen(env: Env, number: str, reason: str, expected: int | None, as_json: bool) -> None:
    """Take a resolved ticket back into work."""
    record = write(
        env,
        lambda s, actor, now: queries.ticket_record(
            s, reopen_ticket(s, actor, number, reason=reason, expected_version=expected, now=now)
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("close")
@click.argument("number")
@version_option
@json_option
@pass_env
def ticket_close(env: Env, number: str, expected: int | None, as_json: bool) -> None:
    """Close a resolved ticket (final)."""
    record = write(
        env,
        lambda s, actor, now: queries.ticket_record(
            s, close_ticket(s, actor, number, expected_version=expected, now=now)
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("update")
@click.argument("number")
@click.option("--title")
@click.option("--description")
@click.option("--category")
@click.option("--impact", type=int)
@click.option("--urgency", type=int)
@click.option("--service", help=_('"" clears it.'))
@click.option("--requester", metavar="EMAIL", help=_('"" clears it.'))
@click.option("--root-cause")
@click.option("--workaround")
@click.option("--known-error/--not-known-error", default=None)
@version_option
@json_option
@pass_env
def ticket_update(
    env: Env,
    number: str,
    title: str | None,
    description: str | None,
    category: str | None,
    impact: int | None,
    urgency: int | None,
    service: str | None,
    requester: str | None,
    root_cause: str | None,
    workaround: str | None,
    known_error: bool | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Change a ticket's fields; impact and urgency re-derive the priority."""
    record = write(
        env,
        lambda s, actor, now: queries.ticket_record(
            s,
            update_ticket(
                s,
                actor,
                number,
                expected_version=expected,
                title=title,
                description=description,
                category=category,
                impact=impact,
                urgency=urgency,
                service=service,
                requester=requester,
                root_cause=root_cause,
                workaround=workaround,
                known_error=known_error,
                now=now,
            ),
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("priority")
@click.argument("number")
@click.argument("priority")
@click.option("--reason", required=True, help=_("Why the matrix is overridden (audited)."))
@version_option
@json_option
@pass_env
def ticket_priority(
    env: Env, number: str, priority: str, reason: str, expected: int | None, as_json: bool
) -> None:
    """Override a ticket's priority (supervisors)."""
    record = write(
        env,
        lambda s, actor, now: queries.ticket_record(
            s,
            override_priority(
                s,
                actor,
                number,
                _priority(priority),
                reason=reason,
                expected_version=expected,
                now=now,
            ),
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("link")
@click.argument("number")
@click.option("--parent", metavar="NUMBER", help=_("Its major incident."))
@click.option("--problem", metavar="NUMBER")
@click.option("--change", metavar="NUMBER")
@click.option("--article", metavar="NUMBER", help=_("A knowledge article."))
@version_option
@json_option
@pass_env
def ticket_link(
    env: Env,
    number: str,
    parent: str | None,
    problem: str | None,
    change: str | None,
    article: str | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Link a ticket to a major incident, a problem, a change or an article."""
    record = write(
        env,
        lambda s, actor, now: queries.ticket_record(
            s,
            link_ticket(
                s,
                actor,
                number,
                parent=parent,
                problem=problem,
                change=change,
                article=article,
                expected_version=expected,
                now=now,
            ),
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("log-time")
@click.argument("number")
@click.argument("minutes", type=int)
@click.option("--note", default="")
@click.option("--at", type=ISO, help=_("When the work was done (default now)."))
@version_option
@json_option
@pass_env
def ticket_log_time(
    env: Env,
    number: str,
    minutes: int,
    note: str,
    at: datetime | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Record minutes you spent on a ticket."""

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        entry = log_time(
            s, actor, number, minutes, note=note, at=at, expected_version=expected, now=now
        )
        return {
            "ticket": queries.ticket_record(s, get_ticket(s, number)),
            "minutes": entry.minutes,
            "cost": str(entry.cost),
            "logged_at": queries.iso(entry.logged_at),
        }

    result = write(env, action)
    if as_json:
        out_json(result)
    else:
        out(
            _("{number}: logged {minutes} min (cost {cost}).").format(
                number=result["ticket"]["number"], minutes=result["minutes"], cost=result["cost"]
            )
        )


@ticket.command("survey")
@click.argument("number")
@click.argument("rating", type=int)
@click.option("--comment", default="")
@click.option("--at", type=ISO, help=_("When it was submitted (default now)."))
@version_option
@json_option
@pass_env
def ticket_survey(
    env: Env,
    number: str,
    rating: int,
    comment: str,
    at: datetime | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Record the requester's 1–5 rating of a resolved ticket."""

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        survey = record_survey(
            s, actor, number, rating, comment=comment, at=at, expected_version=expected, now=now
        )
        return {
            "ticket": queries.ticket_record(s, get_ticket(s, number)),
            "rating": survey.rating,
            "comment": survey.comment,
            "submitted_at": queries.iso(survey.submitted_at),
        }

    result = write(env, action)
    if as_json:
        out_json(result)
    else:
        out(
            _("{number}: rated {rating}/5.").format(
                number=result["ticket"]["number"], rating=result["rating"]
            )
        )


# ---------------------------------------------------------------------------
# outage, complaint, change


@cli.group()
def outage() -> None:
    """Service outages (availability)."""


@outage.command("record")
@click.option("--service", required=True)
@click.option("--start", "started_at", type=ISO, required=True)
@click.option("--end", "ended_at", type=ISO, help=_("Omit while it is still down."))
@click.option("--ticket", "number", metavar="NUMBER", help=_("The incident behind it."))
@click.option("--notes", default="")
@json_option
@pass_env
def outage_record(
    env: Env,
    service: str,
    started_at: datetime,
    ended_at: datetime | None,
    number: str | None,
    notes: str,
    as_json: bool,
) -> None:
    """Record that a service was down."""

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        o = record_outage(
            s,
            actor,
            service=service,
            started_at=started_at,
            ended_at=ended_at,
            number=number,
            notes=notes,
            now=now,
        )
        return {
            "id": o.id,
            "service": o.service.name,
            "started_at": queries.iso(o.started_at),
            "ended_at": queries.iso(o.ended_at),
            "ticket": get_ticket(s, number).number if number else None,
            "notes": o.notes,
        }

    result = write(env, action)
    if as_json:
        out_json(result)
    else:
        out(
            _("Outage of {service} recorded: {start} – {end}.").format(
                service=result["service"],
                start=result["started_at"],
                end=result["ended_at"] or "…",
            )
        )


@cli.group()
def complaint() -> None:
    """Requesters' formal complaints."""


@complaint.command("record")
@click.option("--summary", required=True)
@click.option("--ticket", "number", metavar="NUMBER")
@click.option("--requester", metavar="EMAIL")
@click.option("--at", type=ISO, help=_("When it was received (default now)."))
@json_option
@pass_env
def complaint_record(
    env: Env,
    summary: str,
    number: str | None,
    requester: str | None,
    at: datetime | None,
    as_json: bool,
) -> None:
    """Record a complaint, about a ticket or the service in general."""

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        c = record_complaint(
            s, actor, summary=summary, number=number, requester=requester, at=at, now=now
        )
        return {
            "id": c.id,
            "ticket": get_ticket(s, number).number if number else None,
            "received_at": queries.iso(c.received_at),
            "summary": c.summary,
        }

    result = write(env, action)
    if as_json:
        out_json(result)
    else:
        out(_("Complaint {id} recorded.").format(id=result["id"]))


@cli.group()
def change() -> None:
    """Change requests."""


@change.command("create")
@click.option("--title", required=True)
@click.option("--type", "change_type", default="normal", show_default=True)
@click.option("--description", default="")
@click.option("--category", default="")
@click.option("--impact", type=int, default=3, show_default=True)
@click.option("--service", "services", multiple=True, help=_("Affected service; repeat."))
@click.option("--team")
@click.option("--problem", metavar="NUMBER", help=_("The problem it fixes."))
@click.option("--planned-start", type=ISO)
@click.option("--planned-end", type=ISO)
@click.option("--implementation-plan", default="")
@click.option("--backout-plan", default="")
@click.option("--test-plan", default="")
@json_option
@pass_env
def change_create(
    env: Env,
    title: str,
    change_type: str,
    description: str,
    category: str,
    impact: int,
    services: tuple[str, ...],
    team: str | None,
    problem: str | None,
    planned_start: datetime | None,
    planned_end: datetime | None,
    implementation_plan: str,
    backout_plan: str,
    test_plan: str,
    as_json: bool,
) -> None:
    """Raise a change request (in draft)."""
    record = write(
        env,
        lambda s, actor, now: queries.change_record(
            s,
            create_change(
                s,
                actor,
                title=title,
                change_type=change_type.strip().lower(),
                description=description,
                category=category,
                impact=impact,
                services=list(services),
                team=team,
                problem=problem,
                planned_start=planned_start,
                planned_end=planned_end,
                implementation_plan=implementation_plan,
                backout_plan=backout_plan,
                test_plan=test_plan,
                now=now,
            ),
        ),
    )
    if as_json:
        out_json(record)
    else:
        out(_("{number} {status} ({change_type}, version {version}): {title}").format(**record))


# ---------------------------------------------------------------------------
# import / export


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@json_option
@pass_env
def import_(env: Env, file: Path, as_json: bool) -> None:
    """Import tickets from FILE (JSON Lines or CSV as export writes them; "-" is stdin)."""
    from itsm_tui.desk.transfer import import_tickets
    from itsm_tui.transfer import read_records

    with _ticket_file(file) as src:
        result = write(
            env, lambda s, actor, now: import_tickets(s, actor, read_records(src), now=now)
        )
    summary = _import_summary(result)
    if as_json:
        out_json(summary)
    else:
        out(", ".join(f"{k}: {v}" for k, v in summary.items()) or _("Imported."))


@contextmanager
def _ticket_file(path: Path) -> Iterator[TextIO]:
    # newline="": text fields may hold carriage returns that must come back unchanged.
    if str(path) == "-":
        stdin = sys.stdin
        buffer = getattr(stdin, "buffer", None)
        if buffer is None:
            yield stdin
        else:
            yield io.TextIOWrapper(buffer, encoding="utf-8", newline="")
        return
    with path.open(encoding="utf-8", newline="") as stream:
        yield stream


def _import_summary(result: Any) -> dict[str, Any]:
    """An ImportResult as plain values, whatever fields it carries."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(result) and not isinstance(result, type):
        return {
            k: (len(v) if isinstance(v, tuple | list) else v)
            for k, v in asdict(result).items()
            if isinstance(v, int | str | tuple | list)
        }
    return {"imported": result} if isinstance(result, int) else {"result": str(result)}


@cli.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help=_("Default: stdout.")
)
@pass_env
def export(env: Env, fmt: str, output: Path | None) -> None:
    """Export every ticket with its history."""
    from itsm_tui.transfer import export_tickets

    with desk_session(env, write=False) as (session, _actor):
        if output is None:
            n = export_tickets(session, sys.stdout, fmt)
        else:
            # Written beside the target and renamed: a failed export leaves no half file.
            partial = output.with_name(output.name + ".partial")
            try:
                with partial.open("w", encoding="utf-8", newline="") as stream:
                    n = export_tickets(session, stream, fmt)
                partial.replace(output)
            finally:
                partial.unlink(missing_ok=True)
    err(_("exported {n} tickets").format(n=n) + (f" → {output}" if output else ""))


# ---------------------------------------------------------------------------
# SLA and escalation


class Duration(click.ParamType):
    """30m, 2h, 1h30m, 45s, or a bare number of minutes."""

    name = "duration"
    _PART = re.compile(r"(\d+)([hms])")

    def convert(self, value: Any, param: Any, ctx: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip().lower()
        if text.isdigit():
            return timedelta(minutes=int(text))
        parts = self._PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            self.fail(_("{value!r} is not a duration such as 30m, 2h or 1h30m").format(value=value))
        unit = {"h": "hours", "m": "minutes", "s": "seconds"}
        return sum((timedelta(**{unit[u]: int(n)}) for n, u in parts), timedelta())


@cli.group()
def sla() -> None:
    """SLA clocks: what breaches next."""


@sla.command("breaching")
@click.option(
    "--within", type=Duration(), default="30m", show_default=True, help=_("How far ahead to look.")
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
@pass_env
def sla_breaching(env: Env, within: timedelta, limit: int, as_json: bool) -> None:
    """Running SLA clocks due within the window, soonest first (overdue ones on top)."""
    with desk_session(env, write=False) as (session, actor):
        rows = queries.breaching_soon(session, env.now(), within, limit=limit)
        zone = _zone(actor)
    if as_json:
        out_json(rows)
        return
    if not rows:
        out(_("nothing due within {within}").format(within=within))
        return
    for r in rows:
        out(
            f"{r['number']:<11} {r['priority']} {r['kind']:<10} "
            f"{_when(r['due_at'], zone)} ({r['due_in_minutes']:+.0f} min)  "
            f"{_v(r['team'])}/{_v(r['assignee'])}  {r['title']}"
        )


@cli.command()
@json_option
@pass_env
def escalate(env: Env, as_json: bool) -> None:
    """Run one escalation sweep now (for cron, or to catch up by hand)."""
    from itsm_tui.escalation.sweep import sweep

    with opened(env) as store, store.write() as session:
        _acting_agent(session, env)
        result = sweep(session, env.now())
    if as_json:
        out_json(result.as_dict())
        return
    out(
        _("warned {w}, breached {b}, escalated {e}, notifications {n}").format(
            w=len(result.warned),
            b=len(result.breached),
            e=len(result.escalated),
            n=result.notifications,
        )
    )


@cli.command()
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=30,
    show_default=True,
    help=_("Seconds between sweeps."),
)
@pass_env
def escalator(env: Env, interval: float) -> None:
    """The escalation daemon: sweep every INTERVAL seconds until SIGTERM or Ctrl-C."""
    import logging

    from itsm_tui.escalation.scheduler import run_escalator

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    # APScheduler logs every job run at INFO; our own line per sweep says more.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    with opened(env) as store:
        with store.read() as session:
            _acting_agent(session, env)
        run_escalator(store, interval=interval, clock=env.now)


def main(argv: Sequence[str] | None = None) -> None:
    """The console script `itsm`."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="itsm")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
