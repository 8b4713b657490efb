"""Per-TWC caps and start/stop end to end: SiteLink and DeviceLink on a real mosquitto, a
real `twcm master --broker --twc-start-stop` as the device, `twcm sim --pty --slaves 2` as
its Wall Connectors."""
from __future__ import annotations

import re
import time

from mqtt_helpers import PASSWORD, USER, Watcher
from test_devicelink_mqtt import LinkThread, Proc, charging, until
from twcm.service.devicelink import DeviceLink, SiteLink


def test_a_cap_and_a_stop_reach_the_wall_connector(mosquitto, tmp_path, monkeypatch):
    monkeypatch.setenv("TWCM_MQTT_PASSWORD", PASSWORD)
    url = f"mqtt://{USER}@127.0.0.1:{mosquitto.port}"
    procs = [Proc(["sim", "--pty", "--slaves", "2"])]
    watcher = Watcher(mosquitto, ["twcm/a/#"])
    lt = None
    try:
        line = until(lambda: next((s for s in procs[0].lines if "--port " in s), None), 10,
                     "pty")
        pty = re.search(r"--port (\S+)", line).group(1)  # type: ignore[union-attr]
        procs.append(Proc(["master", "--port", pty, "--wiring-max-amps-all", "40",
                           "--wiring-max-amps-per-twc", "32", "--fallback-amps", "6",
                           "--broker", url, "--site", "a", "--twc-start-stop",
                           "--state-dir", str(tmp_path / "a")], PASSWORD))
        site = SiteLink("a", max_amps=40, ttl_s=6)
        lt = LinkThread(DeviceLink(url, [site]).run)
        until(lambda: charging(site), 15, "online device with two linked slaves")
        assert site.state is not None
        twc = site.state.slaves[0].id

        def cap_of() -> int | None:
            assert site.state is not None
            return next(s.cap_amps for s in site.state.slaves if s.id == twc)

        lt.call(site.cap, twc, 8)
        until(lambda: cap_of() == 8, 5, "the cap in the device's state")
        lt.call(site.start_stop, twc, False, time.monotonic())
        until(lambda: site.twcs.word.get(twc) == "stop acked", 5, "the stop acknowledged")
        kinds = until(lambda: [e["event"] for e in watcher.json_of("/event")
                               if e.get("twc") == twc and "acked" in e["event"]] and
                      [e["event"] for e in watcher.json_of("/event") if e.get("twc") == twc],
                      5, "the events")
        assert kinds[-2:] == ["charging_stop_sent", "charging_stop_acked"]
        lt.call(site.start_stop, twc, True, time.monotonic())  # within 10 s: the device says no
        until(lambda: site.twcs.word.get(twc, "").startswith("refused: "), 5, "the refusal")
        lt.call(site.cap, twc, None)
        until(lambda: cap_of() is None, 10, "the cap removed")
        assert not [e for e in watcher.json_of("/event") if e["event"] == "rejected"
                    and "charging" not in e["topic"]]
    finally:
        if lt is not None:
            lt.stop()
        watcher.close()
        for p in reversed(procs):
            p.stop()
