"""One site of `twcm run`: its sources, policy and device link, the loop that ties them,
and the small public interface every control surface uses (Charge Now, settings, per-TWC
caps and start/stop, status).

Every interval_s: read the meters, let the policy decide the site limit, lease it to the
device, record it. What goes wrong is logged and the loop goes on: a meter that cannot
be read (no green claim then: the policy never charges from assumed sun), a device that
publishes garbage (SiteLink ignores it). Leases never exceed the site's max_amps nor the
device's wiring limit (SiteLink clamps them).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from twcm.service.clock import SYSTEM, Clock
from twcm.service.config import SiteConfig
from twcm.service.devicelink import SiteLink
from twcm.service.policy import ChargeNow, Decision, Policy, site_inputs
from twcm.service.policy.device_schedule import device_schedule
from twcm.service.policy.phases import CarPhases
from twcm.service.policy.outside import Outside
from twcm.service.sources import Reading, kinds
from twcm.service.sources.combine import Combined, Meters
from twcm.service.sources.feed import Feed
from twcm.service.settings import SiteSettings
from twcm.service.store import Store
from twcm.service.history.site_records import SiteRecords
from twcm.service import twc_checks
from twcm.service.cars import cars_status, device_rules
from twcm.service.car_plans import CarPlans
from twcm.service.tariffs.checks import forecast, prices

log = logging.getLogger("twcm.service")

SCHEDULE_EVERY_S = 300.0
MAX_CHARGE_NOW = timedelta(hours=24)


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
    """One site: its sources, policy and SiteLink, and the loop that ties them.

    `clock` is the system's unless given (replay and demo keep their own time); the
    meter readings come from the config's sources unless `readings` are given (replay's
    come from a trace); each turn is recorded through `records` (the history writer), if
    given."""

    def __init__(self, config: SiteConfig, store: Store | None, clock: Clock = SYSTEM,
                 readings: Meters | None = None, records: SiteRecords | None = None) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.records = records
        self.settings = SiteSettings(config, store.settings(config.name) if store else None,
                                     self._save_settings)
        self.policy = Policy(self.settings.settings)
        self.meters = meters(config) if readings is None else readings
        self.link = SiteLink(config.name, config.max_amps, ttl_s=config.ttl_s)
        self.prices = prices(config)  # the tariffs, the solar forecast, the cars' plans
        self.forecast = forecast(config)
        self.plans = CarPlans.of(config.car, config.forecast.house_w if config.forecast
                                 else 500.0)
        self.zone = ZoneInfo(config.timezone) if config.timezone else None
        self._restore_charge_now()
        for twc, amps in (store.twc_caps(config.name) if store else {}).items():
            self.link.cap(twc, amps)
        self._start_stop_at: dict[str, float] = {}  # TWC -> monotonic of its last command
        self.link.cars(device_rules(config.car))  # [[site.car]]: kept and applied on the device
        self.car_phases = CarPhases()  # the phases each TWC's car really draws on
        self._shown: tuple | None = None
        self._stale: dict[str, str | None] = {}
        self._schedule: list[dict[str, int]] | None = None  # last pushed to the device
        self._push_at: float | None = None
        # The last turn, for views (twcm demo) and status: readings, decision, amps leased.
        self.reading: Reading | None = None
        self.combined: Combined | None = None
        self.decision: Decision | None = None
        self.sent: int | None = None
        self.outside: dict[str, Outside] = {}  # set_outside: e.g. "ocpp" (service/ocpp/)

    async def run(self) -> None:
        """Poll the sources and decide every interval_s until cancelled; a turn that
        fails is logged, not fatal."""
        feeds = [asyncio.create_task(f.run(), name=f"source {f.name}")
                 for f in self.meters.feeds]
        feeds += [asyncio.create_task(f.run(self.now), name=f"tariff {f.name}")
                  for f in self.prices.feeds + ([self.forecast] if self.forecast else [])]
        try:  # the first decision waits a moment for the first readings
            await asyncio.wait([asyncio.create_task(f.tried.wait()) for f in self.meters.feeds],
                               timeout=self.config.interval_s)
            while True:
                started = self.clock.monotonic()
                try:
                    self.turn()
                except Exception:
                    log.exception("site %s: this turn failed; trying again", self.config.name)
                left = self.config.interval_s - (self.clock.monotonic() - started)
                await asyncio.sleep(max(0.0, left))
        finally:
            for t in feeds:
                t.cancel()
            await asyncio.gather(*feeds, return_exceptions=True)

    # -- the public interface: what control surfaces may call -----------------------------

    def charge_now(self, amps: int, duration: timedelta) -> Decision:
        """Charge at `amps` (0..max_amps) from now for `duration` (up to 24 h), above the
        schedule and green tracking; kept in the database, so a restart goes on with it.
        ValueError names what is wrong. Returns the decision taken with it."""
        if isinstance(amps, bool) or not isinstance(amps, int) \
                or not 0 <= amps <= self.config.max_amps:
            raise ValueError(f"amps must be a whole number 0-{self.config.max_amps}, "
                             f"not {amps!r}")
        if not timedelta(0) < duration <= MAX_CHARGE_NOW:
            raise ValueError(f"the duration must be above 0 and at most 24 h, not {duration}")
        self.policy.charge_now(amps, duration, self.now())
        self._remember_charge_now()
        return self.turn()

    def cancel_charge_now(self) -> Decision:
        """End Charge Now before its time; returns the decision taken without it."""
        self.policy.cancel_charge_now()
        self._remember_charge_now()
        return self.turn()

    def change_settings(self, changes: dict[str, Any]) -> Decision:
        """Change policy settings: a fragment of the [site.policy] table in its TOML words
        (e.g. {"non_scheduled": "fixed", "non_scheduled_amps": 10}; None drops a runtime
        change). Checked as the config file is; ValueError naming the key and the fix,
        and nothing changes, if any value is refused. Kept across restarts."""
        self.policy.update(self.settings.change(changes))
        self._push_at = None  # the windows may have changed: check the device's schedule
        return self.turn()

    def set_twc_cap(self, twc: str, amps: int | None) -> Decision:
        """Cap one Wall Connector at `amps` (0 up to the least of its rating and the per-TWC
        wiring), or None to remove its cap. `twc` is its id as the device's state lists it.
        The cap is kept across restarts and sent whenever the device lists that TWC; the
        device's sharing still decides every current, the cap only lowers that TWC's
        share. ValueError names what is wrong (an id the device does not list now: the
        ones it does; see twc_checks). Returns the site's decision."""
        twc = twc_checks.twc_id(twc)
        if amps is not None or twc not in self.link.twcs.caps:
            slave = twc_checks.listed(self.config.name, self.link.state, twc)
            if amps is not None:
                assert self.link.state is not None
                amps = twc_checks.cap_amps(self.config.name, self.link.state, slave, amps)
        if self.store is not None:  # failing, the cap is refused: it must survive a restart
            self.store.save_twc_cap(self.config.name, twc, amps)
        self.link.cap(twc, amps)
        log.info("site %s: TWC %s: %s", self.config.name, twc,
                 "cap removed" if amps is None else f"capped at {amps} A")
        return self.turn()

    def set_twc_charging(self, twc: str, charging: bool) -> Decision:
        """Tell one Wall Connector to start (True, FC B1) or stop (False, FC B2) charging:
        one command, sent once. Only where the site's config enables it (twc_start_stop;
        the device's config must too, or it refuses): opening the contactor under a car
        can leave it refusing to charge until re-plugged (docs/load-sharing.md).
        ValueError unless enabled, for a TWC that is not linked or speaks protocol 1, and
        within 10 s of the TWC's last command. Returns the site's decision."""
        twc = twc_checks.twc_id(twc)
        slave = twc_checks.listed(self.config.name, self.link.state, twc)
        mono = self.clock.monotonic()
        last = self._start_stop_at.get(twc)
        charging = twc_checks.startable(self.config.name, self.config.twc_start_stop, slave,
                                        charging, None if last is None else mono - last)
        self._start_stop_at[twc] = mono
        self.link.start_stop(twc, charging, mono)
        log.warning("site %s: TWC %s: %s charging (FC B%d) asked", self.config.name, twc,
                    "start" if charging else "stop", 1 if charging else 2)
        return self.turn()

    def set_car_soc(self, vin: str, soc: float | None) -> Decision:
        """The SoC (%) of a [[site.car]] whose SoC no vehicle API tells (None: forget it),
        for its plan to reach target_soc. ValueError names what is wrong."""
        self.plans.set_soc(vin, soc)
        return self.turn()

    def set_outside(self, name: str, outside: Outside | None) -> Decision:
        """Take claims, per-TWC ceilings and schedule windows from outside the policy (the
        OCPP charge point's, service/ocpp/limits.py) under `name`, or stop (None); call it
        again whenever they changed. They go the way of every current: a claim in the
        policy, the per-TWC caps and the lease, the device's sharing function. Returns
        the site's decision."""
        if outside is None:
            self.outside.pop(name, None)
        else:
            self.outside[name] = outside
        self._push_at = None  # the device's schedule may change with it
        return self.turn()

    def status(self) -> dict[str, Any]:
        """What the site does and why, its meters and its device, as JSON-ready data."""
        d, r, c = self.decision, self.reading, self.combined
        request = self.policy.charge_now_request
        if request is not None and request.until <= self.now():
            request = None
        state = self.link.state
        return {
            "site": self.config.name,
            "time": round(self.clock.time(), 1),
            "lease_amps": self.sent,
            "decision": None if d is None else {
                "amps": d.amps, "lease": d.lease, "reason": d.reason,
                "set_by": d.set_by and d.set_by.source,
                "capped_by": d.capped_by and d.capped_by.source,
                "claims": [{"source": x.source, "amps": x.amps, "reason": x.reason}
                           for x in d.claims]},
            "charge_now": None if request is None else {
                "amps": request.amps, "until": request.until.isoformat(timespec="seconds")},
            "readings": None if r is None else {k: v for k, v in asdict(r).items()
                                                if v is not None},
            "sources": [] if c is None else [
                {k: (round(v, 1) if isinstance(v, float) else v)
                 for k, v in asdict(f).items()} for f in c.feeds],
            "settings": self.settings.effective(),
            "twc_caps": self._caps_status(),
            "cars": cars_status(self.config.car, state),
            "prices": self.prices.status(self.clock.time()),
            "plans": self.plans.status(),
            "twc_start_stop": {"enabled": self.config.twc_start_stop,
                               "last": dict(self.link.twcs.word)},
            "device": {"health": self.link.health(self.clock.monotonic()),
                       "state": None if state is None else asdict(state)},
            **{name: o.status() for name, o in self.outside.items()},
            "history": None if self.records is None else self.records.status(),
        }

    # -- inside ------------------------------------------------------------------------

    def _caps_status(self) -> dict[str, dict[str, int | None]]:
        """Each per-TWC cap the host wants ("amps") and the device's cap in force for that
        TWC ("in_force", its state's cap_amps; None while not listed or not capped)."""
        state = self.link.state
        device = {s.id: s.cap_amps for s in state.slaves} if state is not None else {}
        return {twc: {"amps": amps, "in_force": device.get(twc)}
                for twc, amps in sorted(self.link.twcs.caps.items())}

    def _restore_charge_now(self) -> None:
        """Charge Now that was running when twcm stopped goes on until its end."""
        saved = self.store.charge_now(self.config.name) if self.store else None
        if saved is None or saved[1] <= self.clock.time():
            return
        amps, until = saved
        self.policy.charge_now_request = ChargeNow(min(amps, self.config.max_amps),
                                                   self._local(until))
        log.info("site %s: Charge Now %d A goes on until %s", self.config.name, amps,
                 self.policy.charge_now_request.until.strftime("%a %H:%M"))

    def _save_settings(self, runtime: dict[str, Any]) -> None:
        """Keep the runtime settings in the database; failing that, refuse the change (a
        setting the user sees accepted must survive a restart)."""
        if self.store is not None:
            self.store.save_settings(self.config.name, runtime)

    def _remember_charge_now(self) -> None:
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
        return self._local(self.clock.time())

    def _local(self, wall: float) -> datetime:
        return datetime.fromtimestamp(wall, self.zone).astimezone(self.zone)

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
        when the hours ahead (device_schedule.HORIZON_S) look different."""
        mono = self.clock.monotonic()
        if self._push_at is not None and mono - self._push_at < SCHEDULE_EVERY_S:
            return
        self._push_at = mono
        limit = self.link.limit
        windows = [{**w, "amps": min(w["amps"], limit)}
                   for w in device_schedule(self.policy.settings.windows, self.now(),
                                            extra=self.plans.spans())]
        fallback = None if self.link.state is None else self.link.state.fallback_amps
        for o in self.outside.values():
            windows = [{**w, "amps": min(w["amps"], limit)}
                       for w in o.windows(windows, fallback)]
        if windows == self._schedule:
            return
        try:
            self.link.schedule(windows, self.clock.time())
        except ValueError as e:
            log.warning("%s", e)
            return
        log.info("site %s: device schedule: %d window(s) in the next 47 h",
                 self.config.name, len(windows))
        self._schedule = windows

    def _plan(self) -> None:
        """The cars' plans, made again where due; a changed plan goes to the device."""
        now = self.now()
        solar = self.forecast.slots if self.forecast else []
        versions = (self.prices.version(), self.forecast.version if self.forecast else 0)
        if self.plans.update(now, self.link.state, self.policy.settings,
                             self.prices.slots(now.timestamp()), solar, versions):
            self._push_at = None
        self.policy.plans = self.plans.plans()

    def turn(self) -> Decision:
        """Read, decide, lease and record once; the decision."""
        self._plan()
        self._push_schedule()
        reading = self._read()
        age = 0.0 if reading is None else self.clock.age_s(reading.at)
        inputs = site_inputs(reading, self.link.state, age,
                             self.car_phases.update(self.link.state))
        wall = self.clock.time()
        decision = self.policy.decide(self._local(wall), inputs,
                                      [c for o in self.outside.values() for c in o.claims()])
        ceilings: dict[str, int] = {}
        for o in self.outside.values():
            for twc, amps in o.twc_caps().items():
                ceilings[twc] = min(amps, ceilings.get(twc, amps))
        self.link.ceil(ceilings)
        name = self.config.name
        if decision.lease:
            sent: int | None = self.link.want(decision.amps, decision.reason)
        else:
            if self.link.lease_amps is not None:
                self.link.release(decision.reason)
            sent = None
        shown = (sent, decision.set_by and decision.set_by.source,
                 decision.capped_by and decision.capped_by.source)
        if shown != self._shown:
            amps = "no lease (device on its own)" if sent is None else f"{sent} A"
            log.info("site %s: %s: %s", name, amps, decision.reason)
            self._shown = shown
        else:
            log.debug("site %s: %s", name, decision.reason)
        self.reading, self.decision, self.sent = reading, decision, sent
        if self.records is not None:
            try:  # queued for the history writer's thread: never waits on a disk or server
                self.records.turn(wall, reading, decision, sent, self.link.state)
            except Exception:
                log.exception("site %s: cannot record this turn", name)
        return decision
