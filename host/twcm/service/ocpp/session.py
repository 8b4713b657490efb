"""One site's OCPP session: the websocket to the CSMS (security profiles 0-2), the boot,
the heartbeat, the meter values, the status notifications, and the queue of transaction
messages, with reconnection.

    session = Session(site, config, state_path)
    await session.run()      # until cancelled

- Connects to <url>/<charge_point_id> with the "ocpp1.6" subprotocol; profile 1 and 2
  send HTTP basic auth (the charge point id and the password from password_env), profile
  2 over TLS (wss://) checked against `ca` (else the system's CAs).
- A lost or refused connection is retried after 1, 2, 4, ... up to BACKOFF_MAX_S seconds.
- BootNotification first, again after `interval` while Pending or Rejected; nothing else
  is sent until it is Accepted. Then each connector's status, then the queue in order
  (point.py keeps it in the state file across restarts), heartbeats every
  HeartbeatInterval (the Boot's interval, or ChangeConfiguration's).
- Every second the device's latest state goes to the Point (statuses, transactions) and,
  when the limits changed, to the site loop (SiteLoop.set_outside).
- Reset (hard or soft): the transactions stop, the session closes and connects anew,
  booting again; the site loop, the device and the cars are not restarted.
"""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import ssl
from pathlib import Path
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from twcm import __version__
from twcm.service.config import OcppConfig
from twcm.service.site import SiteLoop

from .charge_point import ChargePoint
from .point import Point

log = logging.getLogger("twcm.ocpp")

WATCH_S = 1.0
BACKOFF_MAX_S = 60.0
CALL_TIMEOUT_S = 30


