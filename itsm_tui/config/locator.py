"""Where a key is in a desk file's text, so every message can name its line."""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import Sequence
from typing import Any

# Where a key is: tomllib gives values without positions, so this walks the text once
# and notes the line of every table header, key, and array element.


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}\n#]*")


class Locator:
    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        self._s = text
        self._i = 0
        self._line = 1
        self._arrays: dict[tuple[Any, ...], int] = {}
        # Positions are a courtesy: a construct this scanner misreads only costs line
        # precision (callers fall back to the nearest known key), never the error itself.
        with contextlib.suppress(IndexError, ValueError):
            self._document()

    def line(self, path: Sequence[Any]) -> int:
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return 1

    def _note(self, path: tuple[Any, ...]) -> None:
        # Prefixes too: [change_types.normal] is also where the change_types table starts.
        for n in range(1, len(path) + 1):
            self.lines.setdefault(path[:n], self._line)

    def _advance(self, n: int) -> None:
        self._line += self._s.count("\n", self._i, self._i + n)
        self._i += n

    def _at(self, token: str) -> bool:
        return self._s.startswith(token, self._i)

    def _skip(self, *, newlines: bool) -> None:
        s = self._s
        while self._i < len(s):
            c = s[self._i]
            if c in " \t\r" or (newlines and c == "\n"):
                self._advance(1)
            elif c == "#":
                end = s.find("\n", self._i)
                self._advance((len(s) if end < 0 else end) - self._i)
            else:
                return

    def _document(self) -> None:
        current: tuple[Any, ...] = ()
        while True:
            self._skip(newlines=True)
            if self._i >= len(self._s):
                return
            if self._at("[["):
                self._advance(2)
                keys = self._key()
                self._skip(newlines=False)
                self._advance(2)
                parent = self._resolve(keys[:-1])
                array = (*parent, keys[-1])
                self._note(array)
                self._arrays[array] = self._arrays.get(array, -1) + 1
                current = (*array, self._arrays[array])
                self._note(current)
            elif self._at("["):
                self._advance(1)
                keys = self._key()
                self._skip(newlines=False)
                self._advance(1)
                current = self._resolve(keys)
                self._note(current)
            else:
                keys = self._key()
                for n in range(1, len(keys) + 1):
                    self._note((*current, *keys[:n]))
                self._skip(newlines=False)
                self._advance(1)  # "="
                self._skip(newlines=False)
                self._value((*current, *keys))

    def _resolve(self, keys: Sequence[str]) -> tuple[Any, ...]:
        resolved: tuple[Any, ...] = ()
        for key in keys:
            resolved = (*resolved, key)
            if resolved in self._arrays:
                resolved = (*resolved, self._arrays[resolved])
        return resolved

    def _key(self) -> list[str]:
        keys: list[str] = []
        while True:
            self._skip(newlines=False)
            if self._at('"') or self._at("'"):
                start = self._i
                self._string()
                keys.append(str(tomllib.loads("k = " + self._s[start : self._i])["k"]))
            else:
                match = _BARE_KEY.match(self._s, self._i)
                if not match:
                    raise ValueError("not a key")
                keys.append(match.group())
                self._advance(match.end() - self._i)
            self._skip(newlines=False)
            if self._at("."):
                self._advance(1)
                continue
            return keys

    def _string(self) -> None:
        s = self._s
        for quote in ('"""', "'''"):
            if self._at(quote):
                j = self._i + 3
                while True:
                    if quote == '"""' and s[j] == "\\":
                        j += 2
                    elif s.startswith(quote, j):
                        j += 3
                        while j < len(s) and s[j] == quote[0]:
                            j += 1
                        break
                    else:
                        j += 1
                self._advance(j - self._i)
                return
        quote = s[self._i]
        j = self._i + 1
        while s[j] != quote:
            j += 2 if quote == '"' and s[j] == "\\" else 1
        self._advance(j + 1 - self._i)

    def _value(self, path: tuple[Any, ...]) -> None:
        if self._at("["):
            self._advance(1)
            index = 0
            while True:
                self._skip(newlines=True)
                if self._at("]"):
                    self._advance(1)
                    return
                self._note((*path, index))
                self._value((*path, index))
                index += 1
                self._skip(newlines=True)
                if self._at(","):
                    self._advance(1)
        elif self._at("{"):
            self._advance(1)
            while True:
                self._skip(newlines=False)
                if self._at("}"):
                    self._advance(1)
                    return
                keys = self._key()
                self._note((*path, *keys))
                self._advance(1)  # "="
                self._skip(newlines=False)
                self._value((*path, *keys))
                self._skip(newlines=False)
                if self._at(","):
                    self._advance(1)
        elif self._at('"') or self._at("'"):
            self._string()
        else:
            match = _SCALAR.match(self._s, self._i)
            assert match is not None
            self._advance(match.end() - self._i)
