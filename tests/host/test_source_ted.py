"""The TED source against a local server serving recorded LiveData and history answers."""
from __future__ import annotations

import base64

import pytest
from meter_server import MeterServer, Reply, assert_expected, read_once
from pydantic import ValidationError

from twcm.service.sources import SourceError, kinds
from twcm.service.sources.integrations.ted import HISTORY, LIVEDATA, Ted, TedOptions

# The recorded LiveData holds the expected readings with MTU1 the load, MTU2 the solar.
ROLES = {"consumption_mtu": 1, "generation_mtu": 2, "grid_mtu": "total"}


def read(path: str, reply: Reply | str, **options):
    with MeterServer() as server:
        server.route(path, reply)
        try:
            return read_once(Ted(TedOptions(url=server.url, **options)))
        finally:
            read.requests = server.requests


def test_livedata_gives_the_recorded_readings_for_the_configured_mtus():
    reading = read(LIVEDATA, "ted/livedata_two_mtu.xml", **ROLES)
    assert_expected(reading, "ted/livedata_two_mtu.xml")
    assert [(r.method, r.path) for r in read.requests] == [("GET", LIVEDATA)]


def test_the_voltage_is_the_grid_mtus():
    reading = read(LIVEDATA, "ted/livedata_two_mtu.xml", generation_mtu=1, grid_mtu=2)
    assert (reading.volts, reading.generation_w, reading.grid_import_w) == (240.9, 4770.0,
                                                                            -3200.0)


def test_only_the_configured_roles():
    reading = read(LIVEDATA, "ted/livedata_two_mtu.xml", generation_mtu=2)
    assert (reading.generation_w, reading.consumption_w, reading.grid_import_w) == (
        3200.0, None, None)
    assert kinds()["ted"].roles(TedOptions(url="http://x", generation_mtu=2)) == (
        "generation",)
    assert kinds()["ted"].roles(TedOptions(url="http://x", **ROLES)) == (
        "generation", "consumption", "grid")


def test_the_history_export_gives_the_solar_row():
    reading = read(HISTORY, "ted/history_export_solar.csv", api="history",
                   generation_mtu="Solar")
    assert_expected(reading, "ted/history_export_solar.csv")
    assert read.requests[0].path == f"{HISTORY}?T=1&D=0&M=1&C=1"


def test_the_history_export_by_row_names():
    reading = read(HISTORY, "ted/history_export_solar.csv", api="history",
                   generation_mtu="solar", consumption_mtu="Load")
    assert (reading.generation_w, reading.consumption_w) == (3200.0, 4770.0)


def test_a_history_export_without_the_solar_row_is_an_error():
    with pytest.raises(SourceError, match="no row 'Solar' .generation_mtu.; it lists load"):
        read(HISTORY, "ted/history_export_no_solar_row.csv", api="history",
             generation_mtu="Solar")


def test_a_login():
    read(LIVEDATA, "ted/livedata_two_mtu.xml", generation_mtu=2, user="ted", password="pw")
    auth = read.requests[0].headers["Authorization"]
    assert auth == "Basic " + base64.b64encode(b"ted:pw").decode()


@pytest.mark.parametrize("reply,options,words", [
    (Reply(b"", 401), {}, "asks for a login"),
    (Reply(b"oops", 500), {}, "HTTP 500"),
    (Reply(b"<LiveData>", content_type="text/xml"), {}, "not XML"),
    (Reply(b"<LiveData/>", delay_s=0.5), {}, "no answer within 0.2 s"),
    ("ted/livedata_two_mtu.xml", {"generation_mtu": 3}, "no power for generation_mtu = 3 "
     r"\(the gateway has 2 MTUs\)"),
    ("ted/livedata_two_mtu.xml", {"generation_mtu": 1, "consumption_mtu": 2},
     "consumption MTU reads -3200 W")])
def test_failures_say_why(reply, options, words):
    with pytest.raises(SourceError, match=words):
        read(LIVEDATA, reply, timeout_s=0.2, **(options or {"generation_mtu": 2}))


@pytest.mark.parametrize("keys,words", [
    ({}, "give at least one of"),
    ({"generation_mtu": 5}, "from 1 to 4"),
    ({"generation_mtu": "Solar"}, "from 1 to 4"),
    ({"api": "history", "generation_mtu": 2}, "the MTU's name"),
    ({"generation_mtu": 1, "grid_mtu": 1}, "two roles"),
    ({"generation_mtu": 1, "user": "x"}, "both user and password")])
def test_the_options_say_what_is_wrong(keys, words):
    with pytest.raises(ValidationError, match=words):
        TedOptions(url="http://x", **keys)
