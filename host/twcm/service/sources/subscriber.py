"""Listening to one MQTT topic in the background, for the sources that are pushed to
(integrations mqtt and dsmr_reader).

A pushed value has no poll to fail: the feed reads the latest message whenever it likes,
and that message's age (Reading.at = when it was received) is what tells whether the
device still talks. So a lost broker is not an error of read() once something came: the
value just ages until the feed calls it stale, and the subscriber logs why.

Retained messages are skipped by default: the broker keeps them for any length of time,
so the moment one arrives says nothing about how old it is.
"""
from __future__ import annotations

import asyncio
import logging
import time

import aiomqtt
from pydantic import field_validator, model_validator

from twcm.mqtt import KEEPALIVE_S, Broker, keep_session, parse_broker
from twcm.service.sources import Options, SourceError
from twcm.service.sources.secrets import EnvName, env_value

log = logging.getLogger("twcm.sources")

CONNECT_TIMEOUT_S = 10.0


class BrokerOptions(Options):
    """The keys of a source that listens to one topic."""

    broker: str  # mqtt://[user[:password]@]host[:port] or mqtts://...
    password_env: EnvName = None  # or the password in this environment variable
    topic: str
    retained: bool = False  # also take a retained message (a device that sends on change)

    @field_validator("broker")
    @classmethod
    def _broker(cls, v: str) -> str:
        parse_broker(v, None)
        return v

    @field_validator("topic")
    @classmethod
    def _topic(cls, v: str) -> str:
        if not v or "+" in v or "#" in v or "\0" in v:
            raise ValueError('give one topic without wildcards (+ or #), e.g. "meter/power"')
        return v

    @model_validator(mode="after")
    def _user(self) -> BrokerOptions:
        self.broker_of()
        return self

    def broker_of(self) -> Broker:
        """The broker to connect to, its password maybe from the environment."""
        try:
            return parse_broker(self.broker, env_value(self.password_env))
        except ValueError as e:
            raise ValueError(str(e).replace(" (in the URL or $TWCM_MQTT_PASSWORD)",
                                            " (in the URL or password_env)")) from None


class Subscriber:
    """The latest message on `topic`, listened to from the first latest() on and until
    close(), reconnecting after 1, 2, 4 ... 60 s while the broker cannot be reached."""

    def __init__(self, broker: Broker, topic: str, retained: bool = False) -> None:
        self.broker, self.topic, self.retained = broker, topic, retained
        self.error: str | None = None  # why it is not connected; None while it is
        self._last: tuple[bytes, float] | None = None
        self._task: asyncio.Task[None] | None = None

    def latest(self) -> tuple[bytes, float]:
        """The last payload and the time.time() it was received; SourceError while
        nothing has been received."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name=f"mqtt {self.topic}")
        if self._last is None:
            why = f": {self.error}" if self.error else ""
            raise SourceError(f"nothing received on {self.topic} yet{why}")
        return self._last

    async def _listen(self) -> None:
        await keep_session(self.broker, self._session, self._lost,
                           timeout=CONNECT_TIMEOUT_S, keepalive=KEEPALIVE_S)

    async def _session(self, client: aiomqtt.Client) -> None:
        granted = await client.subscribe(self.topic)
        if any(getattr(code, "is_failure", False) for code in granted):
            raise aiomqtt.MqttError(f"the broker refuses to let this user subscribe to "
                                    f"{self.topic}: check its ACL")
        if self.error is not None:
            log.info("%s: connected again, listening to %s", self.broker, self.topic)
        self.error = None
        async for message in client.messages:
            if message.retain and not self.retained:
                continue
            payload = message.payload
            self._last = (payload if isinstance(payload, bytes)
                          else str(payload).encode(), time.time())

    def _lost(self, e: Exception, delay: float) -> None:
        assert isinstance(e, aiomqtt.MqttError)
        text = f"{self.broker}: {describe(e)}"
        if text != self.error:  # once per kind of failure
            log.warning("%s (listening to %s); trying again in %g s", text, self.topic,
                        delay)
        self.error = text

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None


def describe(e: aiomqtt.MqttError) -> str:
    """An MQTT failure in a user's words."""
    text = str(e)
    low = text.lower()
    if "authori" in low or "user name or password" in low:
        return f"the broker refuses the login ({text}): check the user and password"
    if "refused" in low or "connect call failed" in low:
        return f"cannot connect ({text}): is the broker running at this address and port?"
    if "name or service" in low or "name resolution" in low:
        return f"cannot find the host ({text}): check the broker address"
    return text
