"""`type = "enphase"`: an Enphase IQ Gateway (Envoy) on the local network.

/production.json lists meters by what they measure, never to be taken by position:
production[] holds the microinverters' total (type "inverters", updated every few minutes)
and, on a metered gateway, the production CT (type "eim", measurementType "production");
consumption[] the house ("total-consumption") and the grid ("net-consumption", negative
while exporting). A CT that is not installed has activeCount 0 and its numbers are
made up (total-consumption then copies production): such entries are ignored. Gateways
too old for /production.json answer /api/v1/production (production only).

Firmware 7 and later wants a JWT as `Authorization: Bearer` over https (self-signed
certificate). The token comes from the user (Enlighten's token page) or, given the
Enlighten login and the gateway's serial number, is fetched here: a login at
enlighten.enphaseenergy.com gives a session id, entrez.enphaseenergy.com turns it into
a token for that gateway. A fetched token is fetched again when the gateway refuses it.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.http import Http, HttpOptions, HttpStatusError, check_url, parse_json
from twcm.service.sources.secrets import EnvName, Secret, SecretOptions
from twcm.service.sources.values import number

PATH = "/production.json?details=1"
LEGACY_PATH = "/api/v1/production"
ENLIGHTEN_URL = "https://enlighten.enphaseenergy.com"
ENTREZ_URL = "https://entrez.enphaseenergy.com"
GET_TOKEN = ("get a token at https://entrez.enphaseenergy.com (log in, pick the site and "
             "the gateway's serial number)")
RENEW = f"{GET_TOKEN} and set `token`, or give `username`, `password` and `serial`"


class EnphaseOptions(HttpOptions, SecretOptions):
    """url: the gateway, "https://192.168.1.30" (firmware 7+) or "http://..." (older)."""

    secrets = (Secret("token", "the gateway's token", required=False),
               Secret("password", "the Enlighten password", required=False))
    verify_tls: bool = False  # the gateway's certificate is self-signed
    token: str | None = Field(None, min_length=1)
    token_env: EnvName = None
    username: str | None = Field(None, min_length=1)  # the Enlighten login (an e-mail)
    password: str | None = Field(None, min_length=1)
    password_env: EnvName = None
    serial: str | None = Field(None, min_length=1)  # the gateway's serial number
    enlighten_url: str = ENLIGHTEN_URL
    entrez_url: str = ENTREZ_URL

    @model_validator(mode="after")
    def _login(self) -> EnphaseOptions:
        given = [k for k in ("username", "password", "serial")
                 if getattr(self, k) or getattr(self, f"{k}_env", None)]
        if given and len(given) < 3:
            missing = sorted({"username", "password", "serial"} - set(given))
            raise ValueError(f"to fetch the token, give {' and '.join(missing)} too")
        check_url(self.enlighten_url)
        check_url(self.entrez_url)
        return self


def _active(entries: Any, key: str, value: str) -> dict[str, Any] | None:
    """The entry with entry[key] == value whose meter is installed (activeCount > 0)."""
    for e in entries if isinstance(entries, list) else ():
        if isinstance(e, dict) and e.get(key) == value and (e.get("activeCount") or 0) > 0:
            return e
    return None


def _volts(entry: dict[str, Any]) -> float | None:
    """The mains voltage: on a multi-phase gateway the entry's own rmsVoltage is the sum
    over the phases, so the mean of the phases' (`lines`) is taken when they are listed."""
    lines = [x for x in entry.get("lines") or () if isinstance(x, dict)]
    if lines:
        volts = [number(x.get("rmsVoltage"), "lines.rmsVoltage") for x in lines]
        known = [v for v in volts if v is not None]
        return sum(known) / len(known) if known else None
    return number(entry.get("rmsVoltage"), "rmsVoltage")


