"""SiteLoop's public interface, the only way control surfaces change a site: each change is
decided at once, so the answer shows its effect; refused changes change nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from twcm.service.config import Config
from twcm.service.policy import NonScheduled
from twcm.service.site import SiteLoop
from twcm.service.store import Store

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
    decision = s.change_settings({"non_scheduled": "fixed", "non_scheduled_amps": 10})
    assert (decision.amps, decision.set_by.source) == (10, "default")
    assert s.status()["settings"]["non_scheduled_amps"] == {"value": 10, "from": "runtime"}
    assert s.status()["settings"]["min_amps"] == {"value": 6, "from": "default"}
    before = s.policy.settings
    for bad, match in (({"non_scheduled_amps": 99}, 'site "home": policy.non_scheduled_amps'),
                       ({"colour": "red"}, 'unknown key "colour"'),
                       ({"green": {"start_delay_s": -1}}, "policy.green.start_delay_s"),
                       ({"non_scheduled": "sunny"}, "must be 'fixed'")):
        with pytest.raises(ValueError, match=match):
            s.change_settings(bad)
        assert s.policy.settings is before
    assert s.status()["settings"]["non_scheduled_amps"]["value"] == 10


def test_runtime_settings_survive_a_restart_and_the_file_is_never_rewritten(tmp_path):
    store = Store(tmp_path / "twcm.db")
    config = Config.model_validate(CONFIG).site[0]
    first = SiteLoop(config, store)
    first.change_settings({"non_scheduled": "fixed", "non_scheduled_amps": 12,
                           "green": {"start_delay_s": 30}})
    again = SiteLoop(config, store)  # twcm restarted, same config file
    assert again.policy.settings.non_scheduled is NonScheduled.FIXED
    assert again.policy.settings.non_scheduled_amps == 12
    assert again.policy.settings.green.start_delay_s == 30
    shown = again.status()["settings"]
    assert shown["green.start_delay_s"]["from"] == "runtime"
    assert shown["green.stop_delay_s"]["from"] == "default"
    again.change_settings({"non_scheduled_amps": None})  # back to the file's (default)
    assert SiteLoop(config, store).policy.settings.non_scheduled_amps == 16
    store.close()
