"""The smart-me cloud source against a local server serving recorded device answers."""
from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from meter_server import EXPECTED, MeterServer, Reply, read_once
from pydantic import ValidationError

from twcm.service.sources import SourceError, kinds
from twcm.service.sources.integrations.smartme import SmartMe, SmartMeOptions

DEVICE = "40a1b2c3-0000-0000-0000-000000000012"
PATH = f"/api/Devices/{DEVICE}"


def read(reply: Reply | str, path: str = PATH, **options):
    with MeterServer() as server:
        server.route(path, reply)
        keys = {"url": server.url, "user": "me", "password": "pw", "device_id": DEVICE}
        keys.update(options)
        try:
            return read_once(SmartMe(SmartMeOptions(**{k: v for k, v in keys.items()
                                                       if v is not None})))
        finally:
            read.requests = server.requests


@pytest.mark.parametrize("name", ["device_export_kw.json", "device_import_kw.json"])
def test_active_power_is_the_grid_in_watts(name):
    # expected.json also lists TWCManager's reading of export as "generation" and of
    # import as "consumption"; a grid meter tells neither, so only the grid is checked.
    want = EXPECTED[f"smartme/{name}"]
    reading = read(f"smartme/{name}")
    assert reading.grid_import_w == pytest.approx(want["grid_import_w"] - want["grid_export_w"])
    assert (reading.generation_w, reading.consumption_w) == (None, None)


def test_phases_voltage_and_the_time_the_meter_reported():
    r = read("smartme/device_export_kw.json")
    assert r.phase_amps == (-3.4, -3.4, -3.4)  # exporting on every phase
    assert r.volts == 230.0
    assert r.at == datetime(2024, 6, 1, 10, 15, 30, tzinfo=timezone.utc).timestamp()
    r = read("smartme/device_import_kw.json")
    assert (r.phase_amps, r.volts) == (None, 231.0)  # no currents given


def test_the_request_uses_basic_auth():
    read("smartme/device_import_kw.json")
    (r,) = read.requests
    assert (r.method, r.path) == ("GET", PATH)
    assert r.headers["Authorization"] == "Basic " + base64.b64encode(b"me:pw").decode()


def test_a_meter_by_serial_and_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("SM_PW", "secret")
    read("smartme/device_import_kw.json", "/api/DeviceBySerial", device_id=None,
         serial=9202922, password=None, password_env="SM_PW")
    (r,) = read.requests
    assert r.path == "/api/DeviceBySerial?serial=9202922"
    assert r.headers["Authorization"] == "Basic " + base64.b64encode(b"me:secret").decode()


def test_a_meter_in_watts():
    body = b'{"ActivePower": 850, "ActivePowerUnit": "W"}'
    assert read(Reply(body)).grid_import_w == 850.0


def test_it_is_a_grid_meter():
    kind = kinds()["smartme"]
    assert kind.roles(SmartMeOptions(user="u", password="p", serial=1)) == ("grid",)
    assert kind.min_interval_s >= 5


@pytest.mark.parametrize("reply,words", [
    (Reply(b'{"Message": "Authorization has been denied"}', 401), "refuses the user and"),
    (Reply(b"{}", 404), "no such meter"),
    (Reply(b"oops", 500), "HTTP 500"),
    (Reply(b"<html>", 200), "not JSON"),
    (Reply(b"{}", delay_s=0.5), "no answer within 0.2 s"),
    (Reply(b'{"ActivePower": null}'), "no ActivePower"),
    (Reply(b'{"ActivePower": 1, "ActivePowerUnit": "kWh"}'), "in 'kWh', not W or kW"),
    (Reply(b"[]"), "not a device")])
def test_failures_say_why(reply, words):
    with pytest.raises(SourceError, match=words):
        read(reply, timeout_s=0.2)


@pytest.mark.parametrize("keys,words", [
    ({"password": "p"}, "device_id .* or as serial"),
    ({"password": "p", "device_id": "x", "serial": 1}, "not both"),
    ({"device_id": "x"}, "password or"),
    ({"device_id": "x", "password_env": "TWCM_NO_SUCH_VAR"}, "not set")])
def test_the_options_say_what_is_missing(keys, words):
    with pytest.raises(ValidationError, match=words):
        SmartMeOptions(user="u", **keys)
