"""E-mail over TLS: a local aiosmtpd server with a throwaway certificate from a throwaway CA
(made here with `cryptography`), speaking STARTTLS on one port and implicit TLS on another,
each requiring authentication over TLS. The deliverer's sender checks the server's
certificate against the desk file's `ca_file`: without it (the system's CAs) the attempt
fails with the verification error and nothing is sent."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from itsm_tui.config.load import load_desk_text
from itsm_tui.config.notifications import (
    SmtpSettings,
    notifications_from_value,
    notifications_value,
)
from itsm_tui.notify.channels import Destination, Message, send
from tests.notify_servers import SMTP_PASSWORD, SMTP_USER, SmtpSink, _free_port

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
MESSAGE = Message(subject="[P1] INC0000042 PAGE: Core switch down", body="Open it.", fields={})


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A CA certificate (ca.pem) and the server's certificate and key it signed."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(_name("itsm test CA"), _name("itsm test CA"), ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(_name("127.0.0.1"), ca.subject, key, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(cert.public_bytes(pem))
    (folder / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


def _server_context(pki: tuple[Path, Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki[1], pki[2])
    return context


@pytest.fixture(params=["starttls", "tls"])
def tls_smtp(
    request: pytest.FixtureRequest, pki: tuple[Path, Path, Path]
) -> Iterator[tuple[str, SmtpSink, int]]:
    """(security, sink, port): STARTTLS required before AUTH, or TLS from the first byte."""
    sink = SmtpSink()
    port = _free_port()
    security = request.param
    tls = _server_context(pki)
    if security == "starttls":
        controller = Controller(
            sink,
            hostname="127.0.0.1",
            port=port,
            authenticator=sink.authenticate,
            tls_context=tls,
            require_starttls=True,
            auth_require_tls=True,
        )
    else:
        controller = Controller(
            sink,
            hostname="127.0.0.1",
            port=port,
            authenticator=sink.authenticate,
            ssl_context=tls,
            # aiosmtpd's auth_require_tls knows only STARTTLS: here the connection is TLS
            # from its first byte, so AUTH travels encrypted all the same.
            auth_require_tls=False,
        )
    controller.start()
    try:
        yield security, sink, port
    finally:
        controller.stop()


def _mail(
    security: str, port: int, ca_file: Path | None, monkeypatch: pytest.MonkeyPatch
) -> Destination:
    monkeypatch.setenv("ITSM_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    return Destination(
        channel="email",
        address="oncall@example.org",
        secret=None,
        smtp=SmtpSettings(
            host="127.0.0.1",
            port=port,
            security=security,
            username=SMTP_USER,
            password="env:ITSM_TEST_SMTP_PASSWORD",
            sender="desk@example.org",
            ca_file=str(ca_file) if ca_file else None,
        ),
        timeout=5,
    )


def test_mail_goes_over_tls_with_authentication_checked_against_the_desks_ca(
    tls_smtp: tuple[str, SmtpSink, int],
    pki: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    security, sink, port = tls_smtp
    answer = send(_mail(security, port, pki[0], monkeypatch), MESSAGE, NOW)
    assert answer.ok and answer.text.startswith("250 ")
    # The server took AUTH over TLS only and logged the desk in.
    assert sink.logins == [SMTP_USER]
    [(to, mail)] = sink.mails
    assert to == ["oncall@example.org"]
    assert mail["Subject"] == MESSAGE.subject


def test_a_certificate_the_deliverer_cannot_verify_sends_nothing(
    tls_smtp: tuple[str, SmtpSink, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    security, sink, port = tls_smtp
    # No ca_file: the system's CAs do not know the test CA.
    answer = send(_mail(security, port, None, monkeypatch), MESSAGE, NOW)
    assert not answer.ok
    assert "CERTIFICATE_VERIFY_FAILED" in answer.text
    assert sink.logins == [] and sink.mails == []


def test_a_ca_file_that_is_missing_fails_the_attempt_with_its_reason(
    tls_smtp: tuple[str, SmtpSink, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    security, sink, port = tls_smtp
    answer = send(_mail(security, port, tmp_path / "nope.pem", monkeypatch), MESSAGE, NOW)
    assert not answer.ok and answer.text.startswith("FileNotFoundError")
    assert sink.mails == []


def test_the_desk_files_ca_file_is_read_kept_and_written_back() -> None:
    text = """
[notifications.smtp]
host = "smtp.example.org"
port = 465
security = "tls"
sender = "desk@example.org"
ca_file = "/etc/itsm/company-ca.pem"
"""
    config = load_desk_text(text, "desk.toml")
    assert config.notifications is not None and config.notifications.smtp is not None
    assert config.notifications.smtp.ca_file == "/etc/itsm/company-ca.pem"
    kept = notifications_from_value(notifications_value(config.notifications))
    assert kept.smtp == config.notifications.smtp
