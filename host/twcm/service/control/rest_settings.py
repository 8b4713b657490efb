"""What the REST API changes, and the settings it shows: Charge Now, the non-scheduled
action, the weekly windows, green tracking, any [site.policy] key, consumption offsets and
each TWC's cap and start/stop. Reading needs a token, changing an admin token.

Every change goes through one SiteLoop method (charge_now, cancel_charge_now,
change_settings, set_twc_cap, set_twc_charging), which checks it as the config file is
checked and changes nothing if any part is refused: a 422 with one line per problem.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Body, Request

from twcm.service.config import ConfigError
from twcm.service.control import rest_models as m
from twcm.service.control.auth import admin, read
from twcm.service.control.rest_errors import ApiError
from twcm.service.control.rest_sites import site_of, twc_of
from twcm.service.policy import Decision
from twcm.service.site import SiteLoop

router = APIRouter()
OFFSETS = "consumption_offsets"


def checked(change: Callable[[], Decision]) -> None:
    """Run a change; its refusal as a 422 naming each problem."""
    try:
        change()
    except ConfigError as e:
        raise ApiError(422, "refused, nothing changed: " + "; ".join(e.lines), e.lines) \
            from None
    except ValueError as e:  # Rejected, and the SiteLoop's own checks
        raise ApiError(422, f"refused, nothing changed: {e}", [str(e)]) from None


def effective(site: SiteLoop) -> dict[str, dict[str, Any]]:
    return site.status()["settings"]


def value(site: SiteLoop, key: str, default: Any = None) -> Any:
    return effective(site).get(key, {}).get("value", default)


def change(site: SiteLoop, fragment: dict[str, Any]) -> None:
    checked(lambda: site.change_settings(fragment))


# -- Charge Now ---------------------------------------------------------------------------

@router.get("/api/sites/{site}/charge_now", response_model=m.ChargeNowOut | None,
            dependencies=[read])
async def charge_now(request: Request, site: str) -> dict[str, Any] | None:
    """The running Charge Now (null: none)."""
    return site_of(request, site).status()["charge_now"]


@router.post("/api/sites/{site}/charge_now", response_model=m.SiteStatus,
             dependencies=[admin])
async def start_charge_now(request: Request, site: str, body: m.ChargeNowIn) -> dict[str, Any]:
    """Start (or replace) Charge Now: `amps` (0 to the site's max_amps) for `minutes`; the
    site's status with the decision taken with it."""
    loop = site_of(request, site)
    if body.amps > loop.config.max_amps:
        raise ApiError(422, f"amps must be 0-{loop.config.max_amps}, not {body.amps}",
                       [f"amps: at most the site's max_amps, {loop.config.max_amps}"])
    checked(lambda: loop.charge_now(body.amps, timedelta(minutes=body.minutes)))
    return loop.status()


@router.delete("/api/sites/{site}/charge_now", response_model=m.SiteStatus,
               dependencies=[admin])
async def cancel_charge_now(request: Request, site: str) -> dict[str, Any]:
    """End Charge Now early (nothing happens if none runs)."""
    loop = site_of(request, site)
    loop.cancel_charge_now()
    return loop.status()


# -- the non-scheduled action, the windows, green tracking --------------------------------

def _non_scheduled(loop: SiteLoop) -> dict[str, Any]:
    return {"action": value(loop, "non_scheduled"), "amps": value(loop, "non_scheduled_amps")}


@router.get("/api/sites/{site}/non_scheduled", response_model=m.NonScheduledOut,
            dependencies=[read])
async def non_scheduled(request: Request, site: str) -> dict[str, Any]:
    """What the site does outside Charge Now and the windows, and the amps for fixed."""
    return _non_scheduled(site_of(request, site))


@router.put("/api/sites/{site}/non_scheduled", response_model=m.NonScheduledOut,
            dependencies=[admin])
async def set_non_scheduled(request: Request, site: str, body: m.NonScheduledIn
                            ) -> dict[str, Any]:
    loop = site_of(request, site)
    fragment: dict[str, Any] = {"non_scheduled": body.action}
    if body.amps is not None:
        fragment["non_scheduled_amps"] = body.amps
    change(loop, fragment)
    return _non_scheduled(loop)


@router.get("/api/sites/{site}/schedule", response_model=m.ScheduleOut, dependencies=[read])
async def schedule(request: Request, site: str) -> dict[str, Any]:
    """The weekly windows in force."""
    return {"windows": value(site_of(request, site), "windows", [])}


@router.put("/api/sites/{site}/schedule", response_model=m.ScheduleOut, dependencies=[admin])
async def set_schedule(request: Request, site: str, body: m.ScheduleIn) -> dict[str, Any]:
    """Replace the weekly windows (an empty list: none)."""
    loop = site_of(request, site)
    change(loop, {"windows": [w.model_dump() for w in body.windows]})
    return {"windows": value(loop, "windows", [])}


def _green(loop: SiteLoop) -> dict[str, Any]:
    return {k.removeprefix("green."): v for k, v in effective(loop).items()
            if k.startswith("green.")}


@router.get("/api/sites/{site}/green", response_model=dict[str, m.SettingOut],
            dependencies=[read])
async def green(request: Request, site: str) -> dict[str, Any]:
    """Green tracking's settings, each with its value and where it came from."""
    return _green(site_of(request, site))


@router.patch("/api/sites/{site}/green", response_model=dict[str, m.SettingOut],
              dependencies=[admin])
async def set_green(request: Request, site: str, body: m.GreenIn) -> dict[str, Any]:
    """Change some of green tracking's settings; null puts one back to the file's."""
    loop = site_of(request, site)
    change(loop, {"green": body.model_dump(exclude_unset=True)})
    return _green(loop)


@router.get("/api/sites/{site}/settings", response_model=dict[str, m.SettingOut],
            dependencies=[read])
async def settings(request: Request, site: str) -> dict[str, Any]:
    """Every [site.policy] key in force with where it came from (file, runtime, default)."""
    return effective(site_of(request, site))


@router.patch("/api/sites/{site}/settings", response_model=dict[str, m.SettingOut],
              dependencies=[admin])
async def set_settings(request: Request, site: str,
                       body: dict[str, Any] = Body(examples=[{"non_scheduled_amps": 10}])
                       ) -> dict[str, Any]:
    """Change any [site.policy] keys: a fragment of that table in its TOML words (green's
    keys merged one by one, any other key replaced whole; null drops a runtime change)."""
    loop = site_of(request, site)
    change(loop, body)
    return effective(loop)


# -- consumption offsets ------------------------------------------------------------------

@router.get("/api/sites/{site}/consumption_offsets", response_model=list[m.OffsetOut],
            dependencies=[read])
async def offsets(request: Request, site: str) -> list[dict[str, Any]]:
    """The loads subtracted from (or added to) the surplus: name, value, W or A."""
    return value(site_of(request, site), OFFSETS) or []


@router.post("/api/sites/{site}/consumption_offsets", response_model=list[m.OffsetOut],
             dependencies=[admin])
async def add_offset(request: Request, site: str, body: m.OffsetIn) -> list[dict[str, Any]]:
    """Add an offset; 409 if one has its name."""
    loop = site_of(request, site)
    now = list(value(loop, OFFSETS) or [])
    if any(o["name"] == body.name for o in now):
        raise ApiError(409, f"site {site!r} already has an offset named {body.name!r}: "
                            "delete it first or choose another name")
    change(loop, {OFFSETS: [*now, body.model_dump()]})
    return value(loop, OFFSETS) or []


@router.delete("/api/sites/{site}/consumption_offsets/{name}",
               response_model=list[m.OffsetOut], dependencies=[admin])
async def delete_offset(request: Request, site: str, name: str) -> list[dict[str, Any]]:
    loop = site_of(request, site)
    now = list(value(loop, OFFSETS) or [])
    if not any(o["name"] == name for o in now):
        raise ApiError(404, f"site {site!r} has no offset named {name!r}: it has "
                            f"{', '.join(o['name'] for o in now) or 'none'}")
    change(loop, {OFFSETS: [o for o in now if o["name"] != name]})
    return value(loop, OFFSETS) or []


# -- per TWC --------------------------------------------------------------------------------

@router.put("/api/sites/{site}/twcs/{twc}/cap", response_model=m.TwcOut,
            dependencies=[admin])
async def set_cap(request: Request, site: str, twc: str, body: m.TwcCapIn) -> dict[str, Any]:
    """Cap one TWC (amps, kept across restarts; null removes the cap)."""
    loop = site_of(request, site)
    twc_id = twc_of(request, site, twc)["id"]
    checked(lambda: loop.set_twc_cap(twc_id, body.amps))
    return twc_of(request, site, twc_id)


@router.put("/api/sites/{site}/twcs/{twc}/charging", response_model=m.TwcOut,
            dependencies=[admin])
async def set_charging(request: Request, site: str, twc: str, body: m.TwcChargingIn
                       ) -> dict[str, Any]:
    """Start or stop charging on one TWC (if the site's config allows it)."""
    loop = site_of(request, site)
    twc_id = twc_of(request, site, twc)["id"]
    checked(lambda: loop.set_twc_charging(twc_id, body.charging))
    return twc_of(request, site, twc_id)

