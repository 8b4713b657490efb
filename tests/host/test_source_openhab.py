"""The openHAB source against a local server serving recorded item states."""
from __future__ import annotations

import json

import pytest
from meter_server import API, MeterServer, Reply, assert_expected, read_once

from twcm.service.sources import Reading, SourceError
from twcm.service.sources.integrations.openhab import Openhab, OpenhabOptions, parse_state

STATE = "/rest/items/Solar_Power/state"


def read(server: MeterServer, **kw):
    options = {"url": server.url, "item": "Solar_Power", "role": "consumption", **kw}
    return read_once(Openhab(OpenhabOptions(**options)))


@pytest.mark.parametrize("name", ["item_state_plain.txt", "item_state_with_unit_W.txt",
                                  "item_state_with_unit_kW.txt"])
def test_states_give_watts_whatever_their_unit(name):
    with MeterServer() as server:
        server.route(STATE, f"openhab/{name}")
        reading = read(server)
        assert "Authorization" not in server.requests[0].headers
    assert_expected(reading, f"openhab/{name}", value_field="consumption_w")


def test_the_json_form_of_an_item_has_the_same_state_text():
    doc = json.loads((API / "openhab/item_json.json").read_text())
    watts = parse_state(doc["state"], "Solar_Consumption")
    assert_expected(Reading(consumption_w=watts), "openhab/item_json.json",
                    value_field="consumption_w")


@pytest.mark.parametrize("name, why", [("item_state_NULL.txt", "never set"),
                                       ("item_state_UNDEF.txt", "undefined")])
def test_null_and_undef_are_errors_not_zero(name, why):
    with MeterServer() as server:
        server.route(STATE, f"openhab/{name}")
        with pytest.raises(SourceError, match=f"item Solar_Power is {why}"):
            read(server)


def test_a_token_is_sent_when_given_and_a_refusal_asks_for_one():
    with MeterServer() as server:
        server.route(STATE, Reply(b"", 401, "text/plain"))
        with pytest.raises(SourceError, match="give an API token"):
            read(server)
        server.route(STATE, "openhab/item_state_plain.txt")
        read(server, token="oh.twcm.xyz")
        assert server.requests[-1].headers["Authorization"] == "Bearer oh.twcm.xyz"


def test_errors_name_the_item_or_the_cause():
    with MeterServer() as server:
        with pytest.raises(SourceError, match="no item Solar_Power"):
            read(server)  # not routed: 404
        server.route(STATE, Reply(b"ON", content_type="text/plain"))
        with pytest.raises(SourceError, match="'ON', not a number"):
            read(server)
        server.route(STATE, Reply(b"20 kWh", content_type="text/plain"))
        with pytest.raises(SourceError, match="'kWh', not W or kW"):
            read(server)
        server.route(STATE, Reply(b"", 500, "text/plain"))
        with pytest.raises(SourceError, match="HTTP 500"):
            read(server)
        server.route(STATE, Reply(b"1", content_type="text/plain", delay_s=1.0))
        with pytest.raises(SourceError, match="no answer within"):
            read(server, timeout_s=0.2)


def test_scale_flips_a_grid_item_that_counts_export_positive():
    with MeterServer() as server:
        server.route(STATE, "openhab/item_state_with_unit_kW.txt")
        assert read(server, role="grid", scale=-1.0).grid_import_w == -2500.0
