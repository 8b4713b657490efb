"""`twcm run`: the host service. Per site, every interval_s: read the meters, let the policy
decide the site limit, lease it to the device, record it. One MQTT link serves all sites;
without a configured broker an embedded one runs on 127.0.0.1.

What goes wrong is logged and the service goes on: a meter that cannot be read (no green
claim then: the policy never charges from assumed sun), an unreachable broker (DeviceLink
retries), a device that publishes garbage (SiteLink ignores it). Leases never exceed the
site's max_amps nor the device's wiring limit (SiteLink clamps them).
"""
from __future__ import annotations

import asyncio
import logging
import signal
import time
from dataclasses import asdict
from datetime import datetime
from zoneinfo import ZoneInfo

from twcm.api import Api
from twcm.config import Config, SiteConfig
from twcm.control import Control
from twcm.devicelink import DeviceLink, EmbeddedBroker, SiteLink
from twcm.mqtt_control import MqttControl
from twcm.policy import ChargeNow, Decision, Inputs, NonScheduled, Policy
from twcm.policy.device_schedule import device_schedule
from twcm.sources import Reading, kinds
from twcm.sources.combine import Combined, Meters
from twcm.sources.feed import Feed
from twcm.store import Store
from twcm.wait import wake_or_timeout

log = logging.getLogger("twcm.service")

SCHEDULE_EVERY_S = 300.0


def _unleased(decision: Decision, policy: Policy) -> bool:
    """True when the decision rests on nothing: green tracking without readings (its
    default claim won). Then no lease is sent and the device follows its own schedule or
    fallback, as it would without a host."""
    tracking = policy.settings.non_scheduled is NonScheduled.TRACK_GREEN
    return decision.set_by is None or (tracking and decision.set_by.source == "default")


def meters(config: SiteConfig) -> Meters:
    """The site's sources as feeds, with its combination rules."""
    feeds = []
    for src in config.sources():
        kind = kinds()[src.type]
        source = kind.make(kind.options.model_validate(src.options()))
        feeds.append(Feed(src.label(), src.type, source, src.role_list(), src.every_s(),
                          src.age_limit_s()))
    rules = {k: v for k, v in config.combine.model_dump().items() if v is not None}
    return Meters(feeds, rules)


class SiteLoop:
    """One site: its sources, policy and SiteLink, and the loop that ties them."""

    def __init__(self, config: SiteConfig, store: Store | None) -> None:
        self.config = config
        self.policy = Policy(config.settings())
        self.meters = meters(config)
        self.link = SiteLink(config.name, config.max_amps, ttl_s=config.ttl_s)
        self.store = store
        self.zone = ZoneInfo(config.timezone) if config.timezone else None
        self._restore_charge_now()
        self._shown: tuple | None = None
        self._stale: dict[str, str | None] = {}
        self._wake = asyncio.Event()
        self._schedule: list[dict[str, int]] | None = None  # last pushed to the device
        self._schedule_at: float | None = None
        # The last turn, for views (twcm demo) and status: readings, decision, amps leased.
        self.reading: Reading | None = None
        self.combined: Combined | None = None
        self.decision: Decision | None = None
        self.sent: int | None = None

    async def run(self) -> None:
        """Poll the sources and decide every interval_s until cancelled; a turn that
        fails is logged, not fatal."""
        feeds = [asyncio.create_task(f.run(), name=f"source {f.name}")
                 for f in self.meters.feeds]
        try:  # the first decision waits a moment for the first readings
            await asyncio.wait([asyncio.create_task(f.tried.wait()) for f in self.meters.feeds],
                               timeout=self.config.interval_s)
            while True:
                started = time.monotonic()
                try:
                    await self.turn()
                except Exception:
                    log.exception("site %s: this turn failed; trying again", self.config.name)
                left = self.config.interval_s - (time.monotonic() - started)
                await wake_or_timeout(self._wake, left)
                self._wake.clear()
        finally:
            for t in feeds:
                t.cancel()
            await asyncio.gather(*feeds, return_exceptions=True)

    def _restore_charge_now(self) -> None:
        """Charge Now that was running when twcm stopped goes on until its end."""
        saved = self.store.charge_now(self.config.name) if self.store else None
        if saved is None or saved[1] <= time.time():
            return
        amps, until = saved
        self.policy.charge_now_request = ChargeNow(min(amps, self.config.max_amps),
                                                   datetime.fromtimestamp(until, self.zone)
                                                   .astimezone(self.zone))
        log.info("site %s: Charge Now %d A goes on until %s", self.config.name, amps,
                 self.policy.charge_now_request.until.strftime("%a %H:%M"))

    def remember_charge_now(self) -> None:
        """Save the policy's Charge Now (or its end), so a restart keeps it."""
        if self.store is None:
            return
        request = self.policy.charge_now_request
        try:
            if request is None:
                self.store.save_charge_now(self.config.name, None)
            else:
                self.store.save_charge_now(self.config.name, request.amps,
                                           request.until.timestamp())
        except Exception as e:  # the request holds in memory; only a restart would lose it
            log.error("site %s: cannot save Charge Now to %s: %s", self.config.name,
                      self.store.path, e)

    def now(self) -> datetime:
        """Now in the site's time zone (the policy's clock)."""
        return datetime.now(self.zone).astimezone(self.zone)

    def wake(self) -> None:
        """Decide again at once (a user changed something)."""
        self._wake.set()

    def _read(self) -> Reading | None:
        """The combined readings; a source turning stale or fresh again is logged once."""
        combined: Combined = self.meters.combine()
        self.combined = combined
        for f in combined.feeds:
            if self._stale.get(f.name, "") != f.stale:
                if f.stale is not None:
                    log.warning("site %s: source %s is not used: %s; what it gives is "
                                "unknown until it reads again", self.config.name, f.name,
                                f.stale)
                elif f.name in self._stale:
                    log.info("site %s: source %s is used again", self.config.name, f.name)
                self._stale[f.name] = f.stale
        return combined.reading

    def _push_schedule(self) -> None:
        """Keep the device's schedule (what it does while no lease is live, e.g. with the
        host down) in step with the weekly windows: checked every SCHEDULE_EVERY_S, sent
        when the next 48 hours look different."""
        mono = time.monotonic()
        if self._schedule_at is not None and mono - self._schedule_at < SCHEDULE_EVERY_S:
            return
        self._schedule_at = mono
        limit = self.link.limit
        windows = [{**w, "amps": min(w["amps"], limit)}
                   for w in device_schedule(self.policy.settings.windows, self.now())]
        if windows == self._schedule:
            return
        try:
            self.link.schedule(windows)
        except ValueError as e:
            log.warning("%s", e)
            return
        log.info("site %s: device schedule: %d window(s) in the next 48 h",
                 self.config.name, len(windows))
        self._schedule = windows

    async def turn(self) -> Decision:
        self._push_schedule()
        reading = self._read()
        wall = time.time()
        meters = {} if reading is None else {
            "generation_w": reading.generation_w, "consumption_w": reading.consumption_w,
            "grid_import_w": reading.grid_import_w, "battery_soc": reading.battery_soc,
            "grid_connected": reading.grid_connected,
            "meter_age_s": max(0.0, wall - reading.at)}
        state = self.link.state
        inputs = Inputs.from_state(asdict(state) if state else {}, **meters)
        decision = self.policy.decide(datetime.fromtimestamp(wall, self.zone)
                                      .astimezone(self.zone), inputs)
        name = self.config.name
        if _unleased(decision, self.policy):
            if self.link.lease_amps is not None:
                self.link.release(decision.reason)
            sent = None
        else:
            sent = self.link.want(decision.amps, decision.reason)
        shown = (sent, decision.set_by and decision.set_by.source,
                 decision.capped_by and decision.capped_by.source)
        if shown != self._shown:
            amps = "no lease (device on its own)" if sent is None else f"{sent} A"
            log.info("site %s: %s: %s", name, amps, decision.reason)
            self._shown = shown
        else:
            log.debug("site %s: %s", name, decision.reason)
        self.reading, self.decision, self.sent = reading, decision, sent
        if self.store is not None:
            self._record(wall, reading, sent, decision.reason)
        return decision

    def _record(self, wall: float, reading: Reading | None, sent: int | None,
                reason: str) -> None:
        assert self.store is not None
        try:
            self.store.sample(wall, self.config.name, reading, sent, reason)
            if self.link.state is not None:
                self.store.status(wall, self.config.name, self.link.state)
        except Exception as e:  # a full disk must not stop the charging decisions
            log.error("site %s: cannot write to the database %s: %s", self.config.name,
                      self.store.path, e)


