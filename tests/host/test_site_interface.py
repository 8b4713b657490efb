"""SiteLoop's public interface, the only way control surfaces change a site: each change is
decided at once, so the answer shows its effect; refused changes change nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from twcm.service.config import Config
from twcm.service.policy import NonScheduled
from twcm.service.site import SiteLoop

CONFIG = {"site": [{"name": "home", "max_amps": 24,
                    "source": {"type": "static", "generation_w": 0, "consumption_w": 500}}]}


class Clock:
    """A site clock that moves only when told."""

    def __init__(self, wall: float) -> None:
        self.wall, self.mono = wall, 0.0

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def age_s(self, stamp: float) -> float:
        return self.wall - stamp

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


def site(clock: Clock | None = None) -> SiteLoop:
    config = Config.model_validate(CONFIG).site[0]
    return SiteLoop(config, None) if clock is None else SiteLoop(config, None, clock)


def test_charge_now_is_decided_at_once_and_its_status_says_so():
    s = site()
    decision = s.charge_now(16, timedelta(minutes=30))
    assert (decision.amps, decision.set_by.source) == (16, "manual")
    status = s.status()
    assert status["lease_amps"] == 16 and status["decision"]["set_by"] == "manual"
    assert status["charge_now"]["amps"] == 16
    decision = s.cancel_charge_now()
    assert decision.set_by is None or decision.set_by.source != "manual"
    assert s.status()["charge_now"] is None


@pytest.mark.parametrize("amps,duration,match", [
    (25, timedelta(minutes=5), "amps must be a whole number 0-24, not 25"),
    (True, timedelta(minutes=5), "not True"),
    (8, timedelta(0), "the duration must be above 0"),
    (8, timedelta(hours=25), "at most 24 h"),
])
def test_refused_charge_now_changes_nothing(amps, duration, match):
    s = site()
    with pytest.raises(ValueError, match=match):
        s.charge_now(amps, duration)
    assert s.policy.charge_now_request is None and s.decision is None


def test_a_setting_is_checked_like_the_config_and_applied_at_once():
    s = site()
    decision = s.change_settings(non_scheduled=NonScheduled.FIXED, non_scheduled_amps=10)
    assert (decision.amps, decision.set_by.source) == (10, "default")
    before = s.policy.settings
    with pytest.raises(ValueError, match="non_scheduled_amps"):
        s.change_settings(non_scheduled_amps=99)
    with pytest.raises(ValueError, match="no such setting: colour"):
        s.change_settings(colour="red")
    assert s.policy.settings is before


def test_charge_now_lasts_its_minutes_on_the_site_clock():
    clock = Clock(1_800_000_000.0)  # a simulated day, not the system's
    s = site(clock)
    s.charge_now(16, timedelta(minutes=60))
    assert s.status()["time"] == 1_800_000_000.0
    clock.advance(59 * 60)
    assert s.turn().set_by.source == "manual"
    clock.advance(2 * 60)
    assert s.turn().set_by.source != "manual" and s.status()["charge_now"] is None


def test_green_tracking_without_readings_sends_no_lease_and_releases_one():
    s = site(Clock(1_800_000_000.0))  # its source was never read: no readings
    s.charge_now(10, timedelta(minutes=5))
    assert s.link.lease_amps == 10
    decision = s.cancel_charge_now()
    assert (decision.lease, s.sent, s.link.lease_amps) == (False, None, None)
    assert s.status()["decision"]["lease"] is False and s.status()["lease_amps"] is None
