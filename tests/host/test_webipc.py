"""The WebIPC bridge on a real System V message queue: a client here speaks TWCManager's
framing as its PHP page does (ftok(path, 'T') computed by hand as glibc does, requests of
type 2 with a "=LH" time stamp and id, replies of type 1 matched by id, dumpState's packets)
to the bridge running in an event loop, and what it asks changes the site."""
from __future__ import annotations

import asyncio
import os
import random
import signal
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sysv_ipc

from test_devicelink_mqtt import Proc, device, until  # noqa: F401  (device: a fixture)
from mqtt_helpers import free_port
from twcm.service.config import Config, ConfigError
from twcm.service.config_load import load
from twcm.service.control import Control
from twcm.service.control.webipc import WebIpc
from twcm.service.control.webipc_commands import status_text
from twcm.service.site import SiteLoop
from twcm.service.store import Store

CONFIG = {"site": [{"name": "home", "max_amps": 24,
                    "source": {"type": "static", "generation_w": 0, "consumption_w": 500}}]}


def ftok_by_hand(path: Path) -> int:
    """glibc's ftok (what PHP's ftok($dir, "T") gives): proj id, device and inode bits."""
    st = os.stat(path)
    return ord("T") << 24 | (st.st_dev & 0xFF) << 16 | st.st_ino & 0xFFFF


class LegacyClient:
    """What the legacy PHP page does with the queue (html/index.php's ipcCommand/ipcQuery)."""

    def __init__(self, path: Path) -> None:
        self.q = sysv_ipc.MessageQueue(ftok_by_hand(path), max_message_size=8192)

    def send(self, text: str | bytes, ident: int = 0, stamp: int | None = None) -> None:
        body = text.encode() if isinstance(text, str) else text
        self.q.send(struct.pack("=LH", int(time.time()) if stamp is None else stamp, ident)
                    + body, True, 2)

    def query(self, text: str, packets: bool = False, timeout: float = 5) -> str:
        """Send with a random id, read replies of type 1 until one has that id (others go
        back on the queue, as the page does); dumpState's count byte, then its packets."""
        ident = random.randint(1, 65535)
        self.send(text, ident)
        count, got = None, b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                body, _ = self.q.receive(False, 1)
            except sysv_ipc.BusyError:
                time.sleep(0.02)
                continue
            stamp, rid = struct.unpack("=LH", body[:6])
            assert len(body) <= 300, "the page receives at most 300 bytes"
            if rid != ident:
                self.q.send(body, True, 1)
                continue
            if not packets:
                return body[6:].decode()
            if count is None:
                count = body[6]
                continue
            got += body[6:]
            count -= 1
            if count == 0:
                return got.decode()
        raise AssertionError(f"no reply to {text!r} within {timeout} s")


