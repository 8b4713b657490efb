"""The SolarEdge monitoring API source against a local server serving recorded answers."""
from __future__ import annotations

import pytest
from meter_server import MeterServer, Reply, assert_expected, read_once
from pydantic import ValidationError

from twcm.service.sources import SourceError, kinds
from twcm.service.sources.integrations.solaredge import SolarEdge, SolarEdgeOptions

FLOW = "/site/1234567/currentPowerFlow"
OVERVIEW = "/site/1234567/overview"


def read(path: str, reply: Reply | str, **options):
    with MeterServer() as server:
        server.route(path, reply)
        try:
            return read_once(SolarEdge(SolarEdgeOptions(
                **{"url": server.url, "site_id": 1234567, "api_key": "KEY123", **options})))
        finally:
            read.requests = server.requests


@pytest.mark.parametrize("name", ["currentpowerflow_w_import_charging.json",
                                  "currentpowerflow_kw_export.json"])
def test_power_flows_give_the_recorded_readings(name):
    assert_expected(read(FLOW, f"solaredge/{name}"), f"solaredge/{name}")


def test_the_key_goes_in_the_query():
    read(FLOW, "solaredge/currentpowerflow_kw_export.json")
    assert [(r.method, r.path) for r in read.requests] == [
        ("GET", f"{FLOW}?api_key=KEY123")]


def test_the_battery_and_its_charge_come_from_the_storage_node():
    r = read(FLOW, "solaredge/currentpowerflow_w_import_charging.json")
    assert (r.battery_w, r.battery_soc) == (-250.0, 75.0)


def test_a_discharging_battery_and_an_idle_grid():
    body = (b'{"siteCurrentPowerFlow": {"unit": "W", "connections": ['
            b'{"from": "storage", "to": "Load"}, {"from": "PV", "to": "Load"}],'
            b'"GRID": {"status": "Idle", "currentPower": 0}, "LOAD": {"currentPower": 900},'
            b'"PV": {"currentPower": 400}, "STORAGE": {"status": "Discharging",'
            b'"currentPower": 500, "chargeLevel": 40}}}')
    r = read(FLOW, Reply(body))
    assert (r.generation_w, r.consumption_w, r.grid_import_w, r.battery_w) == (
        400.0, 900.0, 0.0, 500.0)


def test_grid_power_without_a_direction_stays_unknown():
    body = (b'{"siteCurrentPowerFlow": {"unit": "W", "connections": [],'
            b'"GRID": {"currentPower": 300}, "LOAD": {"currentPower": 300}}}')
    r = read(FLOW, Reply(body))
    assert (r.grid_import_w, r.consumption_w, r.generation_w) == (None, 300.0, None)


def test_a_site_without_meter_is_an_error_that_names_the_overview():
    with pytest.raises(SourceError, match='no PV, load or grid.*endpoint = "overview"'):
        read(FLOW, "solaredge/currentpowerflow_no_meter.json")


def test_the_overview_gives_the_solar_output_alone():
    reading = read(OVERVIEW, "solaredge/overview.json", endpoint="overview")
    assert_expected(reading, "solaredge/overview.json")
    assert read.requests[0].path == f"{OVERVIEW}?api_key=KEY123"


def test_roles_follow_the_endpoint():
    kind = kinds()["solaredge"]
    assert kind.roles(SolarEdgeOptions(site_id=1, api_key="k")) == (
        "generation", "consumption", "grid", "battery")
    assert kind.roles(SolarEdgeOptions(site_id=1, api_key="k", endpoint="overview")) == (
        "generation",)
    assert kind.min_interval_s * 300 >= 86400 * 1.1  # one source stays within the quota


@pytest.mark.parametrize("status,words", [(403, "refuses the API key for site 1234567"),
                                          (429, "300 a day are used up")])
def test_refusals_say_why(status, words):
    with pytest.raises(SourceError, match=words) as e:
        read(FLOW, Reply(b"Invalid token", status))
    assert "KEY123" not in str(e.value)


def test_server_errors_timeouts_and_bad_json_are_errors_without_the_key():
    for reply, words in [(Reply(b"oops", 500), "HTTP 500"), (Reply(b"<html>", 200), "not JSON"),
                         (Reply(b"{}", delay_s=0.5), "no answer within 0.2 s"),
                         (Reply(b'{"x": 1}'), "no siteCurrentPowerFlow")]:
        with pytest.raises(SourceError, match=words) as e:
            read(FLOW, reply, timeout_s=0.2)
        assert "KEY123" not in str(e.value)


def test_the_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("SE_KEY", "FROMENV")
    read(FLOW, "solaredge/currentpowerflow_kw_export.json", api_key_env="SE_KEY",
         api_key=None)
    assert read.requests[0].path.endswith("api_key=FROMENV")


@pytest.mark.parametrize("keys,words", [({}, "api_key or"),
                                        ({"api_key": "a", "api_key_env": "HOME"}, "not both"),
                                        ({"api_key_env": "TWCM_NO_SUCH_VAR"}, "not set")])
def test_the_key_is_given_once(keys, words):
    with pytest.raises(ValidationError, match=words):
        SolarEdgeOptions(site_id=1, **keys)
