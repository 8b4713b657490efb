"""The Solar-Log source against a local server serving recorded getjp answers."""
from __future__ import annotations

import json

import pytest
from meter_server import (EXPECTED, MeterServer, Reply, Request, assert_expected, read_once,
                          recorded)

from twcm.service.sources import SourceError, kinds
from twcm.service.sources.integrations.solarlog import PATH, SolarLog, SolarLogOptions, parse_devices


def read(summary: Reply | str, **options):
    with MeterServer() as server:
        server.route(PATH, summary)
        return read_once(SolarLog(SolarLogOptions(url=server.url, **options))), server.requests


ANSWERS = {"801": "solarlog/getjp_801_170_day.json",
           "782": "solarlog/getjp_782_power_per_inverter.json"}


def by_query(request: Request) -> Reply:
    """The answer to /getjp by the query in the request's body, as the logger does."""
    return Reply(recorded(ANSWERS[next(iter(json.loads(request.body)))]))


def read_excluding(devices: list[int]):
    with MeterServer() as server:
        server.route(PATH, by_query)
        reading = read_once(SolarLog(SolarLogOptions(url=server.url, exclude_devices=devices)))
        return reading, [json.loads(r.body) for r in server.requests]


def test_the_summary_gives_the_recorded_readings_and_is_asked_for_by_post():
    reading, requests = read("solarlog/getjp_801_170_day.json")
    assert_expected(reading, "solarlog/getjp_801_170_day.json")
    (r,) = requests
    assert (r.method, r.path, json.loads(r.body)) == ("POST", "/getjp", {"801": {"170": None}})
    assert r.headers["X-SL-CSRF-PROTECTION"] == "1"


def test_with_a_battery_the_grid_is_unknown():
    reading, _ = read("solarlog/getjp_801_170_day.json", battery=True)
    assert (reading.generation_w, reading.consumption_w, reading.grid_import_w) == (
        2891.0, 3110.0, None)
    kind = kinds()["solarlog"]
    assert kind.roles(SolarLogOptions(url="http://x", battery=True)) == (
        "generation", "consumption")


def test_a_logger_that_updates_is_an_error_not_zero_watts():
    with pytest.raises(SourceError, match="updating.*01.01.99"):
        read("solarlog/getjp_801_170_during_update.json")


def test_query_impossible_is_an_error_that_quotes_the_answer():
    with pytest.raises(SourceError, match='not JSON: {"QUERY IMPOSSIBLE 000"}'):
        read("solarlog/getjp_query_impossible.txt")


def test_the_per_device_powers():
    want = EXPECTED["solarlog/getjp_782_power_per_inverter.json"]["inverter_power_w"]
    got = parse_devices(json.loads(recorded("solarlog/getjp_782_power_per_inverter.json")))
    assert got == {int(k): float(v) for k, v in want.items()}


def test_excluded_devices_leave_the_consumption_but_not_the_grid():
    reading, queries = read_excluding([3])
    assert queries == [{"801": {"170": None}}, {"782": None}]
    assert (reading.generation_w, reading.consumption_w, reading.grid_import_w) == (
        2891.0, 3110.0 - 2816.0, 219.0)


def test_an_excluded_device_the_logger_does_not_list_is_an_error():
    with pytest.raises(SourceError, match="no device 7 .*it lists 0, 1, 2, 3"):
        read_excluding([7])


def test_without_excluded_devices_one_query_is_enough():
    _, requests = read("solarlog/getjp_801_170_day.json")
    assert len(requests) == 1


@pytest.mark.parametrize("reply,words", [
    (Reply(b"oops", 500), "HTTP 500"),
    (Reply(b"{}", delay_s=0.5), "no answer within 0.2 s"),
    (Reply(b'{"801": {"170": {"100": "ACCESS DENIED"}}}'), "asks for a login"),
    (Reply(b'{"801": {"170": {"100": "26.08.24 14:19:45", "101": "x"}}}'),
     "801.170.101 .solar power. is 'x', not a number"),
    (Reply(b'{"801": {}}'), "no 801.170")])
def test_failures_say_why(reply, words):
    with pytest.raises(SourceError, match=words):
        read(reply, timeout_s=0.2)
