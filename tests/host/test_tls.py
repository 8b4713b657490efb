"""TLS end to end: mosquitto speaking TLS only, with certificates made here (tls_certs.py).
`twcm run` and `twcm master --broker mqtts://...` connect with the right CA, and refuse a
broker whose certificate a wrong CA, or the system's store, does not vouch for."""
from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
from pathlib import Path

import pytest

from firmware_rig import MICROPYTHON, ROOT
from mqtt_helpers import PASSWORD, USER, Mosquitto, Watcher
from test_devicelink_mqtt import Proc, device, until  # noqa: F401  (device: a fixture)
from tls_certs import Certs, make_certs
from twcm.mqtt import parse_broker
from twcm.service.config import ConfigError
from twcm.service.config_load import load


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return make_certs(tmp_path / "certs")


@pytest.fixture
def tls_broker(tmp_path: Path, certs: Certs):
    broker = Mosquitto(tmp_path, tls=(certs.ca, certs.cert, certs.key))
    yield broker
    broker.kill()


def site_config(tmp_path: Path, broker: Mosquitto, ca: Path) -> Path:
    path = tmp_path / "twcm.toml"
    path.write_text(f"""
[[site]]
name = "sun"
max_amps = 20
ttl_s = 10
interval_s = 0.5
source = {{ type = "static", generation_w = 20000, consumption_w = 500 }}
[site.policy.green]
start_delay_s = 0
[broker]
url = "mqtts://127.0.0.1:{broker.port}"
ca = "{ca}"
user = "{USER}"
password = "{PASSWORD}"
[database]
sqlite = "{tmp_path / 'twcm.db'}"
[api]
enabled = false
""")
    return path


def mode(w: Watcher) -> str | None:
    states = [json.loads(p) for _, t, p, _ in w.messages
              if t == "twcm/sun/state" and p.startswith(b"{")]
    return states[-1]["mode"] if states else None


def test_service_and_master_lease_over_tls_with_the_right_ca(tmp_path, tls_broker, certs,
                                                             device):
    service = Proc(["run", "--config", str(site_config(tmp_path, tls_broker, certs.ca))])
    watcher = Watcher(tls_broker, ["twcm/#"])  # itself over TLS, checking the CA
    try:
        device(f"mqtts://{USER}@127.0.0.1:{tls_broker.port}?ca={certs.ca}", "sun", PASSWORD)
        until(lambda: mode(watcher) == "lease", 20, "the device on the service's lease")
        leases = [json.loads(p) for _, t, p, _ in watcher.messages if t == "twcm/sun/limit/set"]
        assert leases and {x["amps"] for x in leases} == {20}
        assert not any("retrying" in line for line in service.lines)
    finally:
        watcher.close()
        service.p.send_signal(signal.SIGTERM)
        service.stop()


def test_a_wrong_ca_or_the_system_store_is_refused(tmp_path, tls_broker, certs, device):
    watcher = Watcher(tls_broker, ["twcm/#"])
    service = Proc(["run", "--config", str(site_config(tmp_path, tls_broker, certs.wrong_ca))])
    try:
        wrong = device(f"mqtts://{USER}@127.0.0.1:{tls_broker.port}?ca={certs.wrong_ca}",
                       "sun", PASSWORD)
        system = device(f"mqtts://{USER}@127.0.0.1:{tls_broker.port}", "sun", PASSWORD)
        for proc in (wrong, system):
            line = until(lambda: next((s for s in proc.lines if "cannot reach broker" in s),
                                      None), 15, "the master refusing the broker")
            assert "certificate" in line
        until(lambda: any("certificate verify failed" in s for s in service.lines), 15,
              "the service refusing the broker")
        # Neither side ever got through: nothing of the site's reached the broker.
        assert not [t for _, t, _, _ in watcher.messages if t.startswith("twcm/sun/")]
    finally:
        watcher.close()
        service.stop()


def test_a_ca_is_checked_where_it_is_given(tmp_path, certs):
    with pytest.raises(ValueError, match="ca= is for TLS"):
        parse_broker(f"mqtt://h?ca={certs.ca}", None)
    with pytest.raises(ValueError, match="does not exist"):
        parse_broker(f"mqtts://h?ca={tmp_path / 'nope.pem'}", None)
    with pytest.raises(ValueError, match="only query"):
        parse_broker("mqtts://h?cert=x", None)
    assert parse_broker(f"mqtts://h?ca={certs.ca}", None).ca == str(certs.ca)
    broker = Mosquitto.__new__(Mosquitto)  # only its host and port are read below
    broker.port, broker.host = 8883, "127.0.0.1"
    path = site_config(tmp_path, broker, tmp_path / "missing.pem")
    with pytest.raises(ConfigError, match=r"broker\.ca.*no such file"):
        load(path)
    path.write_text(path.read_text().replace("mqtts://", "mqtt://").replace(
        str(tmp_path / "missing.pem"), str(certs.ca)))
    with pytest.raises(ConfigError, match=r"broker\.ca.*mqtts://"):
        load(path)
    path.write_text(path.read_text().replace("mqtt://", "mqtts://"))
    url = load(path).broker.full_url()
    assert parse_broker(url, None).ca == str(certs.ca)


HANDSHAKE = """
import socket, sys
from device.link import _tls_context
ca, host, name, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket()
s.connect(socket.getaddrinfo(host, port)[0][-1])
try:
    # what umqtt.simple (1.4 and later) does with the context the firmware gives it
    s = _tls_context(ca).wrap_socket(s, server_hostname=name)
    print("accepted")
except Exception as e:
    print("refused", repr(e))
s.close()
"""


def handshake(tmp_path: Path, broker: Mosquitto, ca: Path, name: str) -> str:
    script = tmp_path / "handshake.py"
    script.write_text(HANDSHAKE)
    out = subprocess.run([str(MICROPYTHON), str(script), str(ca), "127.0.0.1", name,
                          str(broker.port)], env={**os.environ, "MICROPYPATH": f".frozen:"
                          f"{ROOT / 'firmware'}"}, capture_output=True, text=True, timeout=30)
    return out.stdout + out.stderr


def test_the_firmware_tls_context_checks_the_ca_and_the_host_name(tmp_path, tls_broker,
                                                                  certs):
    """The ESP32's TLS set-up (device/link.py _tls_context: a DER CA, CERT_REQUIRED) on
    the unix port's mbedtls, in the handshake umqtt.simple makes with it."""
    wrong = tmp_path / "wrong.der"
    wrong.write_bytes(ssl.PEM_cert_to_DER_cert(certs.wrong_ca.read_text()))
    for name in ("localhost", "127.0.0.1"):
        assert handshake(tmp_path, tls_broker, certs.ca_der, name).startswith("accepted")
        assert handshake(tmp_path, tls_broker, wrong, name).startswith("refused")
    assert handshake(tmp_path, tls_broker, certs.ca_der, "broker.example").startswith("refused")
