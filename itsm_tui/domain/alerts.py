"""Alerts from monitoring as the desk takes them in: Alertmanager's webhook (version 4) and
the desk's own generic JSON shape, checked and put in one shape. Pure: no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FIRING = "firing"
RESOLVED = "resolved"
ALERT_STATUSES = (FIRING, RESOLVED)
ALERTMANAGER = "alertmanager"
GENERIC = "generic"

# What one request may carry: Alertmanager sends a group per request (its max_alerts,
# 0 by default, means all of them); beyond this a sender should split.
MAX_ALERTS = 5_000
MAX_FINGERPRINT = 200
MAX_NAME = 200
MAX_LABELS = 100
MAX_LABEL_TEXT = 2_000
MAX_ANNOTATION_TEXT = 20_000
MAX_TITLE = 500

# Go's zero time: Alertmanager's "no end" on a firing alert.
_ZERO_TIME = "0001-01-01T00:00:00Z"
_FRACTION = re.compile(r"\.(\d+)")


class PayloadError(ValueError):
    """A payload the desk cannot take, with one line that says what is wrong and where."""


@dataclass(frozen=True)
class IncomingAlert:
    fingerprint: str
    status: str
    name: str
    starts_at: datetime
    ends_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""
    description: str = ""
    link: str = ""

    @property
    def title(self) -> str:
        """The incident's title: the summary, else the alert's name and where it fires."""
        where = self.labels.get("instance") or self.labels.get("job") or ""
        text = self.summary or (f"{self.name} on {where}" if where else self.name)
        return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"

    def as_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "status": self.status,
            "name": self.name,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "labels": dict(self.labels),
            "summary": self.summary,
            "description": self.description,
            "link": self.link,
        }

    @classmethod
    def from_json(cls, v: Mapping[str, Any]) -> IncomingAlert:
        return cls(
            fingerprint=v["fingerprint"],
            status=v["status"],
            name=v["name"],
            starts_at=datetime.fromisoformat(v["starts_at"]),
            ends_at=datetime.fromisoformat(v["ends_at"]) if v["ends_at"] else None,
            labels=dict(v["labels"]),
            summary=v["summary"],
            description=v["description"],
            link=v["link"],
        )


@dataclass(frozen=True)
class AlertBatch:
    """One request's alerts, with the sender's group key (None: no group)."""

    source: str
    group_key: str | None
    alerts: tuple[IncomingAlert, ...]

    def to_text(self) -> str:
        return json.dumps(
            {"group_key": self.group_key, "alerts": [a.as_json() for a in self.alerts]},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_text(cls, source: str, text: str) -> AlertBatch:
        v = json.loads(text)
        return cls(source, v["group_key"], tuple(IncomingAlert.from_json(a) for a in v["alerts"]))


# ---------------------------------------------------------------------------
# Reading


def read_alertmanager(body: bytes, received_at: datetime) -> AlertBatch:
    """Alertmanager's webhook payload (version 4), or PayloadError."""
    doc = _document(body)
    version = doc.get("version")
    if version != "4":
        raise PayloadError(
            f'version {version!r} is not Alertmanager\'s webhook version "4"'
            if "version" in doc
            else 'no "version": an Alertmanager webhook payload has "version": "4"'
        )
    group_key = _optional_text(doc, "groupKey", "payload", MAX_ANNOTATION_TEXT)
    alerts = []
    for i, raw in enumerate(_alert_list(doc)):
        where = f"alerts[{i}]"
        if not isinstance(raw, dict):
            raise PayloadError(f"{where} must be an object")
        status = _status(raw, where)
        labels = _labels(raw.get("labels"), f"{where}.labels", required=True)
        annotations = _labels(raw.get("annotations", {}), f"{where}.annotations")
        starts_at = _instant(raw, "startsAt", where, required=True)
        assert starts_at is not None
        ends_at = _instant(raw, "endsAt", where) if status == RESOLVED else None
        if status == RESOLVED and ends_at is None:
            ends_at = received_at
        fingerprint = _required_text(raw, "fingerprint", where, MAX_FINGERPRINT)
        alerts.append(
            IncomingAlert(
                fingerprint=fingerprint,
                status=status,
                name=_clean(labels.get("alertname", "") or fingerprint)[:MAX_NAME],
                starts_at=starts_at,
                ends_at=ends_at,
                labels=labels,
                summary=annotations.get("summary", "") or annotations.get("title", ""),
                description=annotations.get("description", "") or annotations.get("message", ""),
                link=_optional_text(raw, "generatorURL", where, MAX_LABEL_TEXT) or "",
            )
        )
    return AlertBatch(ALERTMANAGER, group_key or None, tuple(alerts))


