"""What a site takes from outside its own policy (SiteLoop.set_outside): today the OCPP
charge point's (service/ocpp/limits.py). Its claims are weighed with the policy's own
(claims.py PRIORITY), its per-TWC ceilings lower the per-TWC caps the device link sends,
and it has its say in the device's stored schedule. None of it reaches a TWC but through
a lease and the firmware's sharing function."""
from __future__ import annotations

from typing import Any, Protocol

from twcm.service.policy.claims import Claim


class Outside(Protocol):
    def claims(self) -> list[Claim]:
        """Its claims for the site limit now."""

    def twc_caps(self) -> dict[str, int]:
        """TWC id -> the most amps that TWC may have now."""

    def windows(self, local: list[dict[str, int]], fallback: int | None) -> list[dict[str, int]]:
        """The device's schedule (device_schedule's windows, `local`) with its own
        limits put in; `fallback`: the device's fallback amps, None if not known."""

    def status(self) -> dict[str, Any]:
        """What it asks and what is applied, for SiteLoop.status."""
