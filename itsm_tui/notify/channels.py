"""The senders: one function per channel, each returning what the service answered.

Written on the standard library (smtplib, urllib) rather than through apprise, for three
reasons found when wiring apprise in: its Slack, DingTalk, WeCom and Feishu plugins build
the vendor's host name themselves (hooks.slack.com, oapi.dingtalk.com, qyapi.weixin.qq.com,
open.feishu.cn), so a desk behind a relay, on Lark's host, or a test server cannot be
reached; its DingTalk and WeCom plugins count any HTTP 200 as sent while both services
answer errors as 200 with a non-zero `errcode` (a wrong signature, a muted robot, a rate
limit); and `Apprise.notify()` returns one boolean, while the outbox records each attempt
with the answer it got (the SMTP reply, the service's error code and text).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from itsm_tui.config.notifications import ENV_PREFIX, SmtpSettings
from itsm_tui.i18n import _

# How much of a service's answer the attempt keeps.
ANSWER_CHARS = 500


@dataclass(frozen=True)
class Message:
    """What a notice says, the same on every channel."""

    subject: str
    body: str
    # For a generic webhook: the same facts as fields.
    fields: dict[str, object]


@dataclass(frozen=True)
class Answer:
    ok: bool
    text: str


class MissingSecret(Exception):
    """An env:NAME in the desk file names a variable this process does not have."""


def resolve(value: str) -> str:
    """A desk-file address or secret: literal, or read from the environment (env:NAME)."""
    if not value.startswith(ENV_PREFIX):
        return value
    name = value.removeprefix(ENV_PREFIX)
    found = os.environ.get(name)
    if not found:
        raise MissingSecret(_("environment variable {name} is not set").format(name=name))
    return found


@dataclass(frozen=True)
class Destination:
    channel: str
    address: str
    secret: str | None
    smtp: SmtpSettings | None
    timeout: float


def send(dest: Destination, message: Message, now: datetime) -> Answer:
    """Send one message; every failure comes back as an answer, never as an exception."""
    sender = SENDERS[dest.channel]
    try:
        answer = sender(dest, message, now)
    except MissingSecret as exc:
        return Answer(False, str(exc))
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        # Timeouts, refused connections, TLS failures, SMTP refusals and garbled answers.
        return Answer(False, f"{type(exc).__name__}: {exc}"[:ANSWER_CHARS])
    # One line: an HTML error page must not spread over the list, the log or the screen.
    return Answer(answer.ok, " ".join(answer.text.split())[:ANSWER_CHARS])


def _email(dest: Destination, message: Message, now: datetime) -> Answer:
    smtp = dest.smtp
    if smtp is None:
        return Answer(False, _("no [notifications.smtp] in the desk file"))
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = resolve(dest.address)
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(domain="itsm")
    mail.set_content(message.body)
    # Certificates and host names are always checked: against the desk file's CA file when
    # it names one (an organisation's own CA), else the system's.
    context = ssl.create_default_context(cafile=smtp.ca_file or None)
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=dest.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=dest.timeout)
    with client:
        client.ehlo()
        if smtp.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if smtp.username:
            client.login(smtp.username, resolve(smtp.password) if smtp.password else "")
        # mail/rcpt/data one by one: the answer to DATA is what the attempt records.
        code, reply = client.mail(smtp.sender)
        if code != 250:
            return Answer(False, f"MAIL {code} {reply.decode(errors='replace')}")
        code, reply = client.rcpt(mail["To"])
        if code not in (250, 251):
            return Answer(False, f"RCPT {code} {reply.decode(errors='replace')}")
        code, reply = client.data(mail.as_bytes())
        return Answer(code == 250, f"{code} {reply.decode(errors='replace')}"[:ANSWER_CHARS])


def _post(url: str, payload: dict[str, object], timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(64_000).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(64_000).decode(errors="replace")


def _errcode_answer(status: int, body: str, key: str = "errcode") -> Answer:
    """DingTalk and WeCom (and Feishu, as `code`) answer errors as HTTP 200 with a code."""
    text = f"{status} {body}"[:ANSWER_CHARS]
    if status != 200:
        return Answer(False, text)
    try:
        answer = json.loads(body)
    except json.JSONDecodeError:
        return Answer(False, text)
    if not isinstance(answer, dict):
        return Answer(False, text)
    code = answer.get(key, answer.get("StatusCode"))
    return Answer(code == 0, text)


def _slack(dest: Destination, message: Message, now: datetime) -> Answer:
    # Slack reads &, < and > as markup (links, mentions): user text is escaped.
    text = f"*{_slack_escape(message.subject)}*\n{_slack_escape(message.body)}"
    status, body = _post(resolve(dest.address), {"text": text}, dest.timeout)
    # An incoming webhook answers 200 "ok"; its errors are 4xx with a reason in the body.
    return Answer(status == 200 and body.strip() == "ok", f"{status} {body}"[:ANSWER_CHARS])


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The signed robot's `sign`: base64 HMAC-SHA256 of "timestamp\\nsecret" keyed by secret."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def _dingtalk(dest: Destination, message: Message, now: datetime) -> Answer:
    url = resolve(dest.address)
    if dest.secret:
        stamp = int(now.timestamp() * 1000)
        sign = dingtalk_sign(resolve(dest.secret), stamp)
        joiner = "&" if "?" in url else "?"
        url += f"{joiner}timestamp={stamp}&sign={urllib.parse.quote_plus(sign)}"
    payload = {"msgtype": "text", "text": {"content": f"{message.subject}\n{message.body}"}}
    return _errcode_answer(*_post(url, payload, dest.timeout))


def _wecom(dest: Destination, message: Message, now: datetime) -> Answer:
    payload = {"msgtype": "text", "text": {"content": f"{message.subject}\n{message.body}"}}
    return _errcode_answer(*_post(resolve(dest.address), payload, dest.timeout))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu/Lark's `sign`: base64 HMAC-SHA256 of nothing, keyed by "timestamp\\nsecret"."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _feishu(dest: Destination, message: Message, now: datetime) -> Answer:
    payload: dict[str, object] = {
        "msg_type": "text",
        "content": {"text": f"{message.subject}\n{message.body}"},
    }
    if dest.secret:
        stamp = int(now.timestamp())
        payload["timestamp"] = str(stamp)
        payload["sign"] = feishu_sign(resolve(dest.secret), stamp)
    return _errcode_answer(*_post(resolve(dest.address), payload, dest.timeout), key="code")


def _webhook(dest: Destination, message: Message, now: datetime) -> Answer:
    payload = {"subject": message.subject, "text": message.body, **message.fields}
    status, body = _post(resolve(dest.address), payload, dest.timeout)
    return Answer(200 <= status < 300, f"{status} {body}"[:ANSWER_CHARS])


SENDERS: dict[str, Callable[[Destination, Message, datetime], Answer]] = {
    "email": _email,
    "slack": _slack,
    "dingtalk": _dingtalk,
    "wecom": _wecom,
    "feishu": _feishu,
    "webhook": _webhook,
}
