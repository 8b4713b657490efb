"""The whole demo: an embedded broker, the simulated device, and the host's site loop
tracking a simulated solar day, each as in production, on this computer.

The site is what a twcm.toml would make of a home with `--slaves` Wall Connectors and
solar panels: green tracking on the "sim" source. The solar day runs `speed` times
faster than the clock, and the site loop runs on its time (DayClock), so that the policy
behaves as on a real day, sped up, and Charge Now for an hour lasts an hour of it. The
bus, the Wall Connectors, the cars and the meter run in real time: the site loop never
turns or changes the current faster than they can follow (MIN_INTERVAL_S, MIN_CHANGE_S
real seconds), and takes readings as old, in real seconds, as on a real day.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, time as dtime
from pathlib import Path
from tempfile import TemporaryDirectory

from twc.share import Limits
from twcm.service.config import SiteConfig
from twcm.service.control import Api, Control, MqttControl
from twcm.service.control.tokens import MemoryTokens
from twcm.demo.device import SimDevice
from twcm.demo.scenario import Scenario, timeline
from twcm.demo.view import Frame, LiveView, PlainView
from twcm.service.devicelink import DeviceLink, EmbeddedBroker
from twcm.mqtt import PASSWORD_ENV, parse_broker
from twcm.service.policy import GreenSettings, Settings
from twcm.service.sources.integrations.sim import Sim
from twcm.service.site import SiteLoop
from twcm.service.status.ha_discovery import HaDiscovery
from twcm.service.status.options import HomeAssistantConfig
from twcm.service.history.site_records import SiteRecords
from twcm.service.history.sql import SqlBackend
from twcm.service.history.writer import Writer
from twcm.service.store import Store

SITE = "demo"
PEAK_W = 9000.0  # the panels: enough at midday for three cars at 12 A
FALLBACK_AMPS = 0  # the device without a lease: every amp comes from the host's policy
# Real seconds: the site loop's turn and the policy's change interval never go below
# these, as the cars take a second or two to follow a new offer.
MIN_INTERVAL_S = 0.5
MIN_CHANGE_S = 2.0
WEB_PORT = 8080  # as `twcm run` serves it
UPDATE_S = 0.25  # the view is redrawn and the scenario moved on this often


@dataclass(frozen=True)
class Options:
    slaves: int = 3
    wiring_max_amps_all: int = 40
    wiring_max_amps_per_twc: int = 32
    speed: float = 60.0  # simulated seconds per real second
    start: str = "10:00"  # simulated time of day at the start: the sun is up, the car charges
    duration_s: float = 0.0  # real seconds; 0: until Ctrl-C or SIGTERM
    every_s: float = 1.0  # plain view: a line this often (real seconds)
    live: bool = True  # the rich view, else plain lines
    broker: str | None = None  # an MQTT broker's URL instead of the embedded one


class DayClock:
    """The simulated time, as the "sim" source keeps it when made at the same moment
    with the same start and speed; the site loop's clock (twcm.service.clock) too: its
    wall clock is today at `start` and runs `speed` times faster, its intervals are real
    seconds (SiteLoop.run sleeps them), and the meter's readings, stamped by the system
    clock, age `speed` times faster."""

    def __init__(self, start: str, speed: float) -> None:
        hh, mm = start.split(":")
        self.start_s = int(hh) * 3600 + int(mm) * 60
        self.speed = speed
        self.t0 = time.monotonic()
        self.wall0 = datetime.combine(date.today(), dtime(int(hh), int(mm))).timestamp()

    def elapsed_s(self) -> float:
        """Simulated seconds since the start."""
        return (time.monotonic() - self.t0) * self.speed

    def hhmm(self) -> str:
        minutes = int(self.start_s + self.elapsed_s()) // 60 % (24 * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def time(self) -> float:
        return self.wall0 + self.elapsed_s()

    def monotonic(self) -> float:
        return time.monotonic()

    def age_s(self, stamp: float) -> float:
        return (time.time() - stamp) * self.speed


def site_config(o: Options) -> SiteConfig:
    """The demo's site, for a site loop on DayClock: the policy's settings of a real day,
    but for the floors the real-time world sets, in simulated seconds: a raise at most
    every MIN_CHANGE_S real seconds, readings as old as max_reading_age_s real seconds."""
    interval_s = SiteConfig.model_fields["interval_s"].default
    change_s = max(GreenSettings.change_interval_s, MIN_CHANGE_S * o.speed)
    return SiteConfig.model_validate({
        "name": SITE,
        "max_amps": o.wiring_max_amps_all,
        "interval_s": max(MIN_INTERVAL_S, interval_s / o.speed),  # real seconds
        # The sim meter's consumption includes the cars (run() adds their draw to it).
        "policy": {"max_reading_age_s": Settings.max_reading_age_s * o.speed,
                   "green": {"change_interval_s": change_s, "subtract_charger_load": True}},
        "source": {"type": "sim", "peak_w": PEAK_W, "speed": float(o.speed),
                   "start": o.start},
    })


def _meter(site: SiteLoop) -> Sim:
    """The site's "sim" source: the meter the cars' draw is added to, as a consumption
    meter whose circuit includes the Wall Connectors sees it."""
    (feed,) = site.meters.feeds
    assert isinstance(feed.source, Sim)
    return feed.source


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _animate(o: Options, clock: DayClock, site: SiteLoop, device: SimDevice,
                   view: PlainView | LiveView) -> None:
    """Move the scenario on and hand the view a new frame, until cancelled."""
    scenario = Scenario(timeline(o.slaves))
    while True:
        for plug in scenario.due(clock.elapsed_s()):
            device.plug(plug.twc, plug.plugged)
            twc = f"TWC {device.slaves[plug.twc].id:04X}"
            view.event(f"a car arrives at {twc}" if plug.plugged else f"the car at {twc} leaves")
        r, d = site.reading, site.decision
        view.show(Frame(clock.hhmm(), None if r is None else r.generation_w,
                        None if r is None else r.consumption_w,
                        None if r is None else r.grid_import_w, site.sent,
                        d.set_by.source if d and d.set_by else None,
                        d.reason if d else "waiting for the first turn", device.view()))
        await asyncio.sleep(UPDATE_S)


async def _web(site: SiteLoop, store: Store) -> tuple[Api, str]:
    """The web page and REST API of `twcm run`, for the demo's site: on port 8080 as
    `twcm run` has it, or on any free port if 8080 is taken; with a throwaway admin token
    (in memory only), returned with it."""
    tokens = MemoryTokens()
    token = tokens.add("demo", "admin")
    for port in (WEB_PORT, 0):
        api = Api(Control([site]), tokens, "127.0.0.1", port, store)
        try:
            await api.start()
            return api, token
        except OSError:
            continue
    raise OSError("no free port for the web page")


async def run(o: Options) -> int:
    """Run the demo until o.duration_s is over, SIGINT or SIGTERM; the exit code."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if o.duration_s:
        loop.call_later(o.duration_s, stop.set)
    broker = EmbeddedBroker(_free_port()) if o.broker is None else None
    url = broker.url if broker is not None else o.broker
    api: Api | None = None
    state = TemporaryDirectory(prefix="twcm-demo-")  # the device's files and the database
    db = Path(state.name) / "twcm.db"  # as twcm run records: the page's chart, the sessions
    store = Store(db)
    writer = Writer([("database", SqlBackend(db))])
    try:
        try:
            if broker is not None:
                await broker.start()
        except Exception as e:
            print(f"twcm demo: error: cannot start the embedded MQTT broker on {url}: "
                  f"{e}", file=sys.stderr)
            return 1
        clock = DayClock(o.start, o.speed)
        site = SiteLoop(site_config(o), store, clock, records=SiteRecords(SITE, writer))
        api, token = await _web(site, store)
        about = (f"{o.slaves} TWC(s) on a {o.wiring_max_amps_all} A circuit "
                 f"({o.wiring_max_amps_per_twc} A each), the sun x{o.speed:g}, "
                 f"broker {parse_broker(url, None)}, "
                 f"web page http://127.0.0.1:{api.port}/#token={token}")
        view = (LiveView(about, clock.hhmm) if o.live
                else PlainView(about, clock.hhmm, o.every_s))
        limits = Limits(o.wiring_max_amps_all, o.wiring_max_amps_per_twc, FALLBACK_AMPS)
        with view:
            mqtt = parse_broker(url, os.environ.get(PASSWORD_ENV))
            device = SimDevice(o.slaves, limits, mqtt, SITE,
                               Path(state.name), view.event, o.speed)
            _meter(site).add_load(device.cars_w)
            device.start()
            link = DeviceLink(url, [site.link])
            # As twcm run: MQTT control, and Home Assistant discovery of its entities.
            ha = HaDiscovery(url, [site], HomeAssistantConfig())
            tasks = [asyncio.create_task(link.run(), name="device link"),
                     asyncio.create_task(MqttControl(url, Control([site])).run(),
                                         name="mqtt control"),
                     asyncio.create_task(ha.run(), name="home assistant discovery"),
                     asyncio.create_task(site.run(), name=f"site {SITE}"),
                     asyncio.create_task(_animate(o, clock, site, device, view), name="view")]
            try:
                await stop.wait()
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                device.stop()
        return 0
    finally:
        if api is not None:
            await api.stop()
        if broker is not None:
            await broker.stop()
        await asyncio.to_thread(writer.close)
        store.close()
        state.cleanup()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def main(o: Options) -> int:
    """Run the demo; the service's own log shows warnings only (the view says the rest)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("amqtt").setLevel(logging.ERROR)  # its shutdown warns of the last state
    return asyncio.run(run(o))