async def serve(config: Config, stop: asyncio.Event | None = None) -> int:
    """Run the service until `stop` is set, SIGINT or SIGTERM; the exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await _serve(config, stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _start_api(config: Config, control: Control) -> Api | None:
    """The REST API, if enabled; a port in use is logged, and the service goes on."""
    if not config.api.enabled:
        return None
    api = Api(control, config.api.host, config.api.port)
    try:
        await api.start()
    except OSError as e:
        log.error("cannot serve the REST API on %s:%s: %s (fix: set [api] port to a free "
                  "port, or enabled = false); going on without it", api.host, api.port,
                  e.strerror or e)
        return None
    log.info("web page on http://%s:%d/ (REST API: /api/status)", api.host, api.port)
    return api


async def _serve(config: Config, stop: asyncio.Event) -> int:
    db = config.database.path()
    try:
        store = Store(db, config.database.status_every_s)
    except Exception as e:  # OSError, sqlite3.Error, a newer schema
        log.error("cannot open the database %s: %s (fix: set [database] sqlite to a "
                  "writable path)", db, e)
        return 1
    log.info("recording to %s", db)
    broker: EmbeddedBroker | None = None
    try:
        if config.broker is None:
            broker = EmbeddedBroker(config.embedded_broker.port)
            try:
                await broker.start()
            except Exception as e:
                log.error("cannot start the embedded MQTT broker on %s: %s (fix: free the "
                          "port, or set [embedded_broker] port or [broker] url)", broker.url, e)
                return 1
            url = broker.url
        else:
            url = config.broker.full_url()
        sites = [SiteLoop(s, store) for s in config.site]
        link = DeviceLink(url, [s.link for s in sites])
        control = Control(sites)
        tasks = [asyncio.create_task(link.run(), name="device link"),
                 asyncio.create_task(MqttControl(url, control).run(), name="mqtt control")]
        tasks += [asyncio.create_task(s.run(), name=f"site {s.config.name}") for s in sites]
        api = await _start_api(config, control)
        log.info("serving sites %s via %s", ", ".join(s.config.name for s in sites),
                 link.broker)
        await stop.wait()
        if api is not None:
            await api.stop()
        log.info("stopping: the devices follow their schedule or fallback when the leases "
                 "run out")
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return 0
    finally:
        if broker is not None:
            await broker.stop()
        store.close()
