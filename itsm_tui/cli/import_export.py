"""`itsm import` and `itsm export`: the desk (tickets with their history and everything the
KPIs read) as JSON Lines, or its tickets as CSV (docs/import-export.md)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from itsm_tui.cli.env import Env, desk_session, pass_env, write
from itsm_tui.cli.options import json_option
from itsm_tui.cli.output import err, out, out_json
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.i18n import _, ngettext
from itsm_tui.text_input import utf8_lines


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@json_option
@pass_env
def import_(env: Env, file: Path, as_json: bool) -> None:
    """Import the desk records of FILE (JSON Lines or CSV as export writes them; "-" is stdin)."""
    from itsm_tui.desk.imports import import_tickets
    from itsm_tui.ticket_files import read_records

    name = _("standard input") if str(file) == "-" else str(file)
    try:
        with _ticket_file(file) as lines:
            result = write(
                env, lambda s, actor, now: import_tickets(s, actor, read_records(lines), now=now)
            )
    except InvalidInput as exc:
        # Which file is wrong matters as much as where in it; the encoding check names it.
        message = exc.message if exc.message.startswith(name) else f"{name}: {exc.message}"
        raise InvalidInput(message) from None
    summary = _import_summary(result)
    if as_json:
        out_json(summary)
    else:
        out(", ".join(f"{k}: {v}" for k, v in summary.items()) or _("Imported."))


@contextmanager
def _ticket_file(path: Path) -> Iterator[Iterator[str]]:
    """The file's lines as text, each checked to be UTF-8 (file, line and byte named if not)."""
    name = _("standard input") if str(path) == "-" else str(path)
    if str(path) == "-":
        yield utf8_lines(sys.stdin.buffer, name)
        return
    with path.open("rb") as stream:
        yield utf8_lines(stream, name)


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


@click.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help=_("Default: stdout.")
)
@pass_env
def export(env: Env, fmt: str, output: Path | None) -> None:
    """Export the desk: every ticket with its history, and what the KPIs read (jsonl)."""
    from itsm_tui.ticket_files import export_tickets

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
    err(
        ngettext("exported {n} ticket", "exported {n} tickets", n).format(n=n)
        + (f" → {output}" if output else "")
    )
    if fmt == "csv":
        err(_("csv holds the tickets only; changes, outages and complaints travel in jsonl"))
