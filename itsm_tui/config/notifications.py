"""[notifications] in the desk file: who is told of what, on which channel, and how to send.

One setting in the store (`desk_settings` key "notifications", a JSON object); its parse,
its store value, its reading back and its dump all live here, so the section has one
definition. The words of the section (channels, events, audiences) are the deliverer's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from itsm_tui.config.checker import Table, _duplicate
from itsm_tui.config.vocabulary import _USERNAME
from itsm_tui.i18n import _

# Where a message can go. Each is an address key of an agent or a team.
CHANNELS = ("email", "slack", "dingtalk", "wecom", "feishu", "webhook")
# What a notice is about: the `kind` of its `notifications` row.
EVENTS = (
    "assignment",
    "warning",
    "breach",
    "escalation",
    "page",
    "approval",
    "change_starting",
    "major_incident",
)
# Who hears of a notice: "agent" — the agent it is addressed to; "team" — the team's own
# channels when it is addressed to a team; "members" — each active member of that team on
# their own channels (and quiet hours).
AUDIENCES = ("agent", "team", "members")
# Pages wake people: quiet hours never hold one back, whatever the file says.
LOUD_EVENTS = ("page",)
SECURITIES = ("starttls", "tls", "none")
# A secret named by its environment variable: never written to the store or printed.
ENV_PREFIX = "env:"
_ENV = re.compile(r"^env:[A-Za-z_][A-Za-z0-9_]*$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# Retries wait retry_seconds, then twice that, … never longer than this.
MAX_BACKOFF_SECONDS = 6 * 3600


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    # "env:NAME" only: the password is read from the environment when a mail is sent.
    password: str | None = None
    sender: str = "itsm@localhost"
    # A PEM file of the CA(s) the server's certificate is checked against instead of the
    # system's (an organisation's own CA); the certificate and its host name are always checked.
    ca_file: str | None = None


@dataclass(frozen=True)
class Recipient:
    """An agent's (username) or a team's (team) addresses; secrets sign DingTalk/Feishu."""

    username: str | None = None
    team: str | None = None
    addresses: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    # ("HH:MM", "HH:MM") in the agent's own time zone; may wrap midnight.
    quiet_hours: tuple[str, str] | None = None
    path: tuple[Any, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Route:
    to: tuple[str, ...]
    channels: tuple[str, ...]


@dataclass(frozen=True)
class NotificationSettings:
    # How a message says to open the ticket: "{number}" is replaced (e.g. a serve URL).
    open_url: str | None = None
    # Where the intake's /ack/{token} is reached from outside (its proxy): a page's message
    # then carries a link a person can open, not only the path.
    ack_url: str | None = None
    max_attempts: int = 6
    retry_seconds: int = 60
    timeout_seconds: int = 10
    smtp: SmtpSettings | None = None
    agents: tuple[Recipient, ...] = ()
    teams: tuple[Recipient, ...] = ()
    events: Mapping[str, Route] = field(default_factory=dict)
    path: tuple[Any, ...] = field(default=(), compare=False, repr=False)


def is_secret_ref(value: str) -> bool:
    return bool(_ENV.match(value))


def _address(t: Table, channel: str) -> str | None:
    value = t.text(channel, max_len=2000)
    if value is None:
        return None
    if value.startswith(ENV_PREFIX):
        if not is_secret_ref(value):
            t.error(channel, _("{key} must be env:NAME with a variable name").format(key=channel))
            return None
    elif channel == "email":
        if not _EMAIL.match(value):
            t.error(channel, _("email {value!r} is not an address").format(value=value))
            return None
    elif not value.startswith(("https://", "http://")):
        t.error(
            channel,
            _("{key} must be an http(s) URL or env:NAME, not {value!r}").format(
                key=channel, value=value
            ),
        )
        return None
    return value


def _secret(t: Table, key: str) -> str | None:
    value = t.text(key)
    if value is not None and not is_secret_ref(value):
        # A secret in the desk file would be copied to the store and to `config show`.
        t.error(key, _("{key} must name an environment variable: env:NAME").format(key=key))
        return None
    return value


def _parse_recipient(t: Table, *, team: bool) -> Recipient | None:
    signed = ("dingtalk_secret", "feishu_secret")
    own = ("name",) if team else ("username", "quiet_hours")
    t.check_keys((*own, *CHANNELS, *signed))
    if team:
        name = t.text("name", required=True, max_len=80)
        username = None
    else:
        name = None
        username = t.text("username", required=True, pattern=_USERNAME, hint=_("a username"))
    addresses = {c: a for c in CHANNELS if (a := _address(t, c)) is not None}
    secrets = {k.removesuffix("_secret"): s for k in signed if (s := _secret(t, k)) is not None}
    quiet = None
    if not team and "quiet_hours" in t.raw:
        hours = t.raw["quiet_hours"]
        if (
            isinstance(hours, list)
            and len(hours) == 2
            and all(isinstance(h, str) and _HHMM.match(h) for h in hours)
            and hours[0] != hours[1]
        ):
            quiet = (hours[0], hours[1])
        else:
            t.error(
                "quiet_hours",
                _('quiet_hours must be two different times, e.g. ["22:00", "07:00"]'),
            )
    if (team and not name) or (not team and not username):
        return None
    return Recipient(username, name, addresses, secrets, quiet, path=t.path)


def parse_notifications(t: Table) -> NotificationSettings:
    t.check_keys(
        (
            "open_url",
            "ack_url",
            "max_attempts",
            "retry_seconds",
            "timeout_seconds",
            "smtp",
            "agents",
            "teams",
            "events",
        )
    )
    d = NotificationSettings()
    open_url = t.text("open_url", max_len=500)
    if open_url is not None and "{number}" not in open_url:
        t.error("open_url", _("open_url must hold {number}, where the ticket's number goes"))
        open_url = None
    ack_url = t.text("ack_url", max_len=500)
    if ack_url is not None and (
        "{token}" not in ack_url or not ack_url.startswith(("https://", "http://"))
    ):
        t.error(
            "ack_url",
            _("ack_url must be an http(s) URL holding {token}, where the page's token goes"),
        )
        ack_url = None
    smtp = None
    s = t.table("smtp", "notifications.smtp")
    if s is not None:
        s.check_keys(("host", "port", "security", "username", "password", "sender", "ca_file"))
        host = s.text("host", required=True, max_len=200)
        smtp = SmtpSettings(
            host=host or "localhost",
            port=s.integer("port", lo=1, hi=65535, default=587),
            security=_choice(s, "security", SECURITIES, "starttls"),
            username=s.text("username", max_len=200),
            password=_secret(s, "password"),
            sender=s.text("sender", max_len=200, default="itsm@localhost"),
            ca_file=s.text("ca_file", max_len=1000),
        )
    recipients: dict[str, list[Recipient]] = {"agents": [], "teams": []}
    for section, key in (("agents", "username"), ("teams", "name")):
        seen: dict[Any, int] = {}
        for i, raw in t.tables(section) or ():
            label = _("notifications.{section} '{name}'").format(
                section=section, name=raw.get(key, i + 1)
            )
            item_table = Table(t.chk, (*t.path, section, i), raw, label)
            item = _parse_recipient(item_table, team=section == "teams")
            if item is None:
                continue
            ident = item.username or item.team
            if not _duplicate(item_table, seen, ident, key, label):
                recipients[section].append(item)
    events: dict[str, Route] = {}
    e = t.table("events", "notifications.events")
    if e is not None:
        e.check_keys(EVENTS)
        for event in EVENTS:
            r = e.table(event, f"notifications.events.{event}")
            if r is None:
                continue
            r.check_keys(("to", "channels"))
            to = r.strings("to", choices=AUDIENCES)
            channels = r.strings("channels", choices=CHANNELS)
            if not to or not channels:
                r.error(None, _("an event's route needs both 'to' and 'channels'"))
                continue
            events[event] = Route(to, channels)
    if smtp is None and any("email" in r.channels for r in events.values()):
        t.error("events", _("an event goes out by email but [notifications.smtp] is missing"))
    return NotificationSettings(
        open_url=open_url,
        ack_url=ack_url,
        max_attempts=t.integer("max_attempts", lo=1, hi=50, default=d.max_attempts),
        retry_seconds=t.integer("retry_seconds", lo=1, hi=3600, default=d.retry_seconds),
        timeout_seconds=t.integer("timeout_seconds", lo=1, hi=120, default=d.timeout_seconds),
        smtp=smtp,
        agents=tuple(recipients["agents"]),
        teams=tuple(recipients["teams"]),
        events=events,
        path=t.path,
    )


def _choice(t: Table, key: str, choices: tuple[str, ...], default: str) -> str:
    value = t.text(key, default=default)
    if value not in choices:
        t.error(
            key, _("{key} must be one of: {choices}").format(key=key, choices=", ".join(choices))
        )
        return default
    return value


def _recipient_value(r: Recipient) -> dict[str, Any]:
    out: dict[str, Any] = {"username": r.username} if r.username else {"name": r.team}
    out.update(r.addresses)
    out.update({f"{k}_secret": v for k, v in r.secrets.items()})
    if r.quiet_hours:
        out["quiet_hours"] = list(r.quiet_hours)
    return out


def notifications_value(n: NotificationSettings) -> dict[str, Any]:
    """The section as the store keeps it and the desk file writes it (same keys)."""
    out: dict[str, Any] = {
        "max_attempts": n.max_attempts,
        "retry_seconds": n.retry_seconds,
        "timeout_seconds": n.timeout_seconds,
    }
    if n.open_url:
        out["open_url"] = n.open_url
    if n.ack_url:
        out["ack_url"] = n.ack_url
    if n.smtp is not None:
        smtp = {
            "host": n.smtp.host,
            "port": n.smtp.port,
            "security": n.smtp.security,
            "sender": n.smtp.sender,
        }
        smtp.update(
            {k: v for k in ("username", "password", "ca_file") if (v := getattr(n.smtp, k))}
        )
        out["smtp"] = smtp
    out["agents"] = [_recipient_value(r) for r in n.agents]
    out["teams"] = [_recipient_value(r) for r in n.teams]
    out["events"] = {
        e: {"to": list(r.to), "channels": list(r.channels)} for e, r in n.events.items()
    }
    return out


def _recipient_from_value(v: Mapping[str, Any]) -> Recipient:
    quiet = v.get("quiet_hours")
    return Recipient(
        username=v.get("username"),
        team=v.get("name"),
        addresses={c: v[c] for c in CHANNELS if c in v},
        secrets={k: v[f"{k}_secret"] for k in ("dingtalk", "feishu") if f"{k}_secret" in v},
        quiet_hours=(quiet[0], quiet[1]) if quiet else None,
    )


def notifications_from_value(v: Mapping[str, Any]) -> NotificationSettings:
    smtp = v.get("smtp")
    return NotificationSettings(
        open_url=v.get("open_url"),
        ack_url=v.get("ack_url"),
        max_attempts=int(v["max_attempts"]),
        retry_seconds=int(v["retry_seconds"]),
        timeout_seconds=int(v["timeout_seconds"]),
        smtp=SmtpSettings(**smtp) if smtp else None,
        agents=tuple(_recipient_from_value(r) for r in v.get("agents", ())),
        teams=tuple(_recipient_from_value(r) for r in v.get("teams", ())),
        events={
            e: Route(tuple(r["to"]), tuple(r["channels"])) for e, r in v.get("events", {}).items()
        },
    )
