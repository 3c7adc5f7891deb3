"""The browser's files (textual-serve's static folder), made ready for a slow link.

A first visit downloads the page's script, style sheet, font and background: 763 kB
as textual-serve ships them, about 6 s on a 1 Mbit/s link before the app starts. So,
once when the server starts (never per request), every file is copied into the data
directory's cache with a gzip sibling (`textual.js.gz`) beside it when that saves
something; aiohttp's FileResponse sends the sibling, with `Content-Encoding: gzip`, to
a browser that accepts gzip, and the file itself to one that does not.

The folder's name (and so the files' URLs) carries textual-serve's version and a digest
of the files: a browser may keep them for a year without asking again, and an upgrade,
which changes the URLs, is never served from a stale copy. A folder already made for
the same files is used as it is (a restart costs nothing); one is made under a
temporary name and renamed when complete, so two servers sharing a data directory
never see half of one. No brotli: it would need a library the desk does not have.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

# A sibling is kept only when it is at most this share of the file: the fonts and the
# background (already compressed formats) still shrink by a third, but a file that
# barely shrinks is not worth the browser's decompression.
WORTH_COMPRESSING = 0.9
GZIP_LEVEL = 9
# Written last into a folder: the folder is complete.
READY = ".ready"
# The files' URLs change with their contents: the browser keeps them and never asks.
# `private`: they are served only to the agents the proxy vouched for, so a cache on
# the way must not hand them to anyone else.
STATIC_CACHE_CONTROL = "private, max-age=31536000, immutable"


@dataclass(frozen=True)
class Statics:
    """The folder the browser's files are served from, and its URL segment."""

    folder: Path
    # `<textual-serve version>-<digest>`: part of every static file's URL.
    release: str


def textual_serve_version() -> str:
    return importlib.metadata.version("textual-serve")


def _files(source: Path) -> list[Path]:
    # Regular files only: a symlink in the package is not followed out of it.
    return sorted(
        p for p in source.rglob("*") if p.is_file() and not p.is_symlink() and p.name != READY
    )


def digest_of(source: Path) -> str:
    """A digest of the folder's file names and contents: same files, same digest."""
    hashed = hashlib.sha256()
    for path in _files(source):
        hashed.update(path.relative_to(source).as_posix().encode() + b"\0")
        hashed.update(hashlib.sha256(path.read_bytes()).digest())
    return hashed.hexdigest()[:16]


def prepare_statics(source: Path, cache: Path) -> Statics:
    """`source`'s files in `cache/<version>-<digest>/`, each with its gzip sibling where
    that saves something; made now, or found made by an earlier start."""
    release = f"{textual_serve_version()}-{digest_of(source)}"
    target = cache / release
    if (target / READY).is_file():
        return Statics(target, release)
    cache.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=cache))
    try:
        for path in _files(source):
            copy = building / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            copy.write_bytes(data)
            made = [copy]
            # mtime=0: the same file always compresses to the same bytes.
            packed = gzip.compress(data, GZIP_LEVEL, mtime=0)
            if len(packed) <= len(data) * WORTH_COMPRESSING:
                sibling = copy.with_name(copy.name + ".gz")
                sibling.write_bytes(packed)
                made.append(sibling)
            # Last-Modified (and aiohttp's ETag) follow the installed file, not this copy.
            stat = path.stat()
            for made_file in made:
                os.utime(made_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        (building / READY).write_text(release + "\n", encoding="ascii")
        try:
            building.rename(target)
        except OSError:
            # Another server sharing this data directory made the same folder meanwhile.
            if not (target / READY).is_file():
                raise
            shutil.rmtree(building, ignore_errors=True)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return Statics(target, release)
