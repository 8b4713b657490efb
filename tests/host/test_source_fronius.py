"""The Fronius source against a local server serving recorded power-flow answers."""
from __future__ import annotations

import pytest
from meter_server import MeterServer, assert_expected, read_once

from twcm.service.sources import SourceError
from twcm.service.sources.integrations.fronius import PATH, Fronius, FroniusOptions


def read(name: str):
    with MeterServer() as server:
        server.route(PATH, f"fronius/{name}")
        return read_once(Fronius(FroniusOptions(url=server.url)))


@pytest.mark.parametrize("name", ["powerflow_day_import.json", "powerflow_night_null_pv.json",
                                  "powerflow_gen24_battery.json",
                                  "powerflow_export_load_meter.json"])
def test_power_flow_answers_give_the_recorded_readings(name):
    assert_expected(read(name), f"fronius/{name}")


def test_an_error_status_is_reported_with_its_reason():
    with pytest.raises(SourceError, match="error 12: Device not available"):
        read("error_device_not_available.json")
