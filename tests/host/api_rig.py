"""The REST API served for tests: a real uvicorn server on 127.0.0.1 (a free port), in an
event loop of its own thread, with real SiteLoops on a real SQLite store and a token
file. Everything the service would touch (the sites, the store) lives in that thread, as
in `twcm run`; `rig.call(fn)` runs fn there."""
from __future__ import annotations

import asyncio
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from twcm.service.config import Config
from twcm.service.control.requests import Control
from twcm.service.control.rest_api import Api
from twcm.service.control.tokens import TokenFile
from twcm.service.site import SiteLoop
from twcm.service.store import Store

T = TypeVar("T")
SITES = [{"name": "home", "max_amps": 24, "source": {"type": "static", "generation_w": 300}},
         {"name": "barn", "max_amps": 16, "source": {"type": "static"}}]
# A device state (docs/mqtt.md) with two Wall Connectors, for the TWC routes.
STATE = {"mode": "lease", "source": "lease", "limit_amps": 16, "wiring_max_amps_all": 40,
         "wiring_max_amps_per_twc": 32, "slaves": [
             {"id": "1A2B", "link": "linked", "protocol": 2, "max_amps": 32,
              "offered_amps": 16, "actual_amps": 15.9, "state": "charging", "volts": [231],
              "lifetime_kwh": 6843, "vin": "5YJ3E1EA7JF000001", "cap_amps": None},
             {"id": "32C4", "link": "linked", "protocol": 2, "max_amps": 32,
              "offered_amps": 0, "actual_amps": 0, "state": "ready", "volts": [230],
              "lifetime_kwh": None, "vin": None, "cap_amps": None}]}


class Rig:
    """`with Rig(tmp_path) as rig:` the API on rig.url; rig.admin and rig.reader are
    tokens of each kind."""

    def __init__(self, folder: Path, sites: list[dict] | None = None, **api: Any) -> None:
        self.folder, self.site_tables, self.api_options = folder, sites or SITES, api
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        # A token file of its own, so a second Rig on the same folder (a restart) has one.
        self.tokens = TokenFile(folder / f"api-tokens-{secrets.token_hex(4)}.json")
        self.admin = self.tokens.add("admin", "admin")
        self.reader = self.tokens.add("reader", "read_only")

    def __enter__(self) -> Rig:
        self.thread.start()
        self.call(self._open)
        asyncio.run_coroutine_threadsafe(self.api.start(), self.loop).result(10)
        self.url = f"http://127.0.0.1:{self.api.port}"
        return self

    def _open(self) -> None:
        self.store = Store(self.folder / "twcm.db")
        config = Config.model_validate({"site": self.site_tables})
        self.sites = {s.name: SiteLoop(s, self.store) for s in config.site}
        self.api = Api(Control(list(self.sites.values())), self.tokens, "127.0.0.1", 0,
                       self.store, **self.api_options)

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.api.stop(), self.loop).result(10)
        self.call(self.store.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def call(self, fn: Callable[[], T]) -> T:
        """fn() in the server's thread; its result."""
        done: Future = Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except BaseException as e:  # handed to the caller
                done.set_exception(e)
        self.loop.call_soon_threadsafe(run)
        return done.result(10)

    def device(self, site: str = "home", state: dict | None = None) -> None:
        """The site's device tells its state (two Wall Connectors)."""
        loop = self.sites[site]
        payload = json.dumps(state or STATE).encode()
        self.call(lambda: loop.link.receive("state", payload, loop.clock.monotonic()))

    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None
                ) -> tuple[int, Any]:
        """(status, JSON answer) of one request; `token` goes in the Authorization header,
        a `body` as JSON with its Content-Type."""
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
