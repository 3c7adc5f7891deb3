"""The SSH server's host key: made once (Ed25519), kept owner-only in the data directory.

Clients pin the key on their first connection, so it must outlive restarts and
upgrades; rotating it is deliberate (docs/deploy.md): move the file away and start
the server, which makes a new one and prints its fingerprint for the agents to check.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import asyncssh

from itsm_tui.desk.errors import DeskError
from itsm_tui.i18n import _

HOST_KEY_FILE = "ssh_host_ed25519_key"


def host_key_path(folder: Path) -> Path:
    return folder / HOST_KEY_FILE


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The key at `path`, made there first if there is none; refuses one others can read."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="itsm serve host key")
        # Created owner-only (O_EXCL: never over a file that appeared meanwhile).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.export_private_key("openssh"))
        return key
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DeskError(
            _(
                "the host key {path} can be read by others (mode {mode:o}); "
                "chmod 600 it, or move it away to make a new one"
            ).format(path=path, mode=stat.S_IMODE(mode))
        )
    try:
        return asyncssh.read_private_key(str(path))
    except (asyncssh.KeyImportError, OSError) as exc:
        raise DeskError(
            _("the host key {path} cannot be read: {why}").format(path=path, why=exc)
        ) from None


def fingerprint(key: asyncssh.SSHKey) -> str:
    return key.get_fingerprint("sha256")
