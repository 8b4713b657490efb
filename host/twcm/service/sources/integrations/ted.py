"""`type = "ted"`: a TED (The Energy Detective) gateway on the local network.

What each MTU (measuring unit) measures is set up in TED and cannot be read back, so the
config names the MTU of each role. Two answers are known:

- TED 5000 `/api/LiveData.xml`: Power/MTU<n>/PowerNow (W), Power/Total/PowerNow (the sum
  of the MTUs: the grid when the MTUs are the load and the solar), Voltage/.../VoltageNow
  in tenths of a volt. A solar MTU reads negative.
- `/history/export.csv?T=1&D=0&M=1&C=1`: a row per MTU, its name first and kW third
  (the only public parser of it takes "Solar" rows and drops the minus; the layout
  beyond that is unconfirmed).
"""
from __future__ import annotations

import csv
import io
from typing import Any, Literal
from xml.etree import ElementTree

from pydantic import model_validator

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.http import Http, HttpOptions, HttpStatusError
from twcm.service.sources.values import number

LIVEDATA = "/api/LiveData.xml"
HISTORY = "/history/export.csv"
HISTORY_QUERY = {"T": "1", "D": "0", "M": "1", "C": "1"}
MtuKey = int | str | None
KEYS = {"generation": "generation_mtu", "consumption": "consumption_mtu", "grid": "grid_mtu"}


class TedOptions(HttpOptions):
    """url: the TED gateway, e.g. "http://192.168.1.40"."""

    api: Literal["livedata", "history"] = "livedata"
    generation_mtu: MtuKey = None
    consumption_mtu: MtuKey = None
    grid_mtu: MtuKey = None
    user: str | None = None
    password: str | None = None

    @model_validator(mode="after")
    def _mtus(self) -> TedOptions:
        given = self.mtus()
        if not given:
            raise ValueError("say what the MTUs measure: give at least one of "
                             "generation_mtu, consumption_mtu, grid_mtu")
        for role, mtu in given.items():
            if self.api == "livedata" and not (mtu == "total" or (
                    isinstance(mtu, int) and 1 <= mtu <= 4)):
                raise ValueError(f'{KEYS[role]} = {mtu!r}: give an MTU number from 1 to 4, '
                                 'or "total" for the sum of all MTUs')
            if self.api == "history" and not isinstance(mtu, str):
                raise ValueError(f'{KEYS[role]} = {mtu!r}: with api = "history" give the '
                                 'MTU\'s name as the export lists it, e.g. "Solar"')
        if len(set(given.values())) < len(given):
            raise ValueError("one MTU is given for two roles: give each role its own MTU")
        if (self.user is None) != (self.password is None):
            raise ValueError("give both user and password, or neither")
        return self

    def mtus(self) -> dict[str, int | str]:
        """The MTU of each role the config names."""
        found = {role: getattr(self, key) for role, key in KEYS.items()}
        return {role: mtu for role, mtu in found.items() if mtu is not None}


def _reading(watts: dict[str, float], volts: float | None = None) -> Reading:
    """A Reading from each role's power as its MTU reports it."""
    consumption = watts.get("consumption")
    if consumption is not None and consumption < 0:
        raise SourceError(f"the consumption MTU reads {consumption:g} W, below 0: is it "
                          "the solar MTU? check consumption_mtu")
    generation = watts.get("generation")
    return Reading(generation_w=None if generation is None else abs(generation),
                   consumption_w=consumption, grid_import_w=watts.get("grid"), volts=volts)


def parse_livedata(text: str, mtus: dict[str, int | str]) -> Reading:
    """The readings in a LiveData.xml answer for the roles' MTUs (numbers or "total")."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as e:
        raise SourceError(f"the answer is not XML ({e})") from None

    def value(section: str, mtu: int | str, item: str) -> float | None:
        node = "Total" if mtu == "total" else f"MTU{mtu}"
        return number(root.findtext(f"{section}/{node}/{item}"), f"{section}/{node}/{item}")

    watts: dict[str, float] = {}
    for role, mtu in mtus.items():
        power = value("Power", mtu, "PowerNow")
        if power is None:
            count = root.findtext("System/NumberMTU") or "?"
            raise SourceError(f"LiveData has no power for {KEYS[role]} = {mtu!r} (the "
                              f"gateway has {count} MTUs)")
        watts[role] = power
    tenths = value("Voltage", mtus.get("grid", "total"), "VoltageNow")
    return _reading(watts, None if tenths is None else tenths / 10)


def parse_history(text: str, mtus: dict[str, int | str]) -> Reading:
    """The readings in a history export: the first row named after each role's MTU."""
    rows: dict[str, float] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 3:
            continue
        name = row[0].strip().lower()
        try:
            kw = float(row[2])
        except ValueError:
            continue  # the header or a line that is not a reading
        rows.setdefault(name, kw * 1000)
    watts: dict[str, float] = {}
    for role, mtu in mtus.items():
        if str(mtu).lower() not in rows:
            listed = ", ".join(sorted(rows)) or "no MTU rows"
            raise SourceError(f"the history export has no row {mtu!r} ({KEYS[role]}); "
                              f"it lists {listed}")
        watts[role] = rows[str(mtu).lower()]
    return _reading(watts)


class Ted:
    def __init__(self, o: TedOptions) -> None:
        self.http = Http(o.url, o.timeout_s, o.verify_tls)
        self.api = o.api
        self.mtus = o.mtus()
        self.auth = None if o.user is None else (o.user, o.password or "")

    async def read(self) -> Reading:
        path, params = (LIVEDATA, {}) if self.api == "livedata" else (HISTORY, HISTORY_QUERY)
        kw: dict[str, Any] = {"params": params}
        if self.auth is not None:
            kw["auth"] = self.auth
        try:
            text = await self.http.get_text(path, **kw)
        except HttpStatusError as e:
            if e.status == 401:
                raise SourceError("the TED gateway asks for a login (HTTP 401): "
                                  "check user and password") from None
            raise
        if self.api == "livedata":
            return parse_livedata(text, self.mtus)
        return parse_history(text, self.mtus)

    async def close(self) -> None:
        await self.http.close()


register("ted", TedOptions, Ted, interval_s=5.0, min_interval_s=2.0,
         roles=lambda o: tuple(o.mtus()))
