"""`itsm agent key add|list|remove`: administrators manage the keys agents sign in with."""

from __future__ import annotations

import json
from pathlib import Path

import asyncssh

from itsm_tui.desk.agent_keys import read_public_key
from tests.cli.conftest import Itsm, assert_refused, snapshot


def key_file(folder: Path, comment: str = "alice@laptop") -> tuple[Path, str]:
    line = asyncssh.generate_private_key("ssh-ed25519", comment=comment).export_public_key(
        "openssh"
    )
    path = folder / f"{comment.replace('@', '_')}.pub"
    path.write_bytes(line)
    return path, read_public_key(line.decode()).fingerprint


def test_add_list_remove(itsm: Itsm, tmp_path: Path) -> None:
    path, fingerprint = key_file(tmp_path)
    added = itsm.ok("agent", "key", "add", "alice", str(path), agent="root")
    assert added.stdout == f"alice signs in with {fingerprint} (ssh-ed25519, alice@laptop).\n"
    listed = itsm.json("agent", "key", "list", agent="root")
    assert [(k["agent"], k["fingerprint"], k["comment"]) for k in listed] == [
        ("alice", fingerprint, "alice@laptop")
    ]
    # An agent may list their own keys, nobody else's.
    assert [
        k["fingerprint"] for k in itsm.json("agent", "key", "list", "alice", agent="alice")
    ] == [fingerprint]
    assert_refused(itsm("agent", "key", "list", agent="bob"), says="needs the role admin")
    itsm.ok("agent", "key", "remove", "alice", fingerprint, agent="root")
    assert itsm.json("agent", "key", "list", agent="root") == []


def test_refusals_write_nothing(itsm: Itsm, tmp_path: Path) -> None:
    path, fingerprint = key_file(tmp_path)
    before = snapshot(itsm.store)
    assert_refused(
        itsm("agent", "key", "add", "alice", str(path), agent="alice"), says="needs the role admin"
    )
    two = tmp_path / "two.pub"
    two.write_text(path.read_text() * 2)
    assert_refused(itsm("agent", "key", "add", "alice", str(two), agent="root"), says="2 key lines")
    bad = tmp_path / "bad.pub"
    bad.write_text("ssh-ed25519 AAAAC3Nz\n")
    assert_refused(itsm("agent", "key", "add", "alice", str(bad), agent="root"), says="damaged")
    assert_refused(
        itsm("agent", "key", "add", "nobody", str(path), agent="root"), says="no agent 'nobody'"
    )
    assert_refused(
        itsm("agent", "key", "remove", "alice", fingerprint, agent="root"), says="has no key"
    )
    assert snapshot(itsm.store) == before
    assert itsm.json("agent", "key", "list", agent="root") == []
    itsm.ok("agent", "key", "add", "alice", str(path), agent="root")
    assert_refused(
        itsm("agent", "key", "add", "bob", str(path), agent="root"),
        says="already signs in as alice",
    )


def test_a_key_from_standard_input(itsm: Itsm, tmp_path: Path) -> None:
    path, fingerprint = key_file(tmp_path, "bob@phone")
    result = itsm("agent", "key", "add", "bob", "-", agent="root", input=path.read_text())
    assert result.exit_code == 0, result.stderr
    listed = json.loads(itsm.ok("agent", "key", "list", "bob", "--json", agent="root").stdout)
    assert listed[0]["fingerprint"] == fingerprint
