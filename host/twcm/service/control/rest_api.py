"""The REST API of `twcm run` (docs/api.md) and the web page that uses it: a FastAPI app
served by uvicorn inside the service's own event loop.

    rest_guard.py     Host, Origin and Content-Type checks; security headers
    auth.py, tokens   bearer tokens (admin, read_only) and the delay after bad ones
    rest_sites.py     what it shows (GET)
    rest_settings.py  what it changes (an admin token)
    rest_models.py    the bodies and answers (the OpenAPI document at /api/openapi.json)

This module: the app, the routes without a token (health, login, the web page's files)
and `Api`, which starts and stops the server. Every route is `async def`: a SiteLoop is
used from the event loop only, never from a thread.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from twcm import __version__
from twcm.service.control import rest_errors, rest_models as m
from twcm.service.control.auth import Auth
from twcm.service.control.requests import Control
from twcm.service.control.rest_errors import ApiError, ErrorOut
from twcm.service.control.rest_guard import Guard
from twcm.service.control.rest_settings import router as settings_router
from twcm.service.control.rest_sites import router as sites_router
from twcm.service.control.tokens import TokenFile
from twcm.service.store import Store

log = logging.getLogger("twcm.api")

# The web page's files: a flat folder, served by name only (no "/", no "..": no way out).
WEB = Path(__file__).resolve().parent / "web"  # service/control/web/
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
          ".ico": "image/x-icon", ".json": "application/json"}
_NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def static_file(name: str) -> Response:
    """web/<name>, if it is a file of a type we serve; ApiError 404 otherwise."""
    suffix = Path(name).suffix
    if (not 0 < len(name) <= 64 or not set(name) <= _NAME_OK or name[0] == "."
            or ".." in name or suffix not in _TYPES):
        raise ApiError(404, f"no such file {name!r}")
    path = WEB / name
    try:
        if path.resolve().parent != WEB or not path.is_file():
            raise ApiError(404, f"no such file {name!r}")
        data = path.read_bytes()
    except OSError:
        raise ApiError(404, f"no such file {name!r}") from None
    return Response(data, media_type=_TYPES[suffix], headers={"Cache-Control": "no-cache"})


async def _one_of_each(request: Request) -> None:
    """A query key given twice is refused, not guessed at (which one would count?)."""
    twice = sorted({k for k in request.query_params if len(request.query_params.getlist(k)) > 1})
    if twice:
        raise ApiError(422, f"give {', '.join(twice)} once", [f"{k}: given more than once"
                                                               for k in twice])


def build_app(control: Control, auth: Auth, store: Store | None = None,
              hosts: tuple[str, ...] = (), origins: tuple[str, ...] = ()) -> Any:
    """The ASGI app: FastAPI behind the Guard. `hosts` and `origins` are accepted besides
    the local names and the server's own origin."""
    app = FastAPI(title="twcm", version=__version__, openapi_url="/api/openapi.json",
                  docs_url=None, redoc_url=None, redirect_slashes=False,
                  description="The REST API of `twcm run`: see docs/api.md.",
                  responses={"default": {"model": ErrorOut, "description": "refused"}},
                  dependencies=[Depends(_one_of_each)])
    app.state.control, app.state.auth, app.state.store = control, auth, store
    rest_errors.install(app)

    @app.get("/api/health", response_model=m.HealthOut)
    async def health() -> dict[str, Any]:
        """Answers while the service runs; no token needed."""
        return {"status": "ok"}

    @app.post("/api/login", response_model=m.LoginOut)
    async def login(request: Request, body: m.LoginIn) -> dict[str, Any]:
        """Check a token (for the web page): its name and kind; 401 (late) if not valid."""
        token = await auth.check(request, body.token)
        return {"name": token.name, "kind": token.kind}

    @app.get("/", include_in_schema=False)
    @app.get("/index.html", include_in_schema=False)
    async def page() -> Response:
        return static_file("index.html")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        return static_file(name)

    app.include_router(sites_router)
    app.include_router(settings_router)
    return Guard(app, hosts, origins)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the service has its own (serve.py)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Api:
    """The REST API served on host:port (port 0: a free one; `port` is then the real one).
    start() raises OSError if it cannot listen (or read the TLS files)."""

    def __init__(self, control: Control, tokens: TokenFile, host: str = "127.0.0.1",
                 port: int = 8080, store: Store | None = None, hosts: tuple[str, ...] = (),
                 origins: tuple[str, ...] = (), tls: tuple[str, str] | None = None) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.auth = Auth(tokens)
        self.app = build_app(control, self.auth, store, (host, *hosts), origins)
        self._server: _Server | None = None
        self._task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    async def start(self) -> None:
        config = uvicorn.Config(self.app, log_config=None, lifespan="off", access_log=False,
                                ssl_certfile=self.tls and self.tls[0],
                                ssl_keyfile=self.tls and self.tls[1],
                                timeout_graceful_shutdown=2)
        config.load()  # reads the TLS files: OSError (ssl.SSLError is one) if it cannot
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family)
        self.port = sock.getsockname()[1]
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="rest api")
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            sock.close()
            self._task.result()  # its exception
            raise OSError("the REST API stopped at its start")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task
