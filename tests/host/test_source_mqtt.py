"""The MQTT topic source against a real mosquitto."""
from __future__ import annotations

import asyncio
import time

import pytest
from meter_server import run_closing
from mqtt_helpers import Watcher
from mqtt_sources import broker_url, heard
from pydantic import ValidationError

from twcm.service.sources import Reading, SourceError
from twcm.service.sources.feed import Feed
from twcm.service.sources.integrations.mqtt import Mqtt, MqttOptions

TOPIC = "house/meter/power"


def source(broker, **kw) -> Mqtt:
    return Mqtt(MqttOptions(**{"broker": broker_url(broker), "topic": TOPIC, "role": "grid",
                               **kw}))


async def first(src, pub: Watcher, payload) -> Reading:
    return await heard(src, pub, TOPIC, payload)


@pytest.fixture
def pub(mosquitto):
    w = Watcher(mosquitto, [], client_id="publisher")
    yield w
    w.close()


def test_a_number_is_read_dated_when_it_came(mosquitto, pub):
    async def body(src):
        before = time.time()
        reading = await first(src, pub, "-1234.5")
        assert before <= reading.at <= time.time()
        return reading
    reading = run_closing(source(mosquitto), body)
    assert reading.grid_import_w == -1234.5 and reading.generation_w is None


def test_json_with_a_path_units_and_scale(mosquitto, pub):
    async def body(src):
        return await first(src, pub, {"pv": {"kw": "1.5"}})
    src = source(mosquitto, path="pv.kw", scale=1000.0, role="generation")
    assert run_closing(src, body).generation_w == 1500.0
    reading = run_closing(source(mosquitto), lambda s: first(s, pub, "2.5 kW"))
    assert reading.grid_import_w == 2500.0


def test_the_latest_value_ages_until_the_feed_calls_it_stale(mosquitto, pub):
    async def body(src):
        feed = Feed("meter", "mqtt", src, ("grid",), interval_s=0.1, max_age_s=0.5)
        first_reading = await first(src, pub, "100")
        await asyncio.sleep(0.2)
        assert await feed.poll_once()
        assert feed.latest.at == first_reading.at  # no new message: the same date
        assert feed.fresh(time.time()) is not None
        await asyncio.sleep(0.5)
        assert await feed.poll_once()
        assert feed.fresh(time.time()) is None
        pub.publish(TOPIC, "200")
        for _ in range(100):
            reading = await src.read()
            if reading.grid_import_w == 200:
                break
            await asyncio.sleep(0.02)
        assert reading.at > first_reading.at
    run_closing(source(mosquitto), body)


def test_a_bad_payload_is_an_error_naming_the_topic(mosquitto, pub):
    async def body(src):
        await first(src, pub, "100")
        pub.publish(TOPIC, "ON")
        for _ in range(100):
            try:
                await src.read()
            except SourceError as e:
                return str(e)
            await asyncio.sleep(0.02)
    assert run_closing(source(mosquitto), body) == f"the payload on {TOPIC} is 'ON', not a number"
    src = source(mosquitto, path="power")
    with pytest.raises(SourceError, match=f"the payload on {TOPIC} is not JSON"):
        run_closing(src, lambda s: first(s, pub, "power=12"))
    with pytest.raises(SourceError, match=f"the payload on {TOPIC}: the answer has no power"):
        run_closing(source(mosquitto, path="power"), lambda s: first(s, pub, {"energy": 1}))


def test_retained_messages_are_used_only_when_asked(mosquitto, pub):
    pub.publish(TOPIC, "321")
    pub.c.publish(TOPIC, "777", qos=1, retain=True).wait_for_publish(5)

    async def body(src):
        await asyncio.sleep(0.05)
        with pytest.raises(SourceError):
            await src.read()  # starts listening
        for _ in range(100):
            try:
                return await src.read()
            except SourceError:
                await asyncio.sleep(0.02)
    assert run_closing(source(mosquitto, retained=True), body).grid_import_w == 777
    assert run_closing(source(mosquitto), body) is None


def test_a_broker_that_is_down_or_refuses_the_login_is_a_clear_error(mosquitto):
    async def body(src):
        for _ in range(100):
            with pytest.raises(SourceError) as e:
                await src.read()
            if "nothing received on house/meter/power yet:" in str(e.value):
                return str(e.value)
            await asyncio.sleep(0.02)
    wrong = Mqtt(MqttOptions(broker=broker_url(mosquitto, "wrong"), topic=TOPIC, role="grid"))
    assert "refuses the login" in run_closing(wrong, body)
    mosquitto.kill()
    assert "cannot connect" in run_closing(source(mosquitto), body)


def test_it_keeps_the_last_value_while_the_broker_is_gone_and_reconnects(mosquitto, pub):
    async def body(src):
        old = await first(src, pub, "100")
        mosquitto.kill()
        await asyncio.sleep(0.3)
        assert (await src.read()).at == old.at
        mosquitto.start()
        again = Watcher(mosquitto, [], client_id="publisher2")
        try:
            end = time.monotonic() + 10
            while (await src.read()).grid_import_w != 200 and time.monotonic() < end:
                again.publish(TOPIC, "200")
                await asyncio.sleep(0.1)
            assert (await src.read()).grid_import_w == 200
        finally:
            again.close()
    run_closing(source(mosquitto), body)


def test_options_are_checked(monkeypatch):
    base = {"topic": TOPIC, "role": "grid"}
    with pytest.raises(ValidationError, match="not an MQTT broker URL"):
        MqttOptions(broker="http://x", **base)
    with pytest.raises(ValidationError, match="without wildcards"):
        MqttOptions(broker="mqtt://x", topic="house/#", role="grid")
    with pytest.raises(ValidationError, match="MQTT_PW is not set"):
        MqttOptions(broker="mqtt://u@x", password_env="MQTT_PW", **base)
    with pytest.raises(ValidationError, match="needs a user"):
        MqttOptions(broker="mqtt://x", password_env="HOME", **base)
    monkeypatch.setenv("MQTT_PW", "pw")
    assert MqttOptions(broker="mqtt://u@x", password_env="MQTT_PW", **base).broker_of() \
        .password == "pw"
