"""The one MQTT module both programs share: what a broker URL means, and how the host's
asyncio users (the device link, MQTT control, MQTT meter sources) hold a session.

`twcm master` talks to its broker with paho-mqtt (master/mqtt_link.py), which reconnects
on its own with BACKOFF_S; `twcm run` uses aiomqtt through `client()` and `keep_session()`.
Nothing here imports either program.
"""
from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    import aiomqtt

PASSWORD_ENV = "TWCM_MQTT_PASSWORD"
KEEPALIVE_S = 30
BACKOFF_S = (1.0, 60.0)  # reconnect delay, doubled after each failure
URL_FORM = ("give mqtt://[user[:password]@]host[:port], or mqtts://...[?ca=/path/ca.pem] "
            "for TLS")


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    user: str | None
    password: str | None = field(repr=False)
    ca: str | None = None
    """mqtts:// only: the CA bundle (PEM) that signs the broker's certificate; None: the
    system's CA store. Either way the certificate and the host name are checked."""

    def __str__(self) -> str:  # for messages: no credentials
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


def parse_broker(url: str, env_password: str | None) -> Broker:
    """The broker of a URL; ValueError says what is wrong and the fix.

    env_password ($TWCM_MQTT_PASSWORD) is used when the URL has a user but
    no password, which keeps the password out of `ps` and config files.
    """
    u = urlsplit(url)
    if u.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"{url!r} is not an MQTT broker URL; {URL_FORM}")
    try:
        port = u.port if u.port is not None else (8883 if u.scheme == "mqtts" else 1883)
    except ValueError:  # not a number, or above 65535
        port = 0
    if not port:
        raise ValueError(f"{url!r} has no valid port (1-65535); {URL_FORM}")
    if not u.hostname or u.path not in ("", "/") or u.fragment:
        raise ValueError(f"{url!r} must give a host, maybe a port, nothing else; {URL_FORM}")
    ca = _ca(url, u.query, u.scheme == "mqtts")
    user = unquote(u.username) if u.username else None
    password = unquote(u.password) if u.password is not None else env_password
    if password is not None and user is None:
        raise ValueError(f"a password (in the URL or ${PASSWORD_ENV}) needs a user: "
                         "give mqtt://user@host")
    return Broker(u.hostname, port, u.scheme == "mqtts", user, password, ca)


def _ca(url: str, query: str, tls: bool) -> str | None:
    """The `ca` of a URL's query, checked: only for mqtts://, a readable file."""
    if not query:
        return None
    q = parse_qs(query, keep_blank_values=True)
    if set(q) != {"ca"} or len(q["ca"]) != 1 or not q["ca"][0]:
        raise ValueError(f"{url!r}: the only query a broker URL takes is ?ca=FILE; {URL_FORM}")
    if not tls:
        raise ValueError(f"{url!r}: ca= is for TLS: give mqtts://")
    ca = q["ca"][0]
    if not Path(ca).is_file():
        raise ValueError(f"{url!r}: the CA file {ca} does not exist: give the PEM file of "
                         "the CA that signed the broker's certificate")
    return ca


def tls_context(broker: Broker) -> ssl.SSLContext:
    """A client TLS context that checks the broker's certificate and host name against
    broker.ca, or the system's CA store."""
    return ssl.create_default_context(cafile=broker.ca)


def client(broker: Broker, **kw: Any) -> aiomqtt.Client:
    """An aiomqtt client for `broker`: its credentials, and TLS for mqtts://."""
    import aiomqtt  # the master side never needs it

    return aiomqtt.Client(broker.host, broker.port, username=broker.user,
                          password=broker.password,
                          tls_context=tls_context(broker) if broker.tls else None,
                          **kw)


async def keep_session(broker: Broker, serve: Callable[[aiomqtt.Client], Awaitable[None]],
                       on_error: Callable[[Exception, float], None], **kw: Any) -> None:
    """Serve broker sessions for ever: connect, `await serve(client)`, and when the
    connection fails (an aiomqtt.MqttError from connecting or from serve) tell
    on_error(error, delay) and connect again after a back-off of 1, 2, 4 ... 60 s. A
    session that connected resets the back-off. Returns only if serve returns; ends by
    cancelling the task. kw goes to client() (keepalive, timeout, ...).
    """
    import aiomqtt

    delay = BACKOFF_S[0]
    while True:
        try:
            async with client(broker, **kw) as c:
                delay = BACKOFF_S[0]
                await serve(c)
                return
        except aiomqtt.MqttError as e:
            on_error(e, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, BACKOFF_S[1])