def parse(doc: Any) -> Reading:
    """The readings in a /production.json answer."""
    if not isinstance(doc, dict) or not isinstance(doc.get("production"), list):
        raise SourceError("the answer has no production list")
    production = doc["production"]
    ct = _active(production, "measurementType", "production")
    inverters = _active(production, "type", "inverters")
    source = ct or inverters
    if source is None:
        raise SourceError("the answer lists no production meter nor active inverters")
    made = number(source.get("wNow"), "production wNow")
    consumption = doc.get("consumption")
    house = _active(consumption, "measurementType", "total-consumption")
    grid = _active(consumption, "measurementType", "net-consumption")
    metered = grid or house or ct
    return Reading(
        # A production CT reads a few W below 0 at night (the inverters' standby draw).
        generation_w=None if made is None else max(0.0, made),
        consumption_w=number(house.get("wNow"), "total-consumption wNow") if house else None,
        grid_import_w=number(grid.get("wNow"), "net-consumption wNow") if grid else None,
        volts=_volts(metered) if metered else None)


def parse_legacy(doc: Any) -> Reading:
    """The readings in an /api/v1/production answer: production only."""
    watts = number(doc.get("wattsNow") if isinstance(doc, dict) else None, "wattsNow")
    if watts is None:
        raise SourceError("the answer has no wattsNow")
    return Reading(generation_w=max(0.0, watts))


class Enphase:
    def __init__(self, o: EnphaseOptions) -> None:
        self.o = o
        self.http = Http(o.url, o.timeout_s, o.verify_tls)
        self.token = o.secret("token")
        self.legacy = False  # the gateway has no /production.json: read /api/v1/production

    async def read(self) -> Reading:
        fresh = self.token is None and self.o.username is not None
        if fresh:
            self.token = await self._fetch_token()
        if not fresh:
            try:
                return await self._read()
            except HttpStatusError as e:
                if e.status != 401:
                    raise
                if not self.o.username:
                    why = ("the token has expired or is another gateway's" if self.token
                           else "firmware 7 and later want a token")
                    raise SourceError(f"the gateway refuses the request (HTTP 401): {why}: "
                                      f"{RENEW}") from None
            self.token = await self._fetch_token()
        try:
            return await self._read()
        except HttpStatusError as e:
            if e.status != 401:
                raise
            raise SourceError("the gateway refuses the token just fetched from Enlighten "
                              "(HTTP 401): check that `serial` is this gateway's") from None

    async def _read(self) -> Reading:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if not self.legacy:
            try:
                return parse(await self.http.get_json(PATH, headers=headers))
            except HttpStatusError as e:
                if e.status != 404:
                    raise
                self.legacy = True
        return parse_legacy(await self.http.get_json(LEGACY_PATH, headers=headers))

    async def _fetch_token(self) -> str:
        """A token for this gateway from Enlighten: log in, then ask Entrez."""
        o = self.o
        enlighten, entrez = Http(o.enlighten_url, o.timeout_s), Http(o.entrez_url, o.timeout_s)
        try:
            try:
                r = await enlighten.request("POST", "/login/login.json", data={
                    "user[email]": o.username, "user[password]": o.secret("password")})
            except HttpStatusError as e:
                raise SourceError(f"Enlighten refuses the login (HTTP {e.status}): check "
                                  "`username` and `password`") from None
            answer = parse_json(r.text, f"{o.enlighten_url}/login/login.json")
            session = answer.get("session_id") if isinstance(answer, dict) else None
            if not session:
                raise SourceError("Enlighten gives no session for this login: wrong "
                                  "`username` or `password`, or the account has two-factor "
                                  f"login on (then {GET_TOKEN} and set `token`)")
            try:
                r = await entrez.request("POST", "/tokens", json={
                    "session_id": session, "serial_num": o.serial, "username": o.username})
            except HttpStatusError as e:
                raise SourceError(f"Enlighten gives no token for gateway {o.serial} (HTTP "
                                  f"{e.status}): check `serial`") from None
        finally:
            await enlighten.close()
            await entrez.close()
        token = r.text.strip()
        if not token or any(c.isspace() for c in token):
            raise SourceError("Enlighten's token answer is not a token")
        return token

    async def close(self) -> None:
        await self.http.close()


register("enphase", EnphaseOptions, Enphase, interval_s=5.0, min_interval_s=1.0,
         roles=("generation", "consumption", "grid"))
