"""Drafts on disk: what an open form holds, kept per agent and store until saved or discarded.

A draft survives what memory does not: a crash, a dropped SSH connection, a restart.
Each (store, agent) pair has its own folder, named by a digest of both, so two desks or
two agents never see each other's drafts; each form has one file in it. A file is
written whole to a temporary name and renamed over the old one, so a crash mid-write
leaves the previous draft, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from itsm_tui.data.store import data_dir

SUFFIX = ".json"
# A draft file that cannot be read is moved aside under this suffix, never overwritten.
UNREADABLE = ".unreadable"


def drafts_root() -> Path:
    """Where drafts live unless told otherwise: the user's data directory (platformdirs)."""
    return data_dir() / "drafts"


def store_identity(url: str) -> str:
    """The store as a key: no password, and a SQLite file by its absolute path."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        parsed = parsed.set(database=str(Path(parsed.database).expanduser().resolve()))
    return parsed.render_as_string(hide_password=True)


@dataclass
class DraftBox:
    """The drafts of one agent on one store."""

    folder: Path
    store: str
    agent: str
    # The newest version asked for, per form: a slower, older write never lands over it.
    _latest: dict[str, int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def for_desk(cls, store_url: str, agent: str, root: Path | None = None) -> DraftBox:
        store = store_identity(store_url)
        digest = hashlib.sha256(f"{store}\0{agent}".encode()).hexdigest()[:24]
        return cls(folder=(root or drafts_root()) / digest, store=store, agent=agent)

    def path(self, form: str) -> Path:
        # Form keys are ours ("CommentForm.work_note.INC0000012"); the pattern keeps a
        # ticket number typed into a palette from ever naming a path.
        return self.folder / (re.sub(r"[^A-Za-z0-9._-]", "_", form) + SUFFIX)

    def load(self, form: str) -> dict[str, str]:
        """The fields kept for `form` (empty when there is none or it cannot be read)."""
        path = self.path(form)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            fields = data["fields"]
            if not isinstance(fields, dict):
                raise TypeError("fields is not a table")
            return {str(k): str(v) for k, v in fields.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError):
            with contextlib.suppress(OSError):
                path.replace(path.with_name(path.name + UNREADABLE))
            return {}

    def next_version(self, form: str) -> int:
        with self._lock:
            version = self._latest.get(form, 0) + 1
            self._latest[form] = version
            return version

    def save(
        self, form: str, fields: dict[str, str], *, now: datetime, version: int | None = None
    ) -> None:
        """Keep `fields` for `form` (no text at all: forget it). Safe from any thread."""
        with self._lock:
            if version is not None and version < self._latest.get(form, 0):
                return
            kept = {k: v for k, v in fields.items() if v}
            if not kept:
                self._remove(form)
                return
            record = {
                "store": self.store,
                "agent": self.agent,
                "form": form,
                "saved_at": now.isoformat(),
                "fields": kept,
            }
            self._write(self.path(form), json.dumps(record, ensure_ascii=False, indent=1))

    def discard(self, form: str) -> None:
        with self._lock:
            self._latest[form] = self._latest.get(form, 0) + 1
            self._remove(form)

    def forms(self) -> list[str]:
        """The forms that have a draft, by file name."""
        if not self.folder.is_dir():
            return []
        return sorted(p.name[: -len(SUFFIX)] for p in self.folder.glob("*" + SUFFIX))

    def _remove(self, form: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(form).unlink()

    def _write(self, path: Path, text: str) -> None:
        # Drafts may hold anything an agent types about a requester: only its owner reads them.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


_BOXES: dict[tuple[str, str, Path], DraftBox] = {}
_BOXES_LOCK = threading.Lock()


def draft_box(store_url: str, agent: str, root: Path | None = None) -> DraftBox:
    """The one DraftBox of this process for an agent on a store (its write order lives in it)."""
    key = (store_identity(store_url), agent, root or drafts_root())
    with _BOXES_LOCK:
        box = _BOXES.get(key)
        if box is None:
            box = _BOXES[key] = DraftBox.for_desk(store_url, agent, root)
        return box
