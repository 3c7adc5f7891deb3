"""Agents' SSH public keys: reading a key line, and adding, listing and removing keys.

A remote session (`itsm serve`) is whoever holds the private half of a key stored
here: the key, not the name typed after `ssh`, says which agent it is. So a key
belongs to one agent only, and only an administrator adds or removes one (audited on
the agent, with the key's fingerprint).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, AgentKey, AuditEvent
from itsm_tui.desk.errors import InvalidInput, NotFound
from itsm_tui.desk.records import require
from itsm_tui.i18n import _

MANAGE_KEYS = "agent.keys"
# What the SSH server accepts; DSA and short RSA keys are refused as too weak to name a person.
KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
RSA_MIN_BITS = 2048
# authorized_keys lines are short; a megabyte of "key" is a mistake, refused before parsing.
KEY_LINE_MAX = 16_384


@dataclass(frozen=True)
class PublicKey:
    """One key as the desk keeps it: its line (type, base64, comment) and its fingerprint."""

    line: str
    fingerprint: str
    algorithm: str
    comment: str


@dataclass(frozen=True)
class KeyRow:
    agent: str
    fingerprint: str
    algorithm: str
    comment: str
    added_at: datetime


def read_public_key(text: str) -> PublicKey:
    """A key from one authorized_keys-style line, or InvalidInput saying what is wrong."""
    import asyncssh  # the SSH library loads only when a key is read

    line = text.strip()
    if not line:
        raise InvalidInput(_("the SSH key is empty"))
    if len(line) > KEY_LINE_MAX or "\n" in line or "\r" in line:
        raise InvalidInput(_("an SSH key is one line: the contents of a .pub file"))
    if "PRIVATE KEY" in line:
        raise InvalidInput(
            _("that is a private key: give the public one (the .pub file), and keep this secret")
        )
    fields = line.split(None, 2)
    algorithm = fields[0]
    if algorithm not in KEY_TYPES:
        if any(f in KEY_TYPES for f in fields[1:2]):
            raise InvalidInput(
                _(
                    "authorized_keys options ({options}) are not taken: give the key alone, "
                    "starting with its type"
                ).format(options=algorithm[:40])
            )
        raise InvalidInput(
            _("{kind!r} is not an SSH key type the desk takes: {types}").format(
                kind=algorithm[:40], types=", ".join(KEY_TYPES)
            )
        )
    if len(fields) < 2:
        raise InvalidInput(
            _("the {kind} key has no key data after its type").format(kind=algorithm)
        )
    try:
        key = asyncssh.import_public_key(" ".join(fields[:2]))
    except (asyncssh.KeyImportError, ValueError):
        raise InvalidInput(
            _("the {kind} key's data is damaged (cut short or mistyped?)").format(kind=algorithm)
        ) from None
    if key.get_algorithm() != algorithm:
        raise InvalidInput(
            _("the key says it is {said} but its data is a {real} key").format(
                said=algorithm, real=key.get_algorithm()
            )
        )
    bits = getattr(getattr(key, "pyca_key", None), "key_size", None)
    if algorithm == "ssh-rsa" and bits is not None and bits < RSA_MIN_BITS:
        raise InvalidInput(
            _("the RSA key has {bits} bits; the desk takes {least} or more").format(
                bits=bits, least=RSA_MIN_BITS
            )
        )
    comment = fields[2].strip() if len(fields) > 2 else ""
    if any(ord(c) < 32 or ord(c) == 127 for c in comment):
        raise InvalidInput(_("the key's comment holds control characters"))
    normal = f"{algorithm} {fields[1]} {comment}".strip()
    return PublicKey(normal, key.get_fingerprint("sha256"), algorithm, comment)


def key_holder(session: Session, fingerprint: str) -> Agent | None:
    """The agent a key signs in as (active or not: the caller says what an inactive one gets)."""
    return session.scalars(
        select(Agent)
        .join(AgentKey, AgentKey.agent_id == Agent.id)
        .where(AgentKey.fingerprint == fingerprint)
    ).one_or_none()


def _agent(session: Session, username: str) -> Agent:
    agent = session.scalars(select(Agent).where(Agent.username == username)).one_or_none()
    if agent is None:
        raise NotFound(
            _("no agent {name!r} on this desk; agents are added in the desk file").format(
                name=username
            )
        )
    return agent


def _audit(
    session: Session, actor: Agent, agent: Agent, action: str, now: datetime, **values: str
) -> None:
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            record_type="agent",
            record_id=agent.id,
            record_number=agent.username,
            action=action,
            field="ssh_keys",
            old_value=values.get("old"),
            new_value=values.get("new"),
        )
    )


def add_key(
    session: Session, actor: Agent, username: str, text: str, *, now: datetime
) -> PublicKey:
    """Give `username` a key to sign in with; refused if any agent already holds it."""
    require(actor, MANAGE_KEYS, _("manage agents' SSH keys"))
    agent = _agent(session, username)
    key = read_public_key(text)
    holder = key_holder(session, key.fingerprint)
    if holder is not None:
        raise InvalidInput(
            _(
                "the key {fingerprint} already signs in as {agent}; a key belongs to one agent"
            ).format(fingerprint=key.fingerprint, agent=holder.username)
        )
    agent.ssh_keys.append(AgentKey(fingerprint=key.fingerprint, public_key=key.line, added_at=now))
    _audit(
        session, actor, agent, "agent.key_add", now, new=f"{key.fingerprint} {key.comment}".strip()
    )
    session.flush()
    return key


def remove_key(
    session: Session, actor: Agent, username: str, fingerprint: str, *, now: datetime
) -> None:
    """Take a key away from `username`: its next login is refused (open sessions go on)."""
    require(actor, MANAGE_KEYS, _("manage agents' SSH keys"))
    agent = _agent(session, username)
    wanted = fingerprint if fingerprint.startswith("SHA256:") else f"SHA256:{fingerprint}"
    row = next((k for k in agent.ssh_keys if k.fingerprint == wanted), None)
    if row is None:
        raise NotFound(
            _("{agent} has no key {fingerprint}; itsm agent key list shows theirs").format(
                agent=username, fingerprint=wanted
            )
        )
    agent.ssh_keys.remove(row)
    _audit(session, actor, agent, "agent.key_remove", now, old=row.fingerprint)
    session.flush()


def list_keys(session: Session, actor: Agent, username: str | None = None) -> list[KeyRow]:
    """Keys by agent and age: an administrator's of anyone, an agent's own otherwise."""
    if username != actor.username:
        require(actor, MANAGE_KEYS, _("see other agents' SSH keys"))
    query = select(AgentKey, Agent.username).join(Agent, Agent.id == AgentKey.agent_id)
    if username is not None:
        query = query.where(Agent.id == _agent(session, username).id)
    rows = session.execute(query.order_by(Agent.username, AgentKey.id)).all()
    return [
        KeyRow(
            agent=name,
            fingerprint=key.fingerprint,
            algorithm=key.public_key.split(" ", 1)[0],
            comment=key.public_key.split(" ", 2)[2] if key.public_key.count(" ") >= 2 else "",
            added_at=key.added_at,
        )
        for key, name in rows
    ]
