"""A real mosquitto for tests (with a password file), and a paho client that
records what it hears. Used through the fixtures in tests/host/conftest.py."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

USER = "twcm"
PASSWORD = "s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """mosquitto on 127.0.0.1:<free port>, anonymous access refused; with `tls`
    (ca, cert, key: PEM files) it speaks TLS only, and `ca` is what clients check it with."""

    def __init__(self, workdir: Path, tls: tuple[Path, Path, Path] | None = None) -> None:
        if shutil.which("mosquitto") is None:
            raise RuntimeError("mosquitto is not installed: run tools/setup --test")
        self.dir = workdir
        self.port = free_port()
        self.host = "127.0.0.1"
        passwd = workdir / "passwd"
        subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), USER, PASSWORD],
                       check=True, capture_output=True)
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous false",
                 f"password_file {passwd}", "persistence false", "log_dest stdout"]
        self.ca = tls[0] if tls else None
        if tls:
            lines += [f"cafile {tls[0]}", f"certfile {tls[1]}", f"keyfile {tls[2]}"]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to user mosquitto and cannot read passwd
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        log = open(self.dir / "mosquitto.log", "ab")
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=log,
                                     stderr=subprocess.STDOUT)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"mosquitto did not start: {(self.dir / 'mosquitto.log').read_text()}")

    def kill(self) -> None:
        """Kill it hard, as a crash or a pulled cable would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


class Watcher:
    """A paho client that subscribes to topics and records every message."""

    def __init__(self, broker: Mosquitto, topics: list[str], client_id: str = "watcher") -> None:
        self.messages: list[tuple[float, str, bytes, bool]] = []
        self.lock = threading.Condition()
        self.topics = topics
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.c.username_pw_set(USER, PASSWORD)
        if getattr(broker, "ca", None) is not None:
            self.c.tls_set(ca_certs=str(broker.ca))
        self.c.on_message = self._on_message
        self.c.on_connect = self._on_connect
        self.c.connect(broker.host, broker.port, keepalive=10)
        self.c.loop_start()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        for t in self.topics:
            client.subscribe(t, qos=1)

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((time.monotonic(), msg.topic, msg.payload, msg.retain))
            self.lock.notify_all()

    def publish(self, topic: str, payload: str | bytes | dict | list, qos: int = 1) -> None:
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        self.c.publish(topic, payload, qos=qos).wait_for_publish(5)

    def wait_for(self, pred: Callable[[str, bytes], bool], timeout: float,
                 since: float = 0.0) -> tuple[float, str, bytes] | None:
        """The first message at or after `since` (monotonic) that pred accepts."""
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                for t, topic, payload, _ in self.messages:
                    if t >= since and pred(topic, payload):
                        return t, topic, payload
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.lock.wait(left)

    def json_of(self, topic_suffix: str, since: float = 0.0) -> list[dict]:
        with self.lock:
            return [json.loads(p) for t, topic, p, _ in self.messages
                    if t >= since and topic.endswith(topic_suffix)]

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()
