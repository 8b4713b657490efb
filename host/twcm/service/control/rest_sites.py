"""What the REST API shows (GET only: nothing here changes anything): every site's status
and its parts, the history of samples and the charge sessions. Each route calls only a
SiteLoop's status() (through requests.Control) or the store."""
from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Query, Request

from twcm import __version__
from twcm.service.control import rest_models as m
from twcm.service.control.auth import read
from twcm.service.control.requests import Control, UnknownSite
from twcm.service.control.rest_errors import ApiError
from twcm.service.site import SiteLoop
from twcm.service.store import Store

MAX_RANGE_S = 31 * 86400  # the longest history one request may ask for
MAX_ROWS = 5000  # the most samples one answer holds (see HistoryOut.truncated)
DAY_S = 86400.0

router = APIRouter(dependencies=[read])


def control(request: Request) -> Control:
    return request.app.state.control


def store(request: Request) -> Store | None:
    return request.app.state.store


def site_of(request: Request, site: str) -> SiteLoop:
    """The site named in the path; 404 naming the sites there are."""
    try:
        return control(request).site(site)
    except UnknownSite as e:
        raise ApiError(404, str(e)) from None


def twcs_of(status: dict[str, Any]) -> list[dict[str, Any]]:
    state = status["device"]["state"]
    return [] if state is None else list(state["slaves"])


def twc_of(request: Request, site: str, twc: str) -> dict[str, Any]:
    """The Wall Connector `twc` of the site, as its device last told; 404 if none."""
    slaves = twcs_of(site_of(request, site).status())
    for s in slaves:
        if s["id"].lower() == twc.lower():
            return s
    there = ", ".join(s["id"] for s in slaves) or "none yet"
    raise ApiError(404, f"site {site!r} has no TWC {twc!r}: its device reports {there}")


@router.get("/api/version", response_model=m.VersionOut)
async def version() -> dict[str, Any]:
    return {"version": __version__}


@router.get("/api/status", response_model=m.AllStatus)
async def all_status(request: Request) -> dict[str, Any]:
    """Every site's status."""
    return {"sites": control(request).all_status()}


@router.get("/api/sites/{site}", response_model=m.SiteStatus)
async def site_status(request: Request, site: str) -> dict[str, Any]:
    """One site's status: the lease, the decision and its claims, the meters, the device."""
    return site_of(request, site).status()


@router.get("/api/sites/{site}/twcs", response_model=list[m.TwcOut])
async def twcs(request: Request, site: str) -> list[dict[str, Any]]:
    """The site's Wall Connectors as its device last told (empty before it did)."""
    return twcs_of(site_of(request, site).status())


@router.get("/api/sites/{site}/twcs/{twc}", response_model=m.TwcOut)
async def twc(request: Request, site: str, twc: str) -> dict[str, Any]:
    return twc_of(request, site, twc)


@router.get("/api/sites/{site}/sources", response_model=list[m.FeedStatus])
async def sources(request: Request, site: str) -> list[dict[str, Any]]:
    """Each meter: ok, or why its readings are not used."""
    return site_of(request, site).status()["sources"]


@router.get("/api/sites/{site}/device", response_model=m.DeviceOut)
async def device(request: Request, site: str) -> dict[str, Any]:
    """The device's health (online, offline, silent, unknown) and last state."""
    return site_of(request, site).status()["device"]


@router.get("/api/sites/{site}/decision", response_model=m.DecisionOut | None)
async def decision(request: Request, site: str) -> dict[str, Any] | None:
    """The last decision with every claim (null before the first turn)."""
    return site_of(request, site).status()["decision"]


@router.get("/api/sites/{site}/history", response_model=m.HistoryOut)
async def history(request: Request, site: str,
                  start: float | None = Query(None, ge=0, le=1e11, description=
                                              "Unix time; default: a day before end"),
                  end: float | None = Query(None, ge=0, le=1e11, description=
                                            "Unix time; default: now"),
                  limit: int = Query(MAX_ROWS, ge=1, le=MAX_ROWS)) -> dict[str, Any]:
    """The site's samples (one per turn: readings, lease and reason) from start to end, at
    most 31 days and `limit` rows (oldest first)."""
    site_of(request, site)
    end = time.time() if end is None else end
    start = end - DAY_S if start is None else start
    if not start < end:
        raise ApiError(422, f"start ({start:g}) must be before end ({end:g})",
                       ["start: must be before end"])
    if end - start > MAX_RANGE_S:
        raise ApiError(422, f"the range is {(end - start) / DAY_S:.1f} days: ask for at most "
                            "31 days at once", ["end: at most 31 days after start"])
    db = store(request)
    rows = [] if db is None else db.samples(site, start, end, limit + 1)
    return {"site": site, "start": start, "end": end, "samples": rows[:limit],
            "truncated": len(rows) > limit}


@router.get("/api/sessions", response_model=list[m.SessionOut])
async def sessions(request: Request, vin: str | None = Query(None, max_length=32)
                   ) -> list[dict[str, Any]]:
    """Charge sessions of every site, oldest first; only those of `vin` if given."""
    db = store(request)
    return [] if db is None else db.sessions(vin)


@router.get("/api/sessions/kwh_per_vin", response_model=list[m.VinKwhOut])
async def kwh_per_vin(request: Request) -> list[dict[str, Any]]:
    """kWh charged per car (vin null: cars whose VIN was never read)."""
    db = store(request)
    return [] if db is None else [{"vin": v, "kwh": k} for v, k in db.kwh_per_vin().items()]
