"""Certificates made by the tests with Debian's openssl: a CA, a broker certificate it
signs (for 127.0.0.1 and localhost), and a second CA that signed nothing of ours."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class Certs:
    ca: Path  # PEM, signed the broker's certificate
    ca_der: Path  # the same CA in DER, as the ESP32 firmware takes it
    cert: Path
    key: Path
    wrong_ca: Path  # PEM, a CA that signed nothing here


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(d: Path, name: str) -> Path:
    _openssl("req", "-x509", *EC, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days",
             "2", "-subj", f"/CN=twcm test {name}", cwd=d)
    return d / f"{name}.pem"


def make_certs(d: Path) -> Certs:
    d.mkdir(parents=True, exist_ok=True)
    ca = _ca(d, "ca")
    wrong = _ca(d, "wrong-ca")
    _openssl("req", *EC, "-keyout", "broker.key", "-out", "broker.csr", "-subj",
             "/CN=localhost", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "broker.pem", "-days", "2", "-extfile", "san.ext",
             cwd=d)
    _openssl("x509", "-in", "ca.pem", "-outform", "der", "-out", "ca.der", cwd=d)
    (d / "broker.key").chmod(0o644)  # mosquitto may run as another user
    return Certs(ca, d / "ca.der", d / "broker.pem", d / "broker.key", wrong)
