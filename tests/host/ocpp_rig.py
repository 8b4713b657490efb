"""A central system (CSMS) written with the `ocpp` package, served over a real websocket
on 127.0.0.1, and a site loop driving the replay's simulated device (the firmware's
master core and its sharing function, three simulated Wall Connectors with cars), for
the OCPP charge point's tests."""
from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from twcm.replay.device import BusClock, Device
from twcm.service.config import Config, OcppConfig
from twcm.service.ocpp import Session
from twcm.service.site import SiteLoop

VINS = ("5YJ3E7EB3KF000001", "5YJYGDEE2LF000002", "LRW3E7EK9NC000003")
START = 1_800_000_000.0


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


class Csms(ChargePoint):
    """The CSMS's side of one charge point: it records every message in order."""

    def __init__(self, cp_id: str, ws: Any, server: CsmsServer) -> None:
        super().__init__(cp_id, ws, response_timeout=10)
        self.server = server

    async def route_message(self, raw_msg: Any) -> None:
        self.server.raw.append(raw_msg)
        await super().route_message(raw_msg)

    def _log(self, action: str, **kw: Any) -> None:
        self.server.log.append((action, kw))

    @on(Action.boot_notification)
    def boot(self, **kw: Any) -> call_result.BootNotification:
        self._log("BootNotification", **kw)
        return call_result.BootNotification(current_time=now_iso(),
                                            interval=self.server.heartbeat_s,
                                            status="Accepted")

    @on(Action.heartbeat)
    def heartbeat(self) -> call_result.Heartbeat:
        self._log("Heartbeat")
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    def status(self, **kw: Any) -> call_result.StatusNotification:
        self._log("StatusNotification", **kw)
        return call_result.StatusNotification()

    @on(Action.start_transaction)
    def start_tx(self, **kw: Any) -> call_result.StartTransaction:
        self.server.next_tx += 1
        kw["transaction_id"] = self.server.next_tx
        self._log("StartTransaction", **kw)
        status = "Invalid" if kw["id_tag"] in self.server.refuse else "Accepted"
        return call_result.StartTransaction(transaction_id=self.server.next_tx,
                                            id_tag_info={"status": status})

    @on(Action.stop_transaction)
    def stop_tx(self, **kw: Any) -> call_result.StopTransaction:
        self._log("StopTransaction", **kw)
        return call_result.StopTransaction(id_tag_info={"status": "Accepted"})

    @on(Action.meter_values)
    def meter(self, **kw: Any) -> call_result.MeterValues:
        self._log("MeterValues", **kw)
        return call_result.MeterValues()


class CsmsServer:
    """The CSMS on 127.0.0.1 (a free port, kept across stop() and start())."""

    def __init__(self) -> None:
        self.port = 0
        self.log: list[tuple[str, dict]] = []
        self.raw: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.cp: Csms | None = None
        self.heartbeat_s = 300
        self.next_tx = 100
        self.refuse: set[str] = set()
        self._server: Any = None

    async def start(self) -> None:
        self._server = await serve(self._handle, "127.0.0.1", self.port,
                                   subprotocols=["ocpp1.6"])
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()
        self.cp = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/"

    async def _handle(self, ws: Any) -> None:
        self.headers.append(dict(ws.request.headers))
        self.cp = Csms(ws.request.path.rsplit("/", 1)[-1], ws, self)
        try:
            await self.cp.start()
        except ConnectionClosed:
            pass

    def of(self, action: str, **match: Any) -> list[dict]:
        return [kw for a, kw in self.log if a == action
                and all(kw.get(k) == v for k, v in match.items())]


async def until(test: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll test() until it is true (returned), failing after `timeout` s."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        got = test()
        if got:
            return got
        if loop.time() > end:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)


SITE = {"name": "home", "max_amps": 32, "interval_s": 1.0,
        "policy": {"non_scheduled": "fixed", "non_scheduled_amps": 32},
        "source": {"type": "static", "generation_w": 0, "consumption_w": 500}}


class Rig:
    """The site loop on the simulated device; cars plugged on the TWCs `plugged`."""

    def __init__(self, tmp_path: Any, csms: CsmsServer, plugged: tuple[int, ...] = (0, 1),
                 **ocpp: Any) -> None:
        self.device = Device("home", 3, 32, 20)
        for slave, vin in zip(self.device.slaves, VINS):
            slave.car.vin = vin
        for i in plugged:
            self.device.slaves[i].car.plug()
        self.clock = BusClock(self.device.bus, START)
        site = copy.deepcopy(SITE) | {"ocpp": {"url": csms.url, "charge_point_id": "home-cp",
                                                "meter_interval_s": 1} | ocpp}
        self.config = Config.model_validate({"site": [site]}).site[0]
        self.site = SiteLoop(self.config, None, self.clock)
        self.device.run(15_000, self.site.link, self.clock)  # the master links the TWCs
        self.state_path = tmp_path / "ocpp-home.json"
        self.session = self.new_session()
        self._tasks: list[asyncio.Task] = []

    def new_session(self) -> Session:
        from twcm.service.clock import SYSTEM
        assert isinstance(self.config.ocpp, OcppConfig)
        return Session(self.site, self.config.ocpp, self.state_path, SYSTEM)

    async def __aenter__(self) -> Rig:
        self._tasks = [asyncio.create_task(self._pump()),
                       asyncio.create_task(self.session.run())]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _pump(self) -> None:
        """The bus and the site loop, on the bus's time, faster than real time."""
        while True:
            self.device.run(200, self.site.link, self.clock)
            self.site.turn()
            await asyncio.sleep(0.01)

    def twc(self, connector: int) -> int:
        """The index of the simulated TWC that is `connector`."""
        twc = self.session.point.limits.connectors[connector]
        return next(i for i, s in enumerate(self.device.master.slots)
                    if f"{s.id:04X}" == twc)

    def connector(self, slave: int) -> int:
        """The connector of the simulated TWC `slave` (0-2)."""
        return self.session.point.connector_of[f"{self.device.slaves[slave].id:04X}"]

    def offers(self) -> dict[int, int]:
        """Connector -> what the master offers its TWC now."""
        return {c: self.device.master.slots[self.twc(c)].offer
                for c in self.session.point.limits.connectors}


def state_file(rig: Rig) -> dict:
    return json.loads(rig.state_path.read_text())
