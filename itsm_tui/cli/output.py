"""Text that reaches the terminal: user text escaped, refusals as one `itsm: …` line."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click

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


def out(text: str, *, nl: bool = True) -> None:
    """Print user-facing text: literal, escaped when it goes to a terminal."""
    # color=True: click would otherwise strip what looks like ANSI codes from piped output,
    # changing the user's text. Nothing here is markup.
    click.echo(terminal_safe(text) if stdout_is_terminal() else text, nl=nl, color=True)


def out_json(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=2).translate(_JSON_ESCAPES)
    click.echo(text, color=True)


def err(text: str) -> None:
    click.echo(text, err=True, color=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err(f"itsm: {one_line(message)}")
    raise click.exceptions.Exit(code)
