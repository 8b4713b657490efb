"""Control: Charge Now checked once for every way of asking, and kept across restarts."""
from __future__ import annotations

import time

import pytest

from twcm.service.config import Config
from twcm.service.control.requests import Control, Rejected, UnknownSite
from twcm.service.site import SiteLoop
from twcm.service.store import Store

CONFIG = {"site": [{"name": "home", "max_amps": 24, "source": {"type": "static"}}]}


def loop(store: Store) -> SiteLoop:
    site = Config.model_validate(CONFIG).site[0]
    return SiteLoop(site, store)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "twcm.db")
    yield s
    s.close()


@pytest.mark.parametrize("body,reason", [
    ({"amps": 25, "minutes": 5}, "amps must be 0-24, not 25"),
    ({"amps": 8, "minutes": 0}, "minutes must be 1-1440, not 0"),
    ({"amps": 8.5, "minutes": 5}, "amps must be a whole number, not 8.5"),
    ({"amps": True, "minutes": 5}, "amps must be a whole number, not True"),
    ({"amps": 8, "minutes": 5, "colour": 1}, "unknown keys colour: give amps and minutes"),
    ([8, 5], 'give a JSON object such as {"amps": 16, "minutes": 60}'),
])
def test_bad_requests_are_rejected_and_change_nothing(store, body, reason):
    site = loop(store)
    c = Control([site])
    with pytest.raises(Rejected) as e:
        c.charge_now("home", body)
    assert str(e.value) == reason
    assert site.policy.charge_now_request is None and store.charge_now("home") is None
    with pytest.raises(UnknownSite, match="no site 'barn': the sites are home"):
        c.charge_now("barn", {"amps": 8, "minutes": 5})


def test_charge_now_survives_a_restart_until_it_ends(store):
    c = Control([loop(store)])
    status = c.charge_now("home", {"amps": 16, "minutes": 90})
    assert status["charge_now"]["amps"] == 16
    again = loop(store)  # twcm restarted
    request = again.policy.charge_now_request
    assert request is not None and request.amps == 16
    assert abs(request.until.timestamp() - (time.time() + 90 * 60)) < 5
    Control([again]).cancel_charge_now("home")
    assert loop(store).policy.charge_now_request is None
    store.save_charge_now("home", 16, time.time() - 1)  # ended while twcm was down
    assert loop(store).policy.charge_now_request is None
