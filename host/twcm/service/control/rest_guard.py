"""What every request to the REST API passes before any route sees it (docs/api.md#what-the-
server-refuses), so that another web site open in the user's browser can neither change
nor read anything:

- the Host header must be one of the server's names ([api] hosts, plus localhost,
  127.0.0.1, [::1] and the bind address): a page whose name was rebound to 127.0.0.1 (DNS
  rebinding) sends its own name, and gets 421;
- a request that may change something (any method but GET, HEAD and OPTIONS) is refused
  with 403 if it has an Origin header other than the server's own ([api] origins adds
  more), and with 415 if it has a body, or is a POST, without Content-Type
  application/json: a form or a no-cors fetch from another page can only send a POST with
  text/plain, form or multipart bodies.

A body over MAX_BODY is refused (413); one sent in chunks is cut off there.

It also puts the security headers on every answer: nothing may frame the page, run
scripts or load anything from elsewhere, nor guess a content type.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY = 64 * 1024  # the largest body taken (a schedule of many windows is a few KB)
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; "
                                 b"base-uri 'none'; form-action 'self'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def host_name(host: str) -> str:
    """A Host header or a bind address as a name to compare: lower case, no port, IPv6 in
    brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    if host.count(":") > 1:  # a bare IPv6 address (a bind address)
        return f"[{host}]"
    return host.partition(":")[0]


class Guard:
    """ASGI middleware: the Host, Origin and Content-Type checks, and the headers. `app`
    is a Starlette app: a request that none of its routes takes goes on to its 404 or
    405 (it cannot change anything)."""

    def __init__(self, app: Any, hosts: Iterable[str], origins: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(host_name(h) for h in (*LOCAL_HOSTS, *hosts))
        self.origins = frozenset(o.lower().rstrip("/") for o in origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is not None:
            status, error = refusal
            body = json.dumps({"error": error, "problems": []}).encode()
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()), *HEADERS]})
            await send({"type": "http.response.body", "body": body})
            return

        taken = 0

        async def capped() -> Message:
            nonlocal taken
            message = await receive()
            taken += len(message.get("body", b""))
            return {"type": "http.disconnect"} if taken > MAX_BODY else message

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in HEADERS if h[0] not in have)]
            await send(message)
        await self.app(scope, capped, with_headers)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, error) for a request refused here; None for one that may go on."""
        headers: dict[str, str] = {}
        for k, v in scope.get("headers", []):
            name = k.decode("latin-1").lower()
            if name in headers and name in ("host", "origin", "content-type"):
                return 400, f"the {name} header is given twice"
            headers[name] = v.decode("latin-1")
        host = headers.get("host", "")
        if host_name(host) not in self.hosts:
            return 421, (f"this server does not answer to the name {host!r} (fix: if that "
                         f"is how you reach it, add {host_name(host)!r} to [api] hosts in "
                         "twcm.toml; it guards against DNS rebinding)")
        length = headers.get("content-length", "0")
        if not length.isdigit():
            return 400, "the Content-Length header is not a number"
        if int(length) > MAX_BODY:
            return 413, f"the body is over {MAX_BODY} bytes"
        method = scope["method"]
        if method in SAFE or not any(r.matches(scope)[0] == Match.FULL
                                     for r in self.app.router.routes):
            return None
        origin = headers.get("origin")
        if origin is not None:
            o = origin.lower().rstrip("/")
            if o not in self.origins and o not in (f"http://{host.lower()}",
                                                   f"https://{host.lower()}"):
                return 403, (f"a request from the web page at {origin!r} may not change "
                             "anything here (fix: if that page is yours, add its origin to "
                             "[api] origins in twcm.toml)")
        kind = headers.get("content-type", "").partition(";")[0].strip().lower()
        has_body = int(length) > 0 or "transfer-encoding" in headers
        if (method == "POST" or has_body) and kind != "application/json":
            return 415, (f"a {method} must have Content-Type: application/json, not "
                         f"{kind or 'none'} (fix: send the body as JSON with that header)")
        return None
