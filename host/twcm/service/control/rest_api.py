"""The REST API of `twcm run` (docs/api.md): status and Charge Now over HTTP/1.1 + JSON,
and the web page that shows them.

A deliberately small server on asyncio streams: one request per connection, bodies up to
64 KB, JSON in and out. It listens on 127.0.0.1 unless the config says otherwise, and has
no authentication: put a reverse proxy in front of it to reach it from elsewhere.

    GET    /api/status                   every site's status
    GET    /api/sites/<site>             one site's status
    POST   /api/sites/<site>/charge_now  {"amps": 16, "minutes": 60}
    DELETE /api/sites/<site>/charge_now  end Charge Now
    GET    /                             the web page (web/index.html)
    GET    /static/<name>                its files (web/<name>: a plain name, no folders)
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twcm.service.control.requests import Control, Rejected, UnknownSite

log = logging.getLogger("twcm.api")

MAX_BODY = 64 * 1024
_SITE = re.compile(r"/api/sites/([^/]+)(/charge_now)?")  # Control knows which sites exist
# The web page's files: a flat folder, served by name only (no "/", no "..": no way out).
WEB = Path(__file__).resolve().parent / "web"  # service/control/web/
_STATIC = re.compile(r"/static/([A-Za-z0-9_-][A-Za-z0-9_.-]{0,63})")
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
          ".ico": "image/x-icon", ".json": "application/json"}
# Everything the page needs comes from this server: no CDN, works offline on a LAN.
_PAGE_HEADERS = ("Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n"
                 "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n")
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 500: "Internal Server Error"}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class File:
    """A static answer: bytes and their Content-Type."""
    data: bytes
    content_type: str


def static_file(name: str) -> File:
    """web/<name>, if it is a file of a type we serve; HttpError 404 otherwise."""
    suffix = Path(name).suffix
    if ".." in name or suffix not in _TYPES:
        raise HttpError(404, f"no such file {name!r}")
    path = WEB / name
    try:
        if path.resolve().parent != WEB or not path.is_file():
            raise HttpError(404, f"no such file {name!r}")
        return File(path.read_bytes(), _TYPES[suffix])
    except OSError:
        raise HttpError(404, f"no such file {name!r}") from None


class Api:
    def __init__(self, control: Control, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.control, self.host, self.port = control, host, port
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._connection, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]  # the real one if 0 was asked

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def route(self, method: str, path: str, body: Any) -> Any:
        """The answer to one request (JSON-ready data, or a File of the web page);
        HttpError for a client's mistake."""
        path = path.split("?", 1)[0]
        page = _STATIC.fullmatch(path)
        if page is not None or path in ("/", "/index.html"):
            if method != "GET":
                raise HttpError(405, "use GET")
            return static_file("index.html" if page is None else page.group(1))
        path = path.rstrip("/")
        if path == "/api/status":
            if method != "GET":
                raise HttpError(405, "use GET")
            return {"sites": self.control.all_status()}
        m = _SITE.fullmatch(path)
        if m is None:
            raise HttpError(404, f"no such path {path!r}: see docs/api.md")
        site, charge_now = m.groups()
        try:
            if charge_now is None:
                if method != "GET":
                    raise HttpError(405, "use GET")
                return self.control.status(site)
            if method == "POST":
                return self.control.charge_now(site, body)
            if method == "DELETE":
                return self.control.cancel_charge_now(site)
            raise HttpError(405, "use POST to start Charge Now, DELETE to end it")
        except UnknownSite as e:
            raise HttpError(404, str(e)) from None
        except Rejected as e:
            raise HttpError(400, str(e)) from None

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        try:
            status, answer = await self._answer(reader)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError,
                ValueError):
            status, answer = 400, {"error": "not an HTTP/1.1 request"}
        if isinstance(answer, File):
            data, kind, extra = answer.data, answer.content_type, _PAGE_HEADERS
        else:
            data, kind, extra = json.dumps(answer).encode(), "application/json", ""
        head = (f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {kind}\r\n{extra}"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode()
        try:
            writer.write(head + data)
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        except ConnectionError:
            pass

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, Any]:
        line = (await reader.readuntil(b"\r\n")).decode("latin-1").split()
        if len(line) != 3:
            raise ValueError("bad request line")
        method, path, _ = line
        length = 0
        while (header := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = header.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length > MAX_BODY:
            return 413, {"error": f"the body is over {MAX_BODY} bytes"}
        raw = await reader.readexactly(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return 400, {"error": "the body is not JSON"}
        try:
            return 200, self.route(method, path, body)
        except HttpError as e:
            return e.status, {"error": str(e)}
        except Exception:
            log.exception("api: %s %s failed", method, path)
            return 500, {"error": "internal error: see the service's log"}
