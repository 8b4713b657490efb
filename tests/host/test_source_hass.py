"""The Home Assistant source against a local server serving recorded state objects."""
from __future__ import annotations

import pytest
from meter_server import MeterServer, Reply, assert_expected, read_once
from pydantic import ValidationError

from twcm.service.sources import SourceError
from twcm.service.sources.integrations.hass import Hass, HassOptions

STATE = "/api/states/sensor.solar_power"


def read(server: MeterServer, **kw):
    options = {"url": server.url, "entity": "sensor.solar_power", "role": "generation",
               "token": "abc.def", **kw}
    return read_once(Hass(HassOptions(**options)))


@pytest.mark.parametrize("name", ["state_power_w.json", "state_power_kw.json"])
def test_states_in_w_and_kw_give_watts(name):
    with MeterServer() as server:
        server.route(STATE, f"hass/{name}")
        reading = read(server)
    assert_expected(reading, f"hass/{name}", value_field="generation_w")
    assert reading.consumption_w is None and reading.grid_import_w is None


def test_the_token_is_sent_as_bearer():
    with MeterServer() as server:
        server.route(STATE, "hass/state_power_w.json")
        read(server, token="abc.def")
        assert server.requests[0].headers["Authorization"] == "Bearer abc.def"


def test_the_token_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("HASS_TOKEN", "from.env")
    with MeterServer() as server:
        server.route(STATE, "hass/state_power_w.json")
        read(server, token=None, token_env="HASS_TOKEN")
        assert server.requests[0].headers["Authorization"] == "Bearer from.env"


def test_the_role_picks_the_field_and_scale_flips_the_sign():
    with MeterServer() as server:
        server.route(STATE, "hass/state_power_kw.json")
        reading = read(server, role="grid", scale=-1.0)
    assert reading.grid_import_w == -1850.0 and reading.generation_w is None


def test_unavailable_is_an_error_not_zero():
    with MeterServer() as server:
        server.route(STATE, "hass/state_unavailable.json")
        with pytest.raises(SourceError, match="sensor.solar_power is unavailable"):
            read(server)


def test_an_unknown_entity_is_named():
    with MeterServer() as server:
        server.route(STATE, "hass/error_404_entity_not_found.json", status=404)
        with pytest.raises(SourceError, match="no entity sensor.solar_power"):
            read(server)


def test_a_refused_token_says_so():
    with MeterServer() as server:
        server.route(STATE, Reply(b"401: Unauthorized", 401, "text/plain"))
        with pytest.raises(SourceError, match="refuses the token"):
            read(server)


def test_server_errors_timeouts_and_odd_answers_are_errors():
    with MeterServer() as server:
        server.route(STATE, Reply(b"oops", 500, "text/plain"))
        with pytest.raises(SourceError, match="HTTP 500"):
            read(server)
        server.route(STATE, Reply(b"<html>", 200, "text/html"))
        with pytest.raises(SourceError, match="not JSON"):
            read(server)
        server.route(STATE, b'{"state": "12", "attributes": {"unit_of_measurement": "kWh"}}')
        with pytest.raises(SourceError, match="'kWh', not W or kW"):
            read(server)
        server.route(STATE, Reply(b"{}", delay_s=1.0))
        with pytest.raises(SourceError, match="no answer within"):
            read(server, timeout_s=0.2)


def test_options_are_checked(monkeypatch):
    base = {"url": "http://ha:8123", "entity": "sensor.x", "role": "grid"}
    with pytest.raises(ValidationError, match="either token"):
        HassOptions(**base)
    with pytest.raises(ValidationError, match="HASS_NOPE is not set"):
        HassOptions(**base, token_env="HASS_NOPE")
    with pytest.raises(ValidationError, match="not an entity id"):
        HassOptions(**{**base, "entity": "Solar Power"}, token="t")
    assert "secret-token" not in repr(HassOptions(**base, token="secret-token"))
