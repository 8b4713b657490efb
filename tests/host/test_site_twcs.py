"""SiteLoop's per-TWC commands: set_twc_cap (checked against the device's state, kept
across restarts, leased to the device as SiteLink sends it) and set_twc_charging (off
unless the config enables it; one command, sent once)."""
from __future__ import annotations

import copy
import json

import pytest

from twcm.service.config import Config
from twcm.service.site import SiteLoop
from twcm.service.store import Store

CONFIG = {"site": [{"name": "home", "max_amps": 40,
                    "source": {"type": "static", "generation_w": 0, "consumption_w": 500}}]}
SLAVE = {"link": "linked", "protocol": 2, "max_amps": 32, "offered_amps": 0,
         "actual_amps": 0, "state": "ready", "volts": [230, 0, 0], "lifetime_kwh": None,
         "vin": None, "cap_amps": None, "wanting": False}
STATE = {"mode": "lease", "source": "lease", "limit_amps": 16, "wiring_max_amps_all": 40,
         "wiring_max_amps_per_twc": 24,
         "slaves": [{**SLAVE, "id": "1A2B"}, {**SLAVE, "id": "32C4", "max_amps": 16}]}


class Clock:
    def __init__(self) -> None:
        self.wall, self.mono = 1_800_000_000.0, 0.0

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def age_s(self, stamp: float) -> float:
        return self.wall - stamp


def site(store: Store | None = None, clock: Clock | None = None, **config: object) -> SiteLoop:
    data = copy.deepcopy(CONFIG)
    data["site"][0].update(config)
    return SiteLoop(Config.model_validate(data).site[0], store, clock or Clock())


def hear(s: SiteLoop, slaves: list[dict] | None = None, now: float = 0.0) -> None:
    state = STATE if slaves is None else {**STATE, "slaves": slaves}
    s.link.receive("state", json.dumps(state).encode(), now)


def sent(s: SiteLoop, now: float) -> dict[str, dict]:
    """What SiteLink sends now for single TWCs, by topic after twcm/home/."""
    return {t.removeprefix("twcm/home/"): json.loads(p) for t, p in s.link.outbox(now)
            if t.startswith("twcm/home/twc/")}


def test_a_cap_is_checked_against_the_devices_state():
    s = site()
    with pytest.raises(ValueError, match="has not sent its state yet"):
        s.set_twc_cap("1A2B", 10)
    hear(s)
    for twc, amps, match in (("9999", 10, "no TWC 9999 .* it lists: 1A2B, 32C4"),
                             ("1A2", 10, "4 hex digits"), (0x1A2B, 10, "4 hex digits"),
                             ("1A2B", 25, "0-24 \\(its rating and the per-TWC wiring\\)"),
                             ("32C4", 17, "0-16"), ("1A2B", -1, "0-24"),
                             ("1A2B", 10.5, "not 10.5"), ("1A2B", True, "not True")):
        with pytest.raises(ValueError, match=match):
            s.set_twc_cap(twc, amps)  # type: ignore[arg-type]
    assert s.link.twcs.caps == {} and s.status()["twc_caps"] == {}


def test_a_cap_is_leased_renewed_shown_and_released():
    s = site()
    hear(s)
    s.set_twc_cap("1a2b", 10)  # lower case is the same TWC
    out = sent(s, 0.0)
    assert out["twc/1A2B/limit/set"]["amps"] == 10 and out["twc/1A2B/limit/set"]["ttl_s"] == 60
    assert sent(s, 5.0) == {} and s.link.next_due(5.0) == pytest.approx(20.0)
    assert sent(s, 20.0)["twc/1A2B/limit/set"]["amps"] == 10  # renewed every ttl/3
    assert s.status()["twc_caps"] == {"1A2B": {"amps": 10, "in_force": None}}
    hear(s, [{**STATE["slaves"][0], "id": "1A2B", "cap_amps": 10}, STATE["slaves"][1]], 21.0)
    assert s.status()["twc_caps"] == {"1A2B": {"amps": 10, "in_force": 10}}
    s.set_twc_cap("1A2B", None)
    release = sent(s, 22.0)["twc/1A2B/limit/set"]
    assert (release["amps"], release["ttl_s"]) == (24, 5)  # caps nothing, ends in 5 s
    assert s.status()["twc_caps"] == {} and sent(s, 60.0) == {}


def test_a_cap_waits_for_its_twc_and_is_sent_again_when_it_rejoins():
    s = site()
    hear(s)
    s.set_twc_cap("32C4", 8)
    assert sent(s, 0.0)["twc/32C4/limit/set"]["amps"] == 8
    hear(s, [STATE["slaves"][0]], 1.0)  # released by the device: not listed
    assert "twc/32C4/limit/set" not in sent(s, 30.0)
    with pytest.raises(ValueError, match="it lists: 1A2B"):
        s.set_twc_cap("32C4", 6)  # not listed: cannot be checked ...
    hear(s, None, 31.0)  # ... back, uncapped on the device: sent at once
    assert s.link.next_due(31.0) == 31.0 and sent(s, 31.0)["twc/32C4/limit/set"]["amps"] == 8
    hear(s, [STATE["slaves"][0]], 32.0)
    s.set_twc_cap("32C4", None)  # a cap may always be removed


def test_caps_survive_a_restart(tmp_path):
    store = Store(tmp_path / "twcm.db")
    s = site(store)
    hear(s)
    s.set_twc_cap("1A2B", 12)
    s.set_twc_cap("32C4", 0)
    s.set_twc_cap("32C4", None)
    store.close()
    store = Store(tmp_path / "twcm.db")
    again = site(store)
    assert again.link.twcs.caps == {"1A2B": 12} and store.twc_caps("home") == {"1A2B": 12}
    hear(again)
    assert sent(again, 0.0)["twc/1A2B/limit/set"]["amps"] == 12
    store.close()


def test_start_stop_is_refused_unless_the_config_enables_it():
    s = site()
    hear(s)
    with pytest.raises(ValueError, match="set twc_start_stop = true"):
        s.set_twc_charging("1A2B", False)
    assert sent(s, 0.0) == {}
    assert s.status()["twc_start_stop"] == {"enabled": False, "last": {}}


def test_start_stop_sends_one_command_once():
    clock = Clock()
    s = site(clock=clock, twc_start_stop=True)
    hear(s, [STATE["slaves"][0], {**SLAVE, "id": "0E0E", "protocol": 1},
             {**SLAVE, "id": "4D5E", "link": "lost"}])
    for twc, charging, match in (("0E0E", False, "protocol 1"), ("4D5E", False, "is lost"),
                                 ("1A2B", 0, "true or false"), ("7777", False, "no TWC")):
        with pytest.raises(ValueError, match=match):
            s.set_twc_charging(twc, charging)  # type: ignore[arg-type]
    s.set_twc_charging("1A2B", False)
    assert sent(s, 0.0)["twc/1A2B/charging/set"] == {"charging": False}
    assert "twc/1A2B/charging/set" not in sent(s, 1.0)  # once
    clock.mono = 5.0
    with pytest.raises(ValueError, match="wait 10 s"):
        s.set_twc_charging("1A2B", True)
    s.link.receive("event", b'{"event": "charging_stop_acked", "twc": "1A2B"}', 6.0)
    assert s.status()["twc_start_stop"]["last"] == {"1A2B": "stop acked"}
    clock.mono = 11.0
    s.set_twc_charging("1A2B", True)
    s.link.reconnected(40.0)  # the broker was away: never sent late
    assert "twc/1A2B/charging/set" not in sent(s, 40.0)
