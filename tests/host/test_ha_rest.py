"""Home Assistant's REST API as a status output (status/ha_rest.py), against a local HTTP
server that records the requests: each sensor POSTed to /api/states/sensor.twcm_..., with
the Bearer token, a state and its attributes; sent again only when changed; a failing HA
is logged and retried at the next round, a slow one times out, and neither raises."""
from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx
import pytest

from meter_server import MeterServer, Reply, Request
from test_site_twcs import site
from test_twcmanager_mqtt import DEVICE
from twcm.service.config import ConfigError
from twcm.service.config_load import load
from twcm.service.status.ha_rest import HaRest, states
from twcm.service.status.options import HomeAssistantRestConfig

TOKEN = "eyJ.long-lived.token"


def serve(server: MeterServer, loop, status: list[int], delay_s: float = 0.0) -> None:
    """Answer each entity's POST with status[0]."""
    def answer(request: Request) -> Reply:
        return Reply(b"{}", status[0], delay_s=delay_s)
    for entity in states(loop):
        server.route(f"/api/states/{entity}", answer)


def push(rest: HaRest) -> int:
    async def go() -> int:
        headers = {"Authorization": f"Bearer {rest.options.secret()}"}
        async with httpx.AsyncClient(headers=headers, timeout=rest.options.timeout_s) as h:
            return await rest.push(h)
    return asyncio.run(go())


def test_states_are_posted_with_the_token_and_failures_are_retried(monkeypatch, caplog):
    monkeypatch.setenv("HA_TOKEN", TOKEN)
    loop = site()
    loop.turn()
    loop.link.receive("state", json.dumps(DEVICE).encode(), time.monotonic())
    status = [201]
    with MeterServer() as server:
        serve(server, loop, status)
        rest = HaRest([loop], HomeAssistantRestConfig(url=server.url + "/", token_env="HA_TOKEN"))
        assert push(rest) == 0
        posts = {r.path: r for r in server.requests}
        assert all(r.method == "POST" for r in server.requests)
        assert all(r.header("Authorization") == f"Bearer {TOKEN}" for r in server.requests)
        assert all(r.header("Content-Type") == "application/json" for r in server.requests)
        energy = json.loads(posts["/api/states/sensor.twcm_home_1a2b_lifetime_energy"].body)
        assert energy == {"state": "6843", "attributes": {
            "friendly_name": "TWC 1A2B lifetime energy", "unit_of_measurement": "kWh",
            "device_class": "energy", "state_class": "total_increasing"}}
        power = json.loads(posts["/api/states/sensor.twcm_home_charging_power"].body)
        assert power["state"] == "11039.5"  # 15.87 A on 692 V, and 0.25 A on 230 V
        assert power["attributes"]["unit_of_measurement"] == "W"
        assert power["attributes"]["friendly_name"] == "twcm home Charging power"
        claim = json.loads(posts["/api/states/sensor.twcm_home_claim"].body)
        assert claim["state"] == "default" and claim["attributes"]["reason"]
        vin = json.loads(posts["/api/states/sensor.twcm_home_32c4_vin"].body)
        assert vin == {"state": "unknown", "attributes": {"friendly_name": "TWC 32C4 VIN"}}
        assert "/api/states/sensor.twcm_home_1a2b_voltage_l2" in posts

        server.requests.clear()
        assert push(rest) == 0 and server.requests == []  # nothing changed: nothing sent

        moved = {**DEVICE, "slaves": [{**DEVICE["slaves"][0], "actual_amps": 10.0},
                                      DEVICE["slaves"][1]]}
        loop.link.receive("state", json.dumps(moved).encode(), time.monotonic())
        status[0] = 500
        with caplog.at_level(logging.WARNING, "twcm.ha_rest"):
            failed = push(rest)
        assert failed >= 2  # the TWC's current and power, at least
        told = [r.message for r in caplog.records if "cannot set" in r.message]
        assert len(told) == 1 and "HTTP 500" in told[0]  # once per failing streak
        status[0] = 200
        server.requests.clear()
        assert push(rest) == 0
        again = {r.path for r in server.requests}
        assert {"/api/states/sensor.twcm_home_1a2b_current",
                "/api/states/sensor.twcm_home_1a2b_power"} <= again


def test_an_unreachable_or_slow_home_assistant_fails_without_raising(caplog):
    loop = site()
    with MeterServer() as server:
        serve(server, loop, [200], delay_s=1.0)
        slow = HaRest([loop], HomeAssistantRestConfig(url=server.url, token="t",
                                                      timeout_s=0.2))
        assert push(slow) == len(states(loop))
    gone = HaRest([loop], HomeAssistantRestConfig(url=server.url, token="t"))
    assert push(gone) == len(states(loop))  # the server is closed: connection refused
    assert "ConnectError" in caplog.text or "Connect" in caplog.text


@pytest.mark.parametrize("table, words", [
    ('url = "homeassistant.local"', "home_assistant_rest.url"),
    ('url = "http://ha:8123"', "give either token or (better) token_env"),
    ('url = "http://ha:8123"\ntoken_env = "NO_SUCH_VARIABLE_TWCM"', "NO_SUCH_VARIABLE_TWCM"),
])
def test_bad_rest_keys_are_named(tmp_path, table, words):
    path = tmp_path / "twcm.toml"
    path.write_text('[[site]]\nname = "home"\nmax_amps = 16\n[site.source]\ntype = "static"\n'
                    f"generation_w = 0\n[home_assistant_rest]\n{table}\n")
    with pytest.raises(ConfigError) as e:
        load(path)
    assert words in str(e.value)