def load_state(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        log.error("OCPP: cannot read %s (%s): starting afresh", path, e)
        return {}


def save_state(path: Path, data: dict[str, Any]) -> None:
    """Write the state file whole or not at all."""
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError as e:
        log.error("OCPP: cannot write %s: %s", path, e)


class Session:
    def __init__(self, site: SiteLoop, config: OcppConfig, state_path: Path,
                 clock: Any = None) -> None:
        self.site = site
        self.config = config
        wall = clock or site.clock
        self.point = Point(config.mode, config.id_tag, wall.time, load_state(state_path),
                           lambda d: save_state(state_path, d), config.meter_interval_s)
        self.cp: ChargePoint | None = None
        self.booted = asyncio.Event()
        self.wake = asyncio.Event()
        self.connects = 0
        self.last_error: str | None = None
        self._restart = False
        self._triggers: list[tuple[str, int | None]] = []
        self._statuses_sent: dict[int, tuple] = {}
        self.point.limits.session = self.status

    # -- the connection ------------------------------------------------------------------

    def _connect_args(self) -> dict[str, Any]:
        c = self.config
        args: dict[str, Any] = {"subprotocols": ["ocpp1.6"], "open_timeout": 10,
                                "ping_interval": self.point.keys.seconds(
                                    "WebSocketPingInterval") or None}
        if c.security_profile in (1, 2) and c.password_env:
            secret = f"{c.charge_point_id}:{os.environ[c.password_env]}".encode()
            args["additional_headers"] = {
                "Authorization": "Basic " + base64.b64encode(secret).decode()}
        if c.url.startswith("wss://"):
            args["ssl"] = ssl.create_default_context(
                cafile=None if c.ca is None else str(Path(c.ca).expanduser()))
        return args

    def url(self) -> str:
        return self.config.url.rstrip("/") + "/" + self.config.charge_point_id

    async def run(self) -> None:
        """Connect, serve, reconnect with back-off, until cancelled."""
        self.site.set_outside("ocpp", self.point.limits)
        watch = asyncio.create_task(self._watch(), name="ocpp watch")
        delay = 1.0
        try:
            while True:
                try:
                    async with connect(self.url(), **self._connect_args()) as ws:
                        self.connects += 1
                        delay = 1.0
                        log.info("OCPP: connected to %s", self.url())
                        await self._serve(ws)
                except (OSError, WebSocketException, asyncio.TimeoutError) as e:
                    self.last_error = str(e) or type(e).__name__
                    log.warning("OCPP: %s: %s; again in %.0f s", self.url(), self.last_error,
                                delay)
                except Exception as e:  # a bug of ours or the CSMS's: never the end of OCPP
                    self.last_error = repr(e)
                    log.exception("OCPP: the session failed; again in %.0f s", delay)
                self.cp = None
                self.booted.clear()
                if self._restart:
                    self._restart = False
                    continue
                await asyncio.sleep(delay)
                delay = min(BACKOFF_MAX_S, delay * 2)
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            self.site.set_outside("ocpp", None)

    async def _serve(self, ws: Any) -> None:
        cp = ChargePoint(self.config.charge_point_id, ws, self.point, self._changed,
                         self._trigger, self._reset, CALL_TIMEOUT_S)
        self.cp = cp
        tasks = [asyncio.create_task(cp.start(), name="ocpp receive"),
                 asyncio.create_task(self._talk(cp), name="ocpp send")]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                t.result()  # the connection's end, as an exception
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _reset(self) -> None:
        """Reset: _talk sends the transactions' stops, then closes the connection."""
        self._restart = True
        self.wake.set()

    def _trigger(self, what: str, connector: int | None) -> None:
        self._triggers.append((what, connector))
        self.wake.set()

    def _changed(self) -> None:
        self._push()
        self.wake.set()

    # -- what goes to the CSMS ----------------------------------------------------------------

    async def _call(self, cp: ChargePoint, payload: Any) -> Any:
        return await cp.call(payload, suppress=False)

    async def _boot(self, cp: ChargePoint) -> None:
        while True:
            r = await self._call(cp, call.BootNotification(
                charge_point_model="TWC gen 2", charge_point_vendor="twcm",
                firmware_version=__version__))
            if r.interval:
                self.point.keys.defaults["HeartbeatInterval"] = str(r.interval)
            if r.status == "Accepted":
                log.info("OCPP: the CSMS accepted the boot (heartbeat every %s s)",
                         self.point.keys.get("HeartbeatInterval"))
                self.booted.set()
                return
            log.warning("OCPP: the CSMS answered the boot %s; again in %s s", r.status,
                        r.interval or 60)
            await asyncio.sleep(r.interval or 60)

    async def _talk(self, cp: ChargePoint) -> None:
        """Boot, then send what is due until the connection ends."""
        await self._boot(cp)
        self._statuses_sent = {}
        loop = asyncio.get_running_loop()
        beat_at = meter_at = loop.time()
        while True:
            now = loop.time()
            beat = self.point.keys.seconds("HeartbeatInterval")
            if beat and now >= beat_at + beat:
                await self._call(cp, call.Heartbeat())
                beat_at = now
            every = self.point.keys.seconds("MeterValueSampleInterval")
            if every and now >= meter_at + every:
                self.point.sample()
                meter_at = now
            await self._triggered(cp)
            await self._send_queue(cp)
            if self._restart:  # Reset: the stops are out; boot anew on a new connection
                await cp._connection.close()
                return
            await self._send_statuses(cp)
            self.wake.clear()
            wait = min([x for x in (beat_at + beat if beat else None,
                                    meter_at + every if every else None) if x is not None]
                       + [now + WATCH_S]) - loop.time()
            try:
                await asyncio.wait_for(self.wake.wait(), max(0.05, wait))
            except asyncio.TimeoutError:
                pass

    async def _triggered(self, cp: ChargePoint) -> None:
        while self._triggers:
            what, connector = self._triggers.pop(0)
            if what == "BootNotification":
                await self._boot(cp)
            elif what == "Heartbeat":
                await self._call(cp, call.Heartbeat())
            elif what == "StatusNotification":
                for c in [connector] if connector else list(self._statuses_sent):
                    self._statuses_sent.pop(c, None)
            elif what == "MeterValues":
                for c in [connector] if connector else sorted(self.point.slaves):
                    self.point.meter(c, "Trigger")

    async def _send_statuses(self, cp: ChargePoint) -> None:
        for c, (status, error, info) in sorted(self.point.statuses.items()):
            if self._statuses_sent.get(c) == (status, error, info):
                continue
            await self._call(cp, call.StatusNotification(
                connector_id=c, error_code=error, status=status, info=info,
                timestamp=None))
            self._statuses_sent[c] = (status, error, info)

    async def _send_queue(self, cp: ChargePoint) -> None:
        while (head := self.point.head()) is not None:
            action, payload = head
            try:
                r = await self._call(cp, getattr(call, action)(**payload))
            except OCPPError as e:  # the CSMS refused it: sending it again will not help
                log.error("OCPP: the CSMS answered our %s with %s: dropped", action, e)
                self.point.sent()
                continue
            m = self.point.sent()
            if action == "StartTransaction":
                self.point.started(m["local"], {"transaction_id": r.transaction_id,
                                                "id_tag_info": r.id_tag_info})
                self._push()
            elif action == "StopTransaction":
                self.point.tx_ids.pop(m["local"], None)

    # -- the device's state, and the site loop ------------------------------------------------

    def _push(self) -> None:
        """The limits changed: the site loop decides again with them."""
        if self.point.changed:
            self.point.changed = False
            self.point.save()
            try:
                self.site.set_outside("ocpp", self.point.limits)
            except Exception:
                log.exception("OCPP: the site loop could not take the new limits")

    async def _watch(self) -> None:
        while True:
            link = self.site.link
            self.point.limits.site_limit = link.limit
            self.point.observe(link.state, link.health(self.site.clock.monotonic()) == "online")
            self._push()
            self.wake.set()
            await asyncio.sleep(WATCH_S)

    def status(self) -> dict[str, Any]:
        return {"connected": self.cp is not None and self.booted.is_set(),
                "connects": self.connects, "last_error": self.last_error,
                "queued": len(self.point.queue)}
