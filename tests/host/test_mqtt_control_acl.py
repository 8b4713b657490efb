"""The mosquitto ACL of docs/mqtt.md, run as it is written: home automation may steer
twcm over the host's /set topics, everyone else may only read, and nobody but twcm run
may send the device its commands."""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from paho.mqtt import publish

from mqtt_helpers import Mosquitto, Watcher
from test_devicelink_mqtt import until
from test_mqtt_control import HOST, Service, retained

DOCS = Path(__file__).parents[2] / "docs" / "mqtt.md"
USERS = {"homeassistant": "ha-pass", "viewer": "view-pass", "twcm-home": "dev-pass"}


def acl_broker(workdir: Path) -> Mosquitto:
    """mosquitto with docs/mqtt.md's acl_file and the users it names (and `viewer`)."""
    acl = re.search(r"```text\n(# twcm\.acl.*?)```", DOCS.read_text(), re.S)
    assert acl, "no twcm.acl example in docs/mqtt.md"
    (workdir / "twcm.acl").write_text(acl.group(1))
    broker = Mosquitto(workdir)
    broker.kill()
    for user, password in USERS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(workdir / "passwd"), user, password],
                       check=True, capture_output=True)
    with broker.conf.open("a") as conf:
        conf.write(f"acl_file {workdir / 'twcm.acl'}\n")
    broker.start()
    return broker


def send(broker: Mosquitto, user: str, topic: str, payload: str) -> None:
    publish.single(topic, payload, qos=1, hostname=broker.host, port=broker.port,
                   auth={"username": user, "password": USERS[user]})


def test_only_trusted_users_may_steer_and_everyone_may_read(tmp_path):
    broker = acl_broker(tmp_path)
    service = Service(tmp_path, broker)  # twcm run as user twcm
    leases = Watcher(broker, ["twcm/home/limit/set"], "leases")
    try:
        # Read by anyone (once twcm has published it: until then it may arrive live).
        until(lambda: retained(broker, HOST + "non_scheduled_amps", "viewer", "view-pass")
              == (b"12", True), 10, "the retained value, read by the viewer")
        since = time.monotonic()
        send(broker, "viewer", HOST + "non_scheduled_amps/set", "20")
        send(broker, "twcm-home", HOST + "non_scheduled_amps/set", "21")
        send(broker, "homeassistant", "twcm/home/limit/set", '{"amps": 32, "ttl_s": 3600}')
        send(broker, "homeassistant", HOST + "green/flex_w/set", "250")
        assert service.value("green/flex_w", since) == b"250.0"
        send(broker, "homeassistant", HOST + "non_scheduled_amps/set", "18")
        assert service.value("non_scheduled_amps", since) == b"18"  # the first change
        seen = [(t, p) for _, t, p, _ in service.watcher.messages]
        assert (HOST + "non_scheduled_amps/set", b"20") not in seen
        assert not service.watcher.json_of(HOST + "event", since)  # dropped, not rejected
        assert all(b"3600" not in p for _, _, p, _ in leases.messages)
        assert service.proc.p.poll() is None
    finally:
        leases.close()
        service.close()
