"""The local Enphase source against a local server serving recorded gateway answers,
and standing in for Enlighten's login and token service."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from meter_server import MeterServer, Reply, assert_expected, read_once, run_closing
from pydantic import ValidationError

from twcm.service.sources import SourceError, kinds
from twcm.service.sources.integrations.enphase import LEGACY_PATH, PATH, Enphase, EnphaseOptions, parse

TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJ1c2VybmFtZSI6Im1lIn0.c2lnbmF0dXJl"


def read(server: MeterServer, **kw):
    return read_once(Enphase(EnphaseOptions(url=server.url, **kw)))


@pytest.mark.parametrize("name", ["production_json_metered_cts.json",
                                  "production_json_no_consumption_ct.json",
                                  "production_json_standard_inverters_only.json"])
def test_production_json_gives_the_recorded_readings(name):
    with MeterServer() as server:
        server.route(PATH, f"enphase/{name}")
        reading = read(server)
    assert_expected(reading, f"enphase/{name}")
    assert [r.path for r in server.requests] == [PATH]


def test_old_firmware_without_production_json_is_read_from_api_v1():
    with MeterServer() as server:
        server.route(LEGACY_PATH, "enphase/api_v1_production.json")

        async def twice(source: Enphase):
            return [await source.read(), await source.read()]
        first, second = run_closing(Enphase(EnphaseOptions(url=server.url)), twice)
    assert_expected(first, "enphase/api_v1_production.json")
    assert second.generation_w == first.generation_w
    # production.json is asked for once: the gateway is remembered as an old one
    assert [r.path for r in server.requests] == [PATH, LEGACY_PATH, LEGACY_PATH]


def test_the_token_is_sent_as_a_bearer():
    with MeterServer() as server:
        server.route(PATH, "enphase/production_json_metered_cts.json")
        read(server, token=TOKEN)
    assert server.requests[0].header("Authorization") == f"Bearer {TOKEN}"


@pytest.mark.parametrize("token, match", [
    (None, "HTTP 401.*firmware 7 and later want a token.*entrez.enphaseenergy.com"),
    (TOKEN, "HTTP 401.*token has expired.*set `token`")])
def test_a_refused_token_says_how_to_get_one(token, match):
    with MeterServer() as server:
        server.route(PATH, Reply(b"", 401))
        with pytest.raises(SourceError, match=match):
            read(server, token=token)
    assert len(server.requests) == 1


def enlighten(server: MeterServer, login: Reply | None = None) -> dict:
    server.route("/login/login.json", login or Reply(
        b'{"message": "success", "session_id": "s-123", "manager_token": "m"}'))
    server.route("/tokens", Reply(TOKEN.encode(), content_type="text/plain"))
    return {"username": "me@example.com", "password": "pw", "serial": "122233344455",
            "enlighten_url": server.url, "entrez_url": server.url}


def test_the_token_is_fetched_from_enlighten_with_the_login():
    with MeterServer() as server:
        server.route(PATH, "enphase/production_json_metered_cts.json")
        reading = read(server, **enlighten(server))
    assert_expected(reading, "enphase/production_json_metered_cts.json")
    login, tokens, production = server.requests
    assert (login.method, login.path) == ("POST", "/login/login.json")
    assert parse_qs(login.body.decode()) == {"user[email]": ["me@example.com"],
                                             "user[password]": ["pw"]}
    assert (tokens.method, tokens.path) == ("POST", "/tokens")
    assert json.loads(tokens.body) == {"session_id": "s-123", "serial_num": "122233344455",
                                       "username": "me@example.com"}
    assert production.header("Authorization") == f"Bearer {TOKEN}"


def test_a_fetched_token_that_is_refused_is_fetched_once_more():
    with MeterServer() as server:
        server.route(PATH, Reply(b"", 401))
        with pytest.raises(SourceError, match="token just fetched.*check that `serial`"):
            read(server, token="old", **enlighten(server))
    assert [r.path for r in server.requests] == [PATH, "/login/login.json", "/tokens", PATH]


@pytest.mark.parametrize("login, match", [
    (Reply(b'{"message": "Invalid email or password"}', 401), "refuses the login.*HTTP 401"),
    (Reply(b'{"message": "success", "isConsumer": true}'), "two-factor")])
def test_a_failed_enlighten_login_is_clear(login, match):
    with MeterServer() as server:
        with pytest.raises(SourceError, match=match):
            read(server, **enlighten(server, login))
    assert [r.path for r in server.requests] == ["/login/login.json"]


def test_no_token_for_the_serial():
    with MeterServer() as server:
        options = enlighten(server)
        server.route("/tokens", Reply(b'{"message": "not found"}', 404))
        with pytest.raises(SourceError, match="no token for gateway 122233344455.*404"):
            read(server, **options)


@pytest.mark.parametrize("reply, match", [
    (Reply(b"oops", 500), "HTTP 500"),
    (Reply(b"<html>", content_type="text/html"), "not JSON"),
    (Reply(b"{}", delay_s=1.0), "no answer within"),
    (Reply(b'{"production": []}'), "no production meter"),
    (Reply(b'{"production": [{"type": "inverters", "activeCount": 3, "wNow": "x"}]}'),
     "production wNow is 'x'")])
def test_failures_are_reported(reply, match):
    with MeterServer() as server:
        server.route(PATH, reply)
        with pytest.raises(SourceError, match=match):
            read(server, timeout_s=0.3)


def test_three_phases_give_the_mean_voltage_and_a_night_ct_no_negative_power():
    line = {"rmsVoltage": 231.0}
    doc = {"production": [{"type": "eim", "measurementType": "production",
                           "activeCount": 1, "wNow": -3.2, "rmsVoltage": 693.0,
                           "lines": [line, {"rmsVoltage": 229.0}, {"rmsVoltage": 233.0}]}]}
    reading = parse(doc)
    assert reading.generation_w == 0.0 and reading.volts == pytest.approx(231.0)
    assert reading.consumption_w is None and reading.grid_import_w is None


def test_options():
    with pytest.raises(ValidationError, match="give password and serial too"):
        EnphaseOptions(url="https://192.168.1.30", username="me@example.com")
    with pytest.raises(ValidationError, match="not an http"):
        EnphaseOptions(url="https://192.168.1.30", enlighten_url="enlighten")
    o = EnphaseOptions(url="https://192.168.1.30")
    assert o.verify_tls is False
    assert kinds()["enphase"].roles(o) == ("generation", "consumption", "grid")


def test_a_token_fetched_for_this_read_is_not_fetched_twice():
    with MeterServer() as server:
        server.route(PATH, Reply(b"", 401))
        with pytest.raises(SourceError, match="token just fetched"):
            read(server, **enlighten(server))
    assert [r.path for r in server.requests] == ["/login/login.json", "/tokens", PATH]


def test_the_token_and_the_password_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ENVOY_TOKEN", "jwt")
    monkeypatch.setenv("ENLIGHTEN_PW", "pw")
    o = EnphaseOptions(url="https://10.0.0.5", token_env="ENVOY_TOKEN")
    assert o.secret("token") == "jwt"
    o = EnphaseOptions(url="https://10.0.0.5", username="me@x.org", password_env="ENLIGHTEN_PW",
                       serial="1220")
    assert o.secret("password") == "pw"
    with pytest.raises(ValueError, match="give serial too"):
        EnphaseOptions(url="https://10.0.0.5", username="me@x.org", password_env="ENLIGHTEN_PW")
