"""`type = "enphase_cloud"`: a system's summary from the Enlighten Systems API v4.

GET /api/v4/systems/{id}/summary with the application's API key (`key`) and an OAuth2
access token (`Authorization: Bearer`); current_power is the solar output in W as last
reported, which lags by minutes (last_report_at says when: that is the reading's time).

Access tokens last about a day, so a long-running source needs the refresh token and the
application's client id and secret: a refused access token is then renewed at
/oauth/token. Each renewal also hands out a new refresh token; `token_file` keeps the
newest so a restart does not fall back to the configured, possibly spent, one.
"""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from twcm.service.sources import Options, Reading, SourceError, register
from twcm.service.sources.http import Http, HttpStatusError, check_url, parse_json
from twcm.service.sources.values import dig, number

BASE_URL = "https://api.enphaseenergy.com"
# The free "Watt" plan allows 1,000 requests a month: 31 days / 1000 = 44.6 minutes.
QUOTA_INTERVAL_S = 2700.0


class EnphaseCloudOptions(Options):
    system_id: int = Field(gt=0)
    api_key: str = Field(min_length=1)
    access_token: str | None = Field(None, min_length=1)
    refresh_token: str | None = Field(None, min_length=1)
    client_id: str | None = Field(None, min_length=1)
    client_secret: str | None = Field(None, min_length=1)
    token_file: str | None = Field(None, min_length=1)  # keeps the newest refresh token
    base_url: str = BASE_URL
    timeout_s: float = Field(10.0, gt=0, le=60)

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)

    @model_validator(mode="after")
    def _tokens(self) -> EnphaseCloudOptions:
        keys = ("refresh_token", "client_id", "client_secret")
        refresh = [k for k in keys if getattr(self, k)]
        if refresh and len(refresh) < 3:
            raise ValueError("to renew the access token, give refresh_token, client_id and "
                             "client_secret together")
        if not refresh and not self.access_token:
            raise ValueError("give access_token, or refresh_token with client_id and "
                             "client_secret")
        return self


def parse(doc: Any) -> Reading:
    """The readings in a summary answer: generation only."""
    watts = number(dig(doc, "current_power"), "current_power")
    if watts is None:
        raise SourceError("the summary has no current_power")
    at = number(doc.get("last_report_at"), "last_report_at")
    return Reading(generation_w=max(0.0, watts), at=at if at else time.time())


class EnphaseCloud:
    def __init__(self, o: EnphaseCloudOptions) -> None:
        self.o = o
        self.http = Http(o.base_url, o.timeout_s)
        self.access = o.access_token
        self.refresh = o.refresh_token
        self.stored = Path(o.token_file) if o.token_file else None
        self.loaded = False  # token_file was read

    async def read(self) -> Reading:
        fresh = self.access is None
        if fresh:
            await self._renew()
        else:
            try:
                return await self._summary()
            except HttpStatusError as e:
                if e.status != 401:
                    raise
                if self.refresh is None:
                    raise SourceError("Enlighten refuses the access token (HTTP 401): it has"
                                      " expired; give refresh_token, client_id and "
                                      "client_secret so twcm renews it") from None
            await self._renew()
        try:
            return await self._summary()
        except HttpStatusError as e:
            if e.status != 401:
                raise
            raise SourceError("Enlighten refuses the access token it has just given (HTTP "
                              "401): check api_key and that the system is shared with the "
                              "application") from None

    async def _summary(self) -> Reading:
        path = f"/api/v4/systems/{self.o.system_id}/summary"
        return parse(await self.http.get_json(
            path, params={"key": self.o.api_key},
            headers={"Authorization": f"Bearer {self.access}"}))

    async def _renew(self) -> None:
        """A new access token (and refresh token) for the refresh token."""
        o = self.o
        if not self.loaded:
            self.refresh = self._stored() or self.refresh
            self.loaded = True
        basic = base64.b64encode(f"{o.client_id}:{o.client_secret}".encode()).decode()
        try:
            r = await self.http.request("POST", "/oauth/token", params={
                "grant_type": "refresh_token", "refresh_token": self.refresh},
                headers={"Authorization": f"Basic {basic}"})
        except HttpStatusError as e:
            raise SourceError(f"Enlighten refuses to renew the access token (HTTP {e.status})"
                              ": the refresh token has expired (they last 30 days) or "
                              "client_id/client_secret are wrong; authorize the "
                              "application again and set the new refresh_token") from None
        answer = parse_json(r.text, f"{o.base_url}/oauth/token")
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
            raise SourceError("Enlighten's token answer has no access_token")
        self.access = answer["access_token"]
        if isinstance(answer.get("refresh_token"), str):
            self.refresh = answer["refresh_token"]
            if self.stored is not None:
                try:
                    self.stored.write_text(json.dumps(
                        {"configured": o.refresh_token, "latest": self.refresh}) + "\n")
                except OSError as e:
                    raise SourceError(f"cannot keep the new refresh token in token_file: "
                                      f"{e}") from None

    def _stored(self) -> str | None:
        """The newest refresh token in token_file, if it descends from the configured one
        (a refresh_token set anew in the config wins over the file)."""
        if self.stored is None or not self.stored.exists():
            return None
        try:
            kept = json.loads(self.stored.read_text())
        except OSError as e:
            raise SourceError(f"cannot read token_file: {e}") from None
        except ValueError:
            return None
        if isinstance(kept, dict) and kept.get("configured") == self.o.refresh_token:
            latest = kept.get("latest")
            return latest if isinstance(latest, str) and latest else None
        return None

    async def close(self) -> None:
        await self.http.close()


register("enphase_cloud", EnphaseCloudOptions, EnphaseCloud, interval_s=QUOTA_INTERVAL_S,
         min_interval_s=QUOTA_INTERVAL_S, roles=("generation",))
