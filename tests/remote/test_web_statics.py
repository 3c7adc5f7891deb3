"""The browser's files on a slow link: compressed once at start, sent gzip to a browser
that accepts gzip and plain to one that does not, kept by the browser (a repeat is a
304), and still nothing at all for a request the proxy did not vouch for."""

from __future__ import annotations

import asyncio
import gzip
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from itsm_tui.data.store import Store
from itsm_tui.remote import web_statics
from itsm_tui.remote.web_server import SECRET_HEADER, STATICS
from itsm_tui.remote.web_statics import (
    READY,
    STATIC_CACHE_CONTROL,
    prepare_statics,
    textual_serve_version,
)
from tests.factories import build_desk
from tests.remote.sessions import running_server

pytestmark = pytest.mark.timeout(300)

SECRET = "correct horse battery staple"
VOUCHED = {"X-Forwarded-User": "alice", SECRET_HEADER: SECRET}
# What the desk's page names (templates/app_index.html): the whole first download.
PAGE_FILES = {
    "css/xterm.css",
    "fonts/RobotoMono-VariableFont_wght.ttf",
    "js/textual.js",
    "images/background.png",
}


@pytest.fixture
def desk(store: Store) -> Iterator[Store]:
    """alice's desk on each backend: the gate looks her up on every request."""
    build_desk(store)
    yield store


def files_named(html: str) -> dict[str, str]:
    """The static files the page names, by their path in textual-serve's folder."""
    urls = re.findall(r'(?:href|src)="([^"]+)"|url\("([^"]+)"\)', html)
    found = {}
    for url in (a or b for a, b in urls):
        match = re.search(r"/static/([^/]+)/(.+)$", url)
        assert match is not None, url
        found[match[2]] = url
    return found


def test_each_file_is_compressed_once_and_found_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compressed: list[int] = []
    compress = gzip.compress

    def counted(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        compressed.append(len(data))
        return compress(data, *args, **kwargs)

    monkeypatch.setattr(web_statics.gzip, "compress", counted)
    source = tmp_path / "static"
    (source / "js").mkdir(parents=True)
    script = b"function queue(rows) { return rows.map((row) => row.number); }\n" * 2000
    (source / "js" / "app.js").write_bytes(script)
    noise = os.urandom(5000)  # does not compress: served as it is
    (source / "noise.bin").write_bytes(noise)
    cache = tmp_path / "cache"

    made = prepare_statics(source, cache)
    assert sorted(compressed) == sorted([len(script), len(noise)])
    assert made.release.startswith(f"{textual_serve_version()}-")
    assert made.folder == cache / made.release
    packed = (made.folder / "js" / "app.js.gz").read_bytes()
    assert gzip.decompress(packed) == script
    assert len(packed) < len(script) / 10
    assert (made.folder / "js" / "app.js").read_bytes() == script
    assert (made.folder / "noise.bin").read_bytes() == noise
    assert not (made.folder / "noise.bin.gz").exists()
    # Last-Modified follows the installed file.
    assert (made.folder / "js" / "app.js").stat().st_mtime_ns == (
        source / "js" / "app.js"
    ).stat().st_mtime_ns

    # A restart finds the folder made: nothing is compressed again.
    before = (made.folder / "js" / "app.js.gz").stat()
    compressed.clear()
    assert prepare_statics(source, cache) == made
    assert compressed == []
    after = (made.folder / "js" / "app.js.gz").stat()
    assert (after.st_ino, after.st_ctime_ns) == (before.st_ino, before.st_ctime_ns)

    # Other files (an upgrade): another release, other URLs; the old folder is untouched.
    (source / "js" / "app.js").write_bytes(script + b"// 1.1.4\n")
    upgraded = prepare_statics(source, cache)
    assert upgraded.release != made.release
    assert gzip.decompress((upgraded.folder / "js" / "app.js.gz").read_bytes()).endswith(
        b"// 1.1.4\n"
    )
    assert gzip.decompress(packed) == script
    # Nothing half-made is left beside them.
    assert sorted(p.name for p in cache.iterdir()) == sorted([made.release, upgraded.release])
    assert (upgraded.folder / READY).is_file()


def test_a_browser_gets_the_files_compressed_and_keeps_them(desk: Store, tmp_path: Path) -> None:
    async def scenario() -> None:
        # auto_decompress off: the test sees the bytes that crossed the wire.
        async with (
            aiohttp.ClientSession(auto_decompress=False) as http,
            running_server(desk, tmp_path, web_secret=SECRET, spare_consoles=0) as server,
        ):
            base = f"http://127.0.0.1:{server.web_port}"
            gzip_ok = {**VOUCHED, "Accept-Encoding": "gzip"}
            async with http.get(base + "/", headers=gzip_ok) as page:
                assert page.status == 200
                assert page.headers["Content-Encoding"] == "gzip"
                assert page.headers["Cache-Control"] == "no-cache"
                html = gzip.decompress(await page.read()).decode()
            urls = files_named(html)
            assert set(urls) == PAGE_FILES

            sent = 0
            for name, url in sorted(urls.items()):
                original = (STATICS / name).read_bytes()
                async with http.get(url, headers=gzip_ok) as packed:
                    assert packed.status == 200, name
                    body = await packed.read()
                    assert packed.headers["Vary"] == "Accept-Encoding"
                    assert packed.headers["Cache-Control"] == STATIC_CACHE_CONTROL
                    etag = packed.headers["ETag"]
                    assert not etag.startswith("W/")  # a strong validator
                    assert "Last-Modified" in packed.headers
                    # Every file of the page shrinks by a third or more, so each is sent gzip.
                    assert packed.headers["Content-Encoding"] == "gzip", name
                    assert gzip.decompress(body) == original, name
                    sent += len(body)
                # A repeat with the validator: 304, no body.
                async with http.get(url, headers={**gzip_ok, "If-None-Match": etag}) as again:
                    assert again.status == 304, name
                    assert await again.read() == b""
                    assert again.headers["Cache-Control"] == STATIC_CACHE_CONTROL

                # A client that does not accept gzip (aiohttp's own header left off).
                async with http.get(
                    url, headers=VOUCHED, skip_auto_headers=["Accept-Encoding"]
                ) as plain:
                    assert plain.status == 200
                    assert "Content-Encoding" not in plain.headers
                    assert await plain.read() == original, name
                    assert plain.headers["Vary"] == "Accept-Encoding"
                    assert plain.headers["ETag"] != etag  # another representation
                    plain_etag = plain.headers["ETag"]
                async with http.get(
                    url,
                    headers={**VOUCHED, "If-None-Match": plain_etag},
                    skip_auto_headers=["Accept-Encoding"],
                ) as again:
                    assert again.status == 304, name

                # Without the proxy's word: still a bare 403, nothing cacheable.
                async with http.get(url, headers={"Accept-Encoding": "gzip"}) as refused:
                    assert refused.status == 403
                    assert await refused.read() == b""
                    assert "Cache-Control" not in refused.headers
            whole = sum((STATICS / name).stat().st_size for name in PAGE_FILES)
            assert sent < whole / 2

    asyncio.run(scenario())