class Running:
    """The bridge for the site `make()` gives, served in an event loop of its own thread
    (where the site and its database are made: sqlite keeps to its thread)."""

    def __init__(self, make: Callable[[], SiteLoop], path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.task: asyncio.Task | None = None
        ready = threading.Event()

        def serve() -> None:
            async def main() -> None:
                self.site = make()
                self.bridge = WebIpc(self.site, str(path))
                self.bridge.open()
                self.task = asyncio.create_task(self.bridge.run())
                ready.set()
                await asyncio.gather(self.task, return_exceptions=True)
                if self.site.store is not None:
                    self.site.store.close()
            self.loop.run_until_complete(main())

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        assert ready.wait(5)
        self.client = LegacyClient(path)

    def call(self, fn: Callable[[], Any]) -> Any:
        """fn() in the bridge's loop, as any other control surface would call the site."""
        async def go() -> Any:
            return fn()
        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(5)

    def stop(self) -> None:
        assert self.task is not None
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(5)


def make_site(store: Store | None = None) -> SiteLoop:
    site = SiteLoop(Config.model_validate(CONFIG).site[0], store)
    site.turn()
    return site


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    r = Running(lambda: make_site(Store(tmp_path / "twcm.db")), tmp_path)
    yield r
    r.stop()


def queue_exists(path: Path) -> bool:
    try:
        sysv_ipc.MessageQueue(ftok_by_hand(path))
    except sysv_ipc.ExistentialError:
        return False
    return True


def test_get_status_round_trip_in_the_originals_format(running):
    fields = running.client.query("getStatus").split("`")
    # lease, wiring max, min amps, Charge Now amps, non-scheduled (-1: track green),
    # scheduled amps (-1: none), start, end, days, resume green, car API login, TWCs
    assert fields == ["0.00", "24.00", "6.00", "0.00", "-1", "-1", "-1:00", "-1:00", "0",
                      "-1:00", "0", "0"]


def test_the_queue_is_ours_mode_0600_and_removed_on_stop(tmp_path, running):
    q = sysv_ipc.MessageQueue(ftok_by_hand(tmp_path))
    assert q.mode & 0o777 == 0o600 and q.uid == os.geteuid()
    assert running.bridge.key == ftok_by_hand(tmp_path)
    running.stop()
    assert not queue_exists(tmp_path)


def test_charge_now_from_a_page_changes_the_decision(running):
    running.client.send("chargeNow")  # the page's ipcCommand: id 0, no reply read
    status = until(lambda: (s := running.site.status())["charge_now"] and s, 5, "Charge Now")
    assert status["charge_now"]["amps"] == 24
    assert status["decision"]["set_by"] == "manual" and status["lease_amps"] == 24
    assert running.client.query("getStatus").split("`")[3] == "24.00"
    reply = running.client.query("chargeNowCancel")  # a query's id: answered
    assert reply.startswith("OK: 0 A: ")
    assert running.site.status()["charge_now"] is None


def test_set_non_scheduled_amps_persists_and_means_what_the_original_meant(tmp_path, running):
    assert running.client.query("setNonScheduledAmps=10").startswith("OK: 10 A: ")
    settings = running.site.status()["settings"]
    assert settings["non_scheduled"] == {"value": "fixed", "from": "runtime"}
    assert settings["non_scheduled_amps"] == {"value": 10, "from": "runtime"}
    assert running.client.query("getStatus").split("`")[4] == "10"
    store = Store(tmp_path / "twcm.db")
    again = SiteLoop(running.site.config, store)  # twcm restarted
    assert again.status()["settings"]["non_scheduled_amps"]["value"] == 10
    store.close()
    assert running.client.query("setNonScheduledAmps=0").startswith("OK: 0 A: ")
    assert running.site.status()["settings"]["non_scheduled"]["value"] == "do_not_charge"
    running.client.query("setNonScheduledAmps=-1")
    assert running.site.status()["settings"]["non_scheduled"]["value"] == "track_green"
    assert running.client.query("setNonScheduledAmps=-1") == "OK: unchanged"
    reply = running.client.query("setNonScheduledAmps=99")
    assert reply.startswith('ERROR: site "home": policy.non_scheduled_amps: 99')
    assert running.site.status()["settings"]["non_scheduled"]["value"] == "track_green"


def test_scheduled_amps_become_a_weekly_window_and_an_unchanged_save_keeps_them(running):
    reply = running.client.query("setScheduledAmps=16\nstartTime=22:00\nendTime=06:00\n"
                                 "days=31")
    assert reply.startswith("OK: ")
    windows = running.site.status()["settings"]["windows"]["value"]
    assert windows == [{"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "start": "22:00",
                        "end": "06:00", "amps": 16}]
    assert running.client.query("getStatus").split("`")[5:9] == ["16", "22:00", "06:00", "31"]
    # Two windows of one time and amps show as one schedule; saving it unchanged keeps both.
    running.call(lambda: running.site.change_settings({"windows": [
        {"days": ["Sat"], "start": "22:00", "end": "06:00", "amps": 16},
        {"days": ["Sun"], "start": "22:00", "end": "06:00", "amps": 16}]}))
    assert running.client.query("getStatus").split("`")[5:9] == ["16", "22:00", "06:00", "96"]
    assert running.client.query("setScheduledAmps=16\nstartTime=22:00\nendTime=06:00\n"
                                "days=96") == "OK: unchanged"
    assert len(running.site.status()["settings"]["windows"]["value"]) == 2
    assert running.client.query("setScheduledAmps=8\nstartTime=22:00\nendTime=06:00\n"
                                "days=0").startswith("ERROR: setScheduledAmps: days=0")
    running.client.query("setScheduledAmps=-1\nstartTime=00:00\nendTime=00:00\ndays=0")
    assert running.site.status()["settings"]["windows"]["value"] == []


def test_unknown_and_unmapped_commands_get_an_error_reply_and_a_log_line(running, caplog):
    reply = running.client.query("fooBar=1")
    assert reply.startswith("ERROR: unknown command 'fooBar': give one of getStatus")
    reply = running.client.query("sendTWCMsg=FB1B")
    assert reply.startswith("ERROR: sendTWCMsg: not done: twcm never puts a message")
    assert running.client.query("getLastTWCMsgResponse").startswith("ERROR: ")
    assert running.client.query("setResumeTrackGreenEnergyTime=-1:00") == "OK: unchanged"
    assert "no time at which" in running.client.query("setResumeTrackGreenEnergyTime=07:00")
    running.client.query("carApiEmailPassword=me@example.com\nsecret")
    assert any("refused: unknown command 'fooBar'" in r.getMessage() for r in caplog.records)
    assert not any("secret" in r.getMessage() for r in caplog.records)


def test_bad_messages_are_ignored_and_the_bridge_goes_on(running):
    running.client.q.send(b"\x01\x02", True, 2)  # no header
    running.client.send(b"\xff\xfe" * 3000, 7)  # long, not UTF-8: an unknown command
    running.client.send("chargeNow" + "\x00" * 4, 0)  # NUL padding, as C clients send
    assert running.client.query("getStatus").split("`")[1] == "24.00"
    assert running.site.status()["charge_now"]["amps"] == 24


def test_dump_state_comes_in_the_originals_packets(running):
    dump = running.client.query("dumpState", packets=True)
    assert len(dump) > 290  # more than one packet
    assert dump.startswith('site="home"\n') and "\nsettings={" in dump


def test_webipc_is_off_by_default_and_makes_no_queue(tmp_path):
    config = Config.model_validate(CONFIG)
    assert config.webipc.enabled is False
    assert WebIpc.start(config.webipc, Control([make_site()])) is None
    on = Config.model_validate({**CONFIG, "webipc": {"enabled": True, "path": str(tmp_path)}})
    bridge = WebIpc.start(on.webipc, Control([make_site()]))
    assert bridge is not None and queue_exists(tmp_path)
    bridge.close()
    assert not queue_exists(tmp_path)


def test_a_queue_left_by_this_user_is_replaced_and_its_messages_dropped(tmp_path):
    left = sysv_ipc.MessageQueue(ftok_by_hand(tmp_path), sysv_ipc.IPC_CREX, 0o666)
    left.send(struct.pack("=LH", 0, 0) + b"chargeNow", True, 2)
    r = Running(make_site, tmp_path)
    try:
        assert r.client.q.mode & 0o777 == 0o600
        assert r.client.query("getStatus").split("`")[3] == "0.00"
    finally:
        r.stop()


def test_the_config_check_names_the_key_and_the_fix(tmp_path):
    site = ('[[site]]\nname = "{}"\nmax_amps = 16\n[site.source]\ntype = "static"\n'
            'generation_w = 0\n')
    path = tmp_path / "twcm.toml"
    path.write_text(site.format("a") + site.format("b")
                    + '[webipc]\nenabled = true\npath = "/no/such/dir"\n')
    with pytest.raises(ConfigError) as e:
        load(path)
    assert any('webipc.path: "/no/such/dir" is not allowed: does not exist' in x
               and "fix: create it" in x for x in e.value.lines)
    assert any("webipc.site: missing: WebIPC serves one site (fix: set it to one of a, b)"
               in x for x in e.value.lines)
    path.write_text(site.format("a") + f'[webipc]\nenabled = true\npath = "{tmp_path}"\n'
                    'site = "c"\n')
    with pytest.raises(ConfigError, match='webipc.site: "c" is not allowed: no such site'):
        load(path)


def test_status_text_lists_each_wall_connector_as_the_original_does():
    status = make_site().status()
    status["device"]["state"] = {"limit_amps": 20, "wiring_max_amps_per_twc": 32, "slaves": [
        {"id": "1a2b", "max_amps": 32.0, "actual_amps": 15.87, "offered_amps": 16,
         "state": "charging"},
        {"id": "3c4d", "max_amps": None, "actual_amps": 0.0, "offered_amps": 0,
         "state": "0x0d"}]}
    fields = status_text(status, 24).split("`")
    assert fields[0] == "20.00"  # no lease: the device's own limit
    assert fields[11:] == ["2", "1A2B~32~15.87~16~1", "3C4D~32~0.00~0~13"]


def test_twcm_run_serves_webipc_with_the_devices_wall_connectors(tmp_path, device):
    port = free_port()
    path = tmp_path / "twcm.toml"
    path.write_text(f"""
[[site]]
name = "home"
max_amps = 24
ttl_s = 10
interval_s = 0.5
[site.source]
type = "static"
generation_w = 0
consumption_w = 500
[embedded_broker]
port = {port}
[database]
sqlite = "{tmp_path / 'twcm.db'}"
[api]
enabled = false
[webipc]
enabled = true
path = "{tmp_path}"
""")
    service = Proc(["run", "--config", str(path)])
    try:
        until(lambda: any("serving sites" in x for x in service.lines), 15, "service")
        device(f"mqtt://127.0.0.1:{port}", "home")
        client = LegacyClient(tmp_path)
        fields = until(lambda: (f := client.query("getStatus").split("`"))[11] == "2" and f,
                       30, "two Wall Connectors in getStatus")
        assert all(len(t.split("~")) == 5 for t in fields[12:])
        client.send("chargeNow")
        until(lambda: client.query("getStatus").split("`")[3] == "24.00", 5, "Charge Now")
        service.p.send_signal(signal.SIGTERM)
        assert service.p.wait(10) == 0
        assert not queue_exists(tmp_path)
        assert any("WebIPC: message queue" in x and "removed" in x for x in service.lines)
    finally:
        service.stop()
