"""Text people hand the desk must be UTF-8: files and arguments, checked with a clear answer.

A bad byte is described where it is (file, line, column) and with what the text
most likely is instead (UTF-16, Latin-1), so the fix is one save-as away.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from itsm_tui.desk.errors import InvalidInput
from itsm_tui.i18n import _

_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_MARK = b"\xef\xbb\xbf"


def looks_utf16(head: bytes) -> bool:
    """A byte-order mark, or ASCII text with a NUL beside every character."""
    if head.startswith(_UTF16_MARKS):
        return True
    sample = head[:64]
    return len(sample) >= 4 and sample.count(0) * 3 >= len(sample)


def bad_byte(raw: bytes, exc: UnicodeDecodeError) -> str:
    """What is wrong with `raw` at the byte `exc` stopped on, for a person."""
    byte = raw[exc.start]
    column = len(raw[: exc.start].decode("utf-8", "replace")) + 1
    if byte >= 0xA0 or byte in (0x80, 0x8A, 0x8C, 0x8E, 0x9A, 0x9C, 0x9E):
        guess = _("the text looks like Latin-1 or Windows-1252")
    else:
        guess = _("the text is not in a known encoding")
    return _("byte 0x{byte:02X} at column {column} is not UTF-8 ({guess})").format(
        byte=byte, column=column, guess=guess
    )


def utf8_lines(stream: BinaryIO, name: str) -> Iterator[str]:
    """The lines of a text file, each ending as it did in the file (\\r\\n stays \\r\\n).

    Lines end at \\n only: a carriage return inside a quoted CSV field is data. Raises
    `InvalidInput` naming the file, the line and the byte of the first thing that is not
    UTF-8; a UTF-8 byte-order mark (spreadsheet tools write one) is dropped.
    """
    for number, raw in enumerate(stream, start=1):
        if number == 1:
            if looks_utf16(raw):
                raise InvalidInput(
                    _("{file} is UTF-16 text; save it as UTF-8 and import it again").format(
                        file=name
                    )
                )
            raw = raw.removeprefix(_UTF8_MARK)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                _("{file}: line {line}: {problem}; save the file as UTF-8").format(
                    file=name, line=number, problem=bad_byte(raw, exc)
                )
            ) from None


def utf8_file_problem(raw: bytes) -> tuple[int, str] | None:
    """(line, what is wrong) when `raw` is not UTF-8 text, else None."""
    if looks_utf16(raw):
        return 1, _("the file is UTF-16 text; save it as UTF-8")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        end = raw.find(b"\n", exc.start)
        line = raw[start : end if end >= 0 else len(raw)]
        moved = UnicodeDecodeError(exc.encoding, line, exc.start - start, exc.end - start, "")
        return raw.count(b"\n", 0, exc.start) + 1, bad_byte(line, moved)
    return None


def check_argument(value: str, what: str) -> None:
    """Refuse a command-line value that was not UTF-8 (Python kept its bytes as surrogates)."""
    try:
        value.encode("utf-8")
        return
    except UnicodeEncodeError:
        pass
    try:
        raw = value.encode("utf-8", "surrogateescape")
        raw.decode("utf-8")
        problem = _("it holds characters that are not valid Unicode")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "backslashreplace")
        problem = _("it holds characters that are not valid Unicode")
    except UnicodeDecodeError as exc:
        problem = bad_byte(raw, exc)
    shown = raw.decode("utf-8", "backslashreplace")
    raise InvalidInput(
        _("{what} '{value}': {problem}; pass UTF-8 text").format(
            what=what, value=shown, problem=problem
        )
    )