def read_generic(body: bytes, received_at: datetime) -> AlertBatch:
    """The desk's generic shape (docs/intake.md):

    {"group": "…" (optional), "alerts": [{"key": "…", "status": "firing" | "resolved",
      "name": "…", "summary": "…", "description": "…", "labels": {"…": "…"},
      "starts_at": ISO 8601 (optional), "ends_at": ISO 8601 (optional), "link": "…"}]}
    """
    doc = _document(body)
    group = _optional_text(doc, "group", "payload", MAX_ANNOTATION_TEXT)
    alerts = []
    for i, raw in enumerate(_alert_list(doc)):
        where = f"alerts[{i}]"
        if not isinstance(raw, dict):
            raise PayloadError(f"{where} must be an object")
        unknown = sorted(set(raw) - _GENERIC_KEYS)
        if unknown:
            raise PayloadError(
                f"{where} has no field {', '.join(map(repr, unknown))}; "
                f"fields: {', '.join(sorted(_GENERIC_KEYS))}"
            )
        status = _status(raw, where)
        key = _required_text(raw, "key", where, MAX_FINGERPRINT)
        name = _optional_text(raw, "name", where, MAX_NAME) or key
        starts_at = _instant(raw, "starts_at", where) or received_at
        ends_at = _instant(raw, "ends_at", where) if status == RESOLVED else None
        if status == RESOLVED and ends_at is None:
            ends_at = received_at
        alerts.append(
            IncomingAlert(
                fingerprint=key,
                status=status,
                name=name,
                starts_at=starts_at,
                ends_at=ends_at,
                labels=_labels(raw.get("labels", {}), f"{where}.labels"),
                summary=_optional_text(raw, "summary", where, MAX_TITLE) or "",
                description=_optional_text(raw, "description", where, MAX_ANNOTATION_TEXT) or "",
                link=_optional_text(raw, "link", where, MAX_LABEL_TEXT) or "",
            )
        )
    return AlertBatch(GENERIC, group or None, tuple(alerts))


_GENERIC_KEYS = frozenset(
    {"key", "status", "name", "summary", "description", "labels", "starts_at", "ends_at", "link"}
)


def _document(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(doc, dict):
        raise PayloadError("the body must be a JSON object")
    return doc


def _alert_list(doc: Mapping[str, Any]) -> list[Any]:
    alerts = doc.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError('"alerts" must be an array of alerts')
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(
            f"{len(alerts):,} alerts in one request; the limit is {MAX_ALERTS:,} (split them)"
        )
    return alerts


def _status(raw: Mapping[str, Any], where: str) -> str:
    status = raw.get("status")
    if status not in ALERT_STATUSES:
        raise PayloadError(f'{where}.status must be "firing" or "resolved", not {status!r}')
    return str(status)


def _clean(text: str) -> str:
    """Text the store can hold on both databases: a NUL or a lone surrogate becomes U+FFFD
    (the alert is kept; other control characters are data, made safe where shown)."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def _required_text(raw: Mapping[str, Any], key: str, where: str, limit: int) -> str:
    value = _optional_text(raw, key, where, limit)
    if not value or not value.strip():
        raise PayloadError(f"{where}.{key} is missing or empty")
    return value


def _optional_text(raw: Mapping[str, Any], key: str, where: str, limit: int) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    name = key if where == "payload" else f"{where}.{key}"
    if not isinstance(value, str):
        raise PayloadError(f"{name} must be text, not {type(value).__name__}")
    if len(value) > limit:
        raise PayloadError(f"{name} is {len(value):,} characters long; the limit is {limit:,}")
    return _clean(value)


def _labels(value: Any, where: str, *, required: bool = False) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object of text values")
    if len(value) > MAX_LABELS:
        raise PayloadError(f"{where} has {len(value)} entries; the limit is {MAX_LABELS}")
    out: dict[str, str] = {}
    for key, text in value.items():
        if not isinstance(text, str):
            raise PayloadError(f"{where}.{key} must be text, not {type(text).__name__}")
        limit = MAX_LABEL_TEXT if where.endswith("labels") else MAX_ANNOTATION_TEXT
        if len(key) > MAX_NAME or len(text) > limit:
            raise PayloadError(f"{where}.{key[:40]} is longer than {limit:,} characters")
        out[_clean(key)] = _clean(text)
    return out


def _instant(
    raw: Mapping[str, Any], key: str, where: str, *, required: bool = False
) -> datetime | None:
    value = raw.get(key)
    if value is None or value == "" or value == _ZERO_TIME:
        if required:
            raise PayloadError(f"{where}.{key} is missing")
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}.{key} must be an RFC 3339 time, not {type(value).__name__}")
    return parse_instant(value, f"{where}.{key}")


def parse_instant(value: str, what: str) -> datetime:
    """An RFC 3339 instant with its offset; Go's nanoseconds are cut to microseconds."""
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.strip(), count=1)
    try:
        at = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise PayloadError(f"{what} {value[:60]!r} is not an RFC 3339 time") from None
    if at.tzinfo is None:
        raise PayloadError(f"{what} {value[:60]!r} has no UTC offset (add Z or +08:00)")
    if at.year < 1970:
        raise PayloadError(f"{what} {value[:60]!r} is before 1970")
    return at.astimezone(UTC)
