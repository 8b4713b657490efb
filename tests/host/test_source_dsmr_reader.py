"""The DSMR-reader source: its MQTT JSON telegram, parsed and heard on a real mosquitto."""
from __future__ import annotations

import asyncio
import json
import time

import pytest
from meter_server import API, assert_expected, run_closing
from mqtt_helpers import Watcher
from mqtt_sources import broker_url, heard

from twcm.service.sources import SourceError
from twcm.service.sources.integrations.dsmr_reader import DsmrReader, DsmrReaderOptions, parse

FIXTURE = "dsmr/dsmr_reader_mqtt_json_export.json"
TELEGRAM = json.loads((API / FIXTURE).read_text())


def listen(mosquitto, payload, **kw):
    pub = Watcher(mosquitto, [], client_id="dsmr-reader")
    src = DsmrReader(DsmrReaderOptions(broker=broker_url(mosquitto), **kw))
    try:
        return run_closing(src, lambda s: heard(s, pub, kw.get("topic", "dsmr/json"), payload))
    finally:
        pub.close()


def test_the_recorded_telegram_heard_on_the_broker(mosquitto):
    before = time.time()
    reading = listen(mosquitto, TELEGRAM)
    assert_expected(reading, FIXTURE)
    assert reading.phase_amps == (-3.0, -4.0, -3.0)  # every phase exports
    assert reading.volts == pytest.approx((240.4 + 239.1 + 241.2) / 3)
    assert before <= reading.at <= time.time()


def test_another_topic_and_values_as_strings(mosquitto):
    strings = {k: str(v) for k, v in TELEGRAM.items()}
    strings["electricity_currently_delivered"] = "1.193"
    strings["electricity_currently_returned"] = "0.000"
    strings["phase_currently_delivered_l2"] = "0.5"
    strings["phase_currently_returned_l2"] = "0"
    reading = listen(mosquitto, strings, topic="home/p1/json")
    assert reading.grid_import_w == pytest.approx(1193.0)
    assert reading.phase_amps == (-3.0, 4.0, -3.0)


def test_currents_are_given_only_with_their_direction():
    partial = {k: v for k, v in TELEGRAM.items() if not k.startswith("phase_currently")}
    assert parse(partial, 0.0).phase_amps is None
    no_currents = {k: v for k, v in TELEGRAM.items() if "power_current" not in k}
    assert parse(no_currents, 0.0).phase_amps is None
    single = {k: v for k, v in TELEGRAM.items()
              if not k.endswith(("l2", "l3"))}
    assert parse(single, 0.0).phase_amps == (-3.0,)
    assert parse({"electricity_currently_delivered": 0.2,
                  "electricity_currently_returned": 0}, 0.0).volts is None


def test_a_telegram_without_the_power_fields_is_an_error():
    with pytest.raises(SourceError, match="no electricity_currently_delivered"):
        parse({"electricity_delivered_1": 4512.4}, 0.0)
    with pytest.raises(SourceError, match="'n/a', not a number"):
        parse({**TELEGRAM, "electricity_currently_returned": "n/a"}, 0.0)


def test_a_bad_payload_names_the_topic(mosquitto):
    with pytest.raises(SourceError, match="payload on dsmr/json is not JSON"):
        listen(mosquitto, "1-0:1.7.0(00.193*kW)")
    with pytest.raises(SourceError, match="dsmr/json: the telegram is not a JSON object"):
        listen(mosquitto, [1, 2])


def test_a_broker_that_is_down_is_a_clear_error(mosquitto):
    mosquitto.kill()
    src = DsmrReader(DsmrReaderOptions(broker=broker_url(mosquitto)))

    async def body(src: DsmrReader):
        for _ in range(100):
            with pytest.raises(SourceError) as e:
                await src.read()
            if "yet:" in str(e.value):
                return str(e.value)
            await asyncio.sleep(0.02)
    assert "nothing received on dsmr/json yet" in run_closing(src, body)
