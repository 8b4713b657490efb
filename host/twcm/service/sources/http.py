"""HTTP for sources: one client per source, errors turned into SourceError messages that
say what went wrong in a user's words (timeout, refused, HTTP status, not JSON)."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field, field_validator

from twcm.service.sources import Options, SourceError


def check_url(url: str) -> str:
    """A pydantic validator's check: an http(s) URL with a host."""
    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError('not an http(s) URL: give e.g. "http://192.168.1.20"')
    try:
        u.port  # noqa: B018  (a bad port raises)
    except ValueError:
        raise ValueError('the port is not a number from 1 to 65535: give e.g. '
                         '"http://192.168.1.20:8080"') from None
    return url.rstrip("/")


class HttpOptions(Options):
    """The keys every HTTP source has."""

    url: str
    timeout_s: float = Field(5.0, gt=0, le=60)
    verify_tls: bool = True  # False for devices with a self-signed certificate

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)


class Http:
    """An HTTP client bound to one base URL. Cookies persist between requests."""

    def __init__(self, base_url: str, timeout_s: float = 5.0, verify_tls: bool = True,
                 headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_s
        self._verify = verify_tls
        self._headers = headers or {}
        self._client: httpx.AsyncClient | None = None  # made on first use: no I/O before

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            # Loading the CA bundle takes ~25 ms of the event loop: only for https.
            verify = self._verify and self.base_url.startswith("https:")
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=self._timeout,
                                             verify=verify, headers=self._headers)
        return self._client

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The response, if its status is 2xx; SourceError otherwise."""
        where = f"{self.base_url}{path}"
        try:
            r = await self.client.request(method, path, **kw)
        except httpx.TimeoutException:
            raise SourceError(f"{where}: no answer within {self._timeout:g} s") from None
        except httpx.ConnectError as e:
            raise SourceError(f"{where}: cannot connect ({e or 'refused'})") from None
        except httpx.HTTPError as e:
            raise SourceError(f"{where}: {type(e).__name__}: {e}") from None
        if r.status_code >= 400:
            raise HttpStatusError(r.status_code, f"{where}: HTTP {r.status_code} "
                                  f"{r.reason_phrase}{_excerpt(r.text)}")
        return r

    async def get_text(self, path: str, **kw: Any) -> str:
        return (await self.request("GET", path, **kw)).text

    async def get_json(self, path: str, **kw: Any) -> Any:
        r = await self.request("GET", path, **kw)
        return parse_json(r.text, f"{self.base_url}{path}")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class HttpStatusError(SourceError):
    """An HTTP error status (the sources that log in look for 401 and 403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise SourceError(f"{where}: the answer is not JSON{_excerpt(text)}") from None


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    return f": {text[:120]}{'...' if len(text) > 120 else ''}"
