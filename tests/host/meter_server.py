"""A local HTTP server for source tests: it serves the recorded responses in
tests/fixtures/api (copied from ../shared/fixtures; expected values in expected.json) and
records each request, so a test sees what an integration asked for. Also a local Modbus
TCP server, and running a source once and closing it."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

API = Path(__file__).resolve().parents[1] / "fixtures" / "api"
EXPECTED: dict[str, dict[str, Any]] = json.loads((API / "expected.json").read_text())


def recorded(name: str) -> bytes:
    """A recorded response, by its path under tests/fixtures/api, e.g. "fronius/x.json"."""
    return (API / name).read_bytes()


@dataclass
class Reply:
    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Request:
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value, its name in any case."""
        return {k.lower(): v for k, v in self.headers.items()}.get(name.lower())


Answer = Callable[[Request], Reply]
"""A route that replies by the request (its body, its cookie ...)."""


def reply_of(reply: Reply | bytes | str, **kw: Any) -> Reply:
    """A Reply of a body or, for a str, of the recorded response file it names; `kw`:
    the Reply's other fields."""
    if isinstance(reply, str):
        kind = "application/json" if reply.endswith(".json") else (
            "text/xml" if reply.endswith(".xml") else "text/plain")
        return Reply(recorded(reply), content_type=kind, **kw)
    if isinstance(reply, bytes):
        return Reply(reply, **kw)
    return reply


class MeterServer:
    """`with MeterServer() as s: s.route("/path", Reply(...)); ... s.url`"""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Answer] = {}
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, self.path, dict(self.headers.items()), body)
                server.requests.append(request)
                path = self.path
                route = server.routes.get(path) or server.routes.get(path.split("?")[0])
                reply = route(request) if callable(route) else route
                if reply is None:
                    reply = Reply(b'{"error": "not found"}', 404)
                if reply.delay_s:
                    threading.Event().wait(reply.delay_s)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def route(self, path: str, reply: Reply | Answer | bytes | str, **kw: Any) -> None:
        """Serve `reply` at `path` (the query string is matched if the route has one);
        a function answers each request; else as reply_of()."""
        self.routes[path] = reply if callable(reply) else reply_of(reply, **kw)

    def __enter__(self) -> MeterServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


T = TypeVar("T")


def run_closing(source: Any, body: Callable[[Any], Awaitable[T]]) -> T:
    """asyncio.run(body(source)), then source.close() whatever happened."""
    async def go() -> T:
        try:
            return await body(source)
        finally:
            await source.close()
    return asyncio.run(go())


def read_once(source: Any) -> Any:
    """One source.read() (a twcm.service.sources.Reading), then source.close()."""
    return run_closing(source, lambda s: s.read())


def closed_port() -> int:
    """A local TCP port that nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def silent_port() -> AsyncIterator[int]:
    """A local TCP port that takes connections and never answers."""
    silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    try:
        yield silent.sockets[0].getsockname()[1]
    finally:
        silent.close()


def read_registers(make: Callable[[int], Any], regs: dict[int, list[int]],
                   unit_id: int) -> Any:
    """A source's first read() (it reads twice, the second time on the same connection,
    and must get the same readings) from pymodbus's TCP server on a local port, holding
    `regs` (by start address) for `unit_id`; an address it does not hold answers Modbus
    exception 2 (illegal data address). make(port): the source."""
    async def go() -> Any:
        device = SimDevice(id=unit_id, simdata=[
            SimData(address=a, values=list(v), datatype=DataType.REGISTERS)
            for a, v in sorted(regs.items())])
        server = ModbusTcpServer(device, address=("127.0.0.1", 0))
        await server.serve_forever(background=True)
        source = make(server.transport.sockets[0].getsockname()[1])
        try:
            first = await source.read()
            again = await source.read()
            assert replace(again, at=first.at) == first
            return first
        finally:
            await source.close()
            await server.shutdown()
    return asyncio.run(go())


def assert_expected(reading: Any, name: str, value_field: str | None = None) -> None:
    """`reading` (a twcm.service.sources.Reading) holds what expected.json says for `name`.

    Our Reading keeps grid import and export as one signed grid_import_w; a single-item
    source puts expected "value_w" into `value_field` (the role its config gives it)."""
    want = EXPECTED[name]
    assert want["valid"], f"{name} is a recorded failure: test that it raises"
    checks: dict[str, Any] = {}
    for key in ("generation_w", "consumption_w", "battery_w"):
        if key in want:
            checks[key] = want[key]
    if "grid_import_w" in want or "grid_export_w" in want:
        imp, exp = want.get("grid_import_w"), want.get("grid_export_w")
        checks["grid_import_w"] = None if imp is None and exp is None else (imp or 0) - (exp or 0)
    if "battery_soc_pct" in want:
        checks["battery_soc"] = want["battery_soc_pct"]
    if "voltage_v" in want:
        checks["volts"] = want["voltage_v"]
    if "value_w" in want:
        assert value_field is not None, f"{name}: say which field holds the item's value"
        checks[value_field] = want["value_w"]
    for key, value in checks.items():
        got = getattr(reading, key)
        if value is None:
            assert got is None, f"{name}: {key} is {got}, expected None (not known)"
        else:
            assert got is not None and abs(got - value) < 0.01, \
                f"{name}: {key} is {got}, expected {value}"
