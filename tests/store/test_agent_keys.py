"""Agents' SSH keys on both databases: the desk file's `ssh_keys`, the desk's key
functions, and the sign-in lookup `itsm serve` makes."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncssh
import pytest
from sqlalchemy import func, select

from itsm_tui.config import (
    DeskFileError,
    apply_config,
    default_desk_text,
    dump_toml,
    load_desk_text,
    plan_config,
    read_config,
)
from itsm_tui.config.readers import serve_settings
from itsm_tui.data.models import Agent, AgentKey, AuditEvent
from itsm_tui.data.store import Store
from itsm_tui.desk.agent_keys import add_key, read_public_key, remove_key
from itsm_tui.desk.errors import InvalidInput, PermissionDenied
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.remote_sessions import sign_in

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def public(comment: str = "") -> str:
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    return key.export_public_key("openssh").decode().strip()


def desk_text(lwang_keys: str | None = None, zhao_keys: str | None = None, extra: str = "") -> str:
    def agent(name: str, roles: str, keys: str | None) -> str:
        text = f'\n[[agents]]\nusername = "{name}"\nroles = {roles}\n'
        return text + (f"ssh_keys = {keys}\n" if keys is not None else "")

    return (
        default_desk_text()
        + agent("admin", '["admin"]', None)
        + agent("lwang", '["agent"]', lwang_keys)
        + agent("zhao", '["agent"]', zhao_keys)
        + extra
    )


def apply_text(store: Store, text: str) -> None:
    with store.write() as session:
        apply_config(session, load_desk_text(text, "desk.toml"), now=NOW)


def keys_of(store: Store) -> dict[str, list[str]]:
    with store.read() as session:
        rows = session.execute(
            select(Agent.username, AgentKey.fingerprint)
            .join(AgentKey, AgentKey.agent_id == Agent.id)
            .order_by(Agent.username, AgentKey.id)
        ).all()
    found: dict[str, list[str]] = {}
    for name, fingerprint in rows:
        found.setdefault(name, []).append(fingerprint)
    return found


def fp(line: str) -> str:
    return read_public_key(line).fingerprint


def test_desk_file_keys_are_stored_shown_and_reapplied_as_no_change(store: Store) -> None:
    k1, k2 = public("lwang@laptop"), public("lwang@phone")
    text = desk_text(f'["{k1}", "{k2}"]')
    apply_text(store, text)
    assert keys_of(store) == {"lwang": [fp(k1), fp(k2)]}
    with store.read() as session:
        assert sign_in(session, "lwang", fp(k2)).username == "lwang"
        # The key is lwang's: offered as zhao, it signs in as no one.
        assert sign_in(session, "zhao", fp(k2)) is None
        shown = dump_toml(read_config(session))
        assert plan_config(session, load_desk_text(text, "desk.toml")).is_empty
    # What `itsm config show` prints applies back as no change, keys included.
    assert k1 in shown and k2 in shown
    with store.read() as session:
        assert plan_config(session, load_desk_text(shown, "shown.toml")).is_empty


def test_a_file_without_ssh_keys_leaves_the_keys_added_by_command(store: Store) -> None:
    apply_text(store, desk_text())
    key = public()
    with store.write() as session:
        add_key(session, get_agent(session, "admin"), "lwang", key, now=NOW)
    apply_text(store, desk_text())
    assert keys_of(store) == {"lwang": [fp(key)]}
    # `ssh_keys = []` takes them away.
    apply_text(store, desk_text("[]"))
    assert keys_of(store) == {}


def test_a_key_moves_between_agents_in_one_apply(store: Store) -> None:
    key = public()
    # zhao's key goes to lwang, who comes first in the file: it is taken from zhao's row
    # before zhao's entry is applied.
    apply_text(store, desk_text("[]", f'["{key}"]'))
    apply_text(store, desk_text(f'["{key}"]', "[]"))
    assert keys_of(store) == {"lwang": [fp(key)]}
    # And back, the giver first this time.
    apply_text(store, desk_text("[]", f'["{key}"]'))
    assert keys_of(store) == {"zhao": [fp(key)]}


def test_an_agent_removed_from_the_file_takes_its_keys_along(store: Store) -> None:
    key = public()
    apply_text(store, desk_text(zhao_keys=f'["{key}"]'))
    text = desk_text().split('\n[[agents]]\nusername = "zhao"')[0]
    apply_text(store, text)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(AgentKey)) == 0
        assert sign_in(session, "zhao", fp(key)) is None


def test_malformed_and_shared_keys_are_refused_with_their_lines(store: Store) -> None:
    key = public()
    damaged = key[:-20]
    text = desk_text(f'["{key}", "ssh-dss AAAAB3Nza", "{damaged}"]', f'["{key}"]')
    with pytest.raises(DeskFileError) as err:
        load_desk_text(text, "desk.toml")
    lines = text.splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.startswith("ssh_keys") and "ssh-dss" in t)
    assert err.value.errors == [
        f"desk.toml:{line}: agent 'lwang': ssh_keys: 'ssh-dss' is not an SSH key type the desk "
        "takes: ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, "
        "ssh-rsa, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com",
        f"desk.toml:{line}: agent 'lwang': ssh_keys: the ssh-ed25519 key's data is damaged "
        "(cut short or mistyped?)",
    ]
    # Both agents listing one key: refused at the second, and nothing is written.
    shared = desk_text(f'["{key}"]', f'["{key}"]')
    with pytest.raises(DeskFileError) as err, store.write() as session:
        apply_config(session, load_desk_text(shared, "desk.toml"), now=NOW)
    zhao_line = len(shared.splitlines())
    assert err.value.errors == [
        f"desk.toml:{zhao_line}: agent 'zhao': ssh_keys: the key {fp(key)} also signs in as "
        "lwang; a key belongs to one agent"
    ]
    assert keys_of(store) == {}


def test_a_key_another_agent_keeps_is_refused(store: Store) -> None:
    key = public()
    apply_text(store, desk_text(f'["{key}"]'))
    # lwang keeps their keys (no ssh_keys in the file), so zhao cannot have this one.
    with pytest.raises(DeskFileError) as err:
        apply_text(store, desk_text(None, f'["{key}"]'))
    assert "also signs in as lwang" in err.value.errors[0]
    assert keys_of(store) == {"lwang": [fp(key)]}


def test_serve_limits_are_validated_and_read(store: Store) -> None:
    bad = "[serve]\nmax_sessions = 2\nmax_sessions_per_agent = 3\nidle_timeout_minutes = -1\n"
    with pytest.raises(DeskFileError) as err:
        load_desk_text(bad, "desk.toml")
    assert err.value.errors == [
        "desk.toml:3: serve: max_sessions_per_agent (3) cannot be more than max_sessions (2)",
        "desk.toml:4: serve: idle_timeout_minutes must be between 0 and 10080, not -1",
    ]
    with store.read() as session:
        assert serve_settings(session).max_sessions == 50  # the default before any file
    apply_text(store, desk_text(extra="").replace("max_sessions = 50", "max_sessions = 7"))
    with store.read() as session:
        limits = serve_settings(session)
    assert (limits.max_sessions, limits.max_sessions_per_agent) == (7, 3)


def test_only_an_admin_adds_or_removes_keys_and_each_is_audited(store: Store) -> None:
    apply_text(store, desk_text())
    key = public("zhao@laptop")
    with store.write() as session, pytest.raises(PermissionDenied):
        add_key(session, get_agent(session, "lwang"), "zhao", key, now=NOW)
    assert keys_of(store) == {}
    with store.write() as session:
        admin = get_agent(session, "admin")
        add_key(session, admin, "zhao", key, now=NOW)
        with pytest.raises(InvalidInput, match="already signs in as zhao"):
            add_key(session, admin, "lwang", key, now=NOW)
        remove_key(session, admin, "zhao", fp(key), now=NOW)
    with store.read() as session:
        events = session.execute(
            select(
                AuditEvent.action,
                AuditEvent.record_number,
                AuditEvent.new_value,
                AuditEvent.old_value,
            )
            .where(AuditEvent.record_type == "agent")
            .order_by(AuditEvent.id)
        ).all()
    assert [tuple(e) for e in events] == [
        ("agent.key_add", "zhao", f"{fp(key)} zhao@laptop", None),
        ("agent.key_remove", "zhao", None, fp(key)),
    ]


def test_an_inactive_agent_signs_in_with_no_key(store: Store) -> None:
    key = public()
    apply_text(store, desk_text(zhao_keys=f'["{key}"]'))
    apply_text(
        store,
        desk_text(zhao_keys=f'["{key}"]').replace(
            'username = "zhao"\nroles = ["agent"]',
            'username = "zhao"\nroles = ["agent"]\nactive = false',
        ),
    )
    with store.read() as session:
        assert sign_in(session, "zhao", fp(key)) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "private key"),
        ('from="10.0.0.1" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB', "options"),
        ("ssh-ed25519", "no key data"),
        ("ssh-ed25519 AAAA\x1b[2J", "damaged"),
    ],
)
def test_key_lines_that_are_not_keys_say_why(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        read_public_key(text)


def test_short_rsa_keys_are_too_weak() -> None:
    short = asyncssh.generate_private_key("ssh-rsa", key_size=1024).export_public_key("openssh")
    with pytest.raises(InvalidInput, match="1024 bits"):
        read_public_key(short.decode())
