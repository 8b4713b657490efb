"""Who may use the REST API (docs/api.md#authentication): a bearer token of kind admin
(everything) or read_only (status, settings and history, no change), from tokens.py.

A wrong token, at login or on any request, is answered late: each failure from a client
adds to a per-client delay (0.5 s, 1 s, 2 s, ... at most MAX_DELAY_S), forgotten after
FORGET_S without failures or on a success. The wait is an asyncio sleep, so the service
goes on meanwhile. A token has 256 random bits, so this is a brake on noise, not what keeps
tokens safe.
"""
from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from twcm.service.control.rest_errors import ApiError
from twcm.service.control.tokens import Kind, Token, TokenFile

BASE_DELAY_S = 0.5
MAX_DELAY_S = 8.0
FORGET_S = 900.0
MAX_CLIENTS = 1024  # the least recently failing ones are forgotten past this

bearer = HTTPBearer(auto_error=False, description="a twcm token (`twcm token add`)")


class Throttle:
    """Failures per client (its address), and the delay each one earned."""

    def __init__(self, base_s: float = BASE_DELAY_S, max_s: float = MAX_DELAY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base_s, self.max_s, self.clock = base_s, max_s, clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def failures(self, client: str) -> int:
        n, at = self._failures.get(client, (0, 0.0))
        return n if self.clock() - at < FORGET_S else 0

    def failed(self, client: str) -> float:
        """Count a failure; the delay to wait before answering it."""
        n = self.failures(client) + 1
        self._failures[client] = (n, self.clock())
        self._failures.move_to_end(client)
        while len(self._failures) > MAX_CLIENTS:
            self._failures.popitem(last=False)
        return self.delay(n)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def delay(self, failures: int) -> float:
        """The wait after the n-th failure in a row: base_s doubling, at most max_s."""
        return 0.0 if failures <= 0 else min(self.max_s, self.base_s * 2 ** min(failures - 1, 30))


class Auth:
    """The token check of one app: the token file and the throttle."""

    def __init__(self, tokens: TokenFile, throttle: Throttle | None = None) -> None:
        self.tokens = tokens
        self.throttle = throttle or Throttle()

    async def check(self, request: Request, secret: str) -> Token:
        """The token for `secret`; ApiError 401 after the client's delay if there is none.
        A token file that cannot be read is a 503 naming the file (nobody gets in)."""
        client = request.client.host if request.client else "?"
        try:
            token = self.tokens.check(secret)
        except (OSError, ValueError) as e:
            raise ApiError(503, f"cannot read the token file: {e}") from None
        if token is None:
            await asyncio.sleep(self.throttle.failed(client))
            raise ApiError(401, "this token is not valid (fix: check it, or make a new one "
                                "with `twcm token add NAME` on the service's machine)")
        self.throttle.succeeded(client)
        return token


def need(kind: Kind) -> Callable[..., Awaitable[Token]]:
    """A dependency: the request's bearer token, which must be of `kind` (an admin token
    may do all a read_only one may); 401 without a valid token, 403 for too little."""
    async def dependency(request: Request, credentials: HTTPAuthorizationCredentials | None
                         = Depends(bearer)) -> Token:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "this needs a token: send the header 'Authorization: Bearer "
                                "<token>' (make one with `twcm token add NAME`)")
        auth: Auth = request.app.state.auth
        token = await auth.check(request, credentials.credentials)
        if kind == "admin" and token.kind != "admin":
            raise ApiError(403, f"the token {token.name!r} is read_only: this needs an admin "
                                "token (`twcm token add NAME` makes one)")
        return token
    return dependency


read = Depends(need("read_only"))
admin = Depends(need("admin"))
