"""Consumption offsets: named loads added to the consumption green tracking sees, in W or
in A (times the measured volts and phases), set in [site.policy] or at runtime through
change_settings, checked as the config file is, and named in the decision's reason."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from twcm.service.config import ConfigError
from twcm.service.config_load import check_site
from twcm.service.policy import ConsumptionOffset, Inputs, Policy, Settings
from twcm.service.policy.green import GreenSettings
from twcm.service.site import SiteLoop

SITE = {"name": "home", "max_amps": 32,
        "source": {"type": "static", "generation_w": 0, "consumption_w": 500}}
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
FAST = GreenSettings(start_delay_s=0, deadband_amps=0)


def settle(offsets: tuple[ConsumptionOffset, ...], surplus_w: float, volts: float = 230,
           phases: int = 1) -> tuple[int, str]:
    """The green claim once started, for a steady surplus (generation - consumption)."""
    policy = Policy(Settings(max_amps=32, green=FAST, consumption_offsets=offsets))
    inputs = Inputs(generation_w=surplus_w + 400, consumption_w=400, volts=volts, phases=phases)
    d = policy.decide(T0, inputs)
    d = policy.decide(T0 + timedelta(seconds=5), inputs)
    return d.amps, d.reason


def test_offsets_in_watts_and_amps_move_the_surplus():
    assert settle((), 230 * 10)[0] == 10
    assert settle((ConsumptionOffset("heat pump", 460),), 230 * 10)[0] == 8
    assert settle((ConsumptionOffset("garage", -2, "A"),), 230 * 10)[0] == 12
    # Amps are per phase: 1 A on three phases is 3 x 230 W.
    assert settle((ConsumptionOffset("margin", 1, "A"),), 3 * 230 * 10, phases=3)[0] == 9
    both = (ConsumptionOffset("heat pump", 460), ConsumptionOffset("garage", -1, "A"))
    amps, reason = settle(both, 230 * 10)
    assert amps == 9
    assert "(consumption offsets: heat pump +460 W, garage -1 A = -230 W: +230 W)" in reason


def test_offsets_below_the_minimum_stop_green_charging():
    amps, reason = settle((ConsumptionOffset("sauna", 2000),), 230 * 10)
    assert amps == 0 and "sauna +2000 W" in reason


def test_the_policy_refuses_bad_offsets_itself():
    for make, match in ((lambda: ConsumptionOffset("x", float("nan")), "finite"),
                        (lambda: ConsumptionOffset("", 1), "1 to 40 characters"),
                        (lambda: ConsumptionOffset("x", 1, "kW"), '"W" or "A"'),
                        (lambda: Settings(consumption_offsets=(ConsumptionOffset("a", 1),) * 2),
                         "a is used twice")):
        with pytest.raises(ValueError, match=match):
            make()


@pytest.mark.parametrize("offsets,match", [
    ([{"name": "hp", "value": 1}, {"name": "hp", "value": 2}], "same name"),
    ([{"name": f"o{i}", "value": 1} for i in range(17)], "give at most 16"),
    ([{"name": "hp", "value": float("inf")}], "consumption_offsets\\[0\\].value: inf"),
    ([{"name": "hp", "value": 1, "unit": "kW"}], "must be 'W' or 'A'"),
    ([{"name": "hp"}], "consumption_offsets\\[0\\].value: missing"),
    ([{"name": "hp", "value": 1, "watts": 2}], 'unknown key "watts"'),
])
def test_the_config_names_the_bad_offset_and_the_fix(offsets, match):
    with pytest.raises(ConfigError, match=match) as e:
        check_site({**SITE, "policy": {"consumption_offsets": offsets}})
    assert all(line.startswith('site "home": policy.consumption_offsets') for line in e.value.lines)


def test_offsets_change_at_runtime_and_show_in_the_status():
    s = SiteLoop(check_site({**SITE, "policy": {"consumption_offsets": [
        {"name": "heat pump", "value": 800}]}}), None)
    assert s.policy.settings.consumption_offsets == (ConsumptionOffset("heat pump", 800),)
    assert s.status()["settings"]["consumption_offsets"] == {
        "value": [{"name": "heat pump", "value": 800.0, "unit": "W"}], "from": "file"}
    s.change_settings({"consumption_offsets": [{"name": "ev2", "value": 3, "unit": "A"}]})
    assert s.policy.settings.consumption_offsets == (ConsumptionOffset("ev2", 3, "A"),)
    with pytest.raises(ConfigError, match="same name"):
        s.change_settings({"consumption_offsets": [{"name": "a", "value": 1}] * 2})
    assert s.policy.settings.consumption_offsets == (ConsumptionOffset("ev2", 3, "A"),)
    s.change_settings({"consumption_offsets": None})  # back to the file's
    assert s.status()["settings"]["consumption_offsets"]["from"] == "file"
