"""OCPP charging profiles, sans-IO: the composite schedule as OCPP 1.6 defines it (stack
levels, purposes, kinds, units), and what it makes of the site and its TWCs."""
from __future__ import annotations

import pytest

from twcm.service.ocpp.limits import Limits
from twcm.service.ocpp.profiles import (Profile, Profiles, Refused, Tx, format_time,
                                        parse_time)

T0 = parse_time("2026-12-07T20:00:00Z")  # a Monday


def prof(pid: int, purpose: str, limits: list[tuple[int, float]], *, connector: int = 0,
         level: int = 0, kind: str = "Absolute", start: float | None = T0,
         duration: int | None = None, unit: str = "A", recurrency: str | None = None,
         valid_to: float | None = None, tx: int | None = None) -> Profile:
    schedule = {"charging_rate_unit": unit, "charging_schedule_period": [
        {"start_period": s, "limit": lim} for s, lim in limits]}
    if start is not None:
        schedule["start_schedule"] = format_time(start)
    if duration is not None:
        schedule["duration"] = duration
    d = {"charging_profile_id": pid, "stack_level": level,
         "charging_profile_purpose": purpose, "charging_profile_kind": kind,
         "charging_schedule": schedule}
    if recurrency:
        d["recurrency_kind"] = recurrency
    if valid_to is not None:
        d["valid_to"] = format_time(valid_to)
    if tx is not None:
        d["transaction_id"] = tx
    return Profile.parse(connector, d, T0)


def amps(c: int, limit: float, unit: str, phases: int | None) -> float:
    return limit if unit == "A" else limit / 230


def at(book: Profiles, t: float, connector: int = 1, tx: Tx | None = None) -> float | None:
    return book.connector_limit(connector, t, tx, amps)


def test_an_absolute_profile_steps_through_its_periods_and_ends_with_its_duration():
    book = Profiles()
    book.install(prof(1, "TxDefaultProfile", [(0, 16), (600, 10), (1200, 0)], duration=1800))
    assert at(book, T0 - 1) is None  # not begun
    assert [at(book, T0 + s) for s in (0, 599, 600, 1199, 1200, 1799)] == [16, 16, 10, 10, 0, 0]
    assert at(book, T0 + 1800) is None  # over: nothing limits
    assert book.changes({1: None}, T0 - 10, T0 + 4000) == [T0, T0 + 600, T0 + 1200, T0 + 1800]


def test_the_highest_stack_level_in_force_wins_and_lower_ones_come_back():
    book = Profiles()
    book.install(prof(1, "TxDefaultProfile", [(0, 16)], level=0))
    book.install(prof(2, "TxDefaultProfile", [(0, 6)], level=3, duration=3600))
    book.install(prof(3, "TxDefaultProfile", [(0, 32)], level=1))
    assert at(book, T0 + 10) == 6  # level 3, though lowest
    assert at(book, T0 + 3600) == 32  # level 3 over: level 1 (not 0)
    book.clear(id=3)
    assert at(book, T0 + 3600) == 16


def test_charge_point_max_caps_every_connector_and_tx_profile_replaces_tx_default():
    book = Profiles()
    book.install(prof(1, "ChargePointMaxProfile", [(0, 20)]))
    book.install(prof(2, "TxDefaultProfile", [(0, 32)], level=5))
    assert at(book, T0) == 20 and book.site_max(T0, amps) == 20
    with pytest.raises(Refused, match="no transaction"):
        book.install(prof(3, "TxProfile", [(0, 8)], connector=1))
    tx = Tx(77, T0)
    with pytest.raises(Refused, match="transaction 5 is not the one"):
        book.install(prof(3, "TxProfile", [(0, 8)], connector=1, tx=5), tx)
    book.install(prof(3, "TxProfile", [(0, 24)], connector=1, level=0), tx)
    assert at(book, T0, tx=tx) == 20  # the TxProfile (level 0 < 5) yet CP max caps it
    assert at(book, T0, connector=2, tx=Tx(78, T0)) == 20  # other connectors: TxDefault
    book.install(prof(4, "TxProfile", [(0, 8)], connector=1, level=1), tx)
    assert at(book, T0, tx=tx) == 8
    book.transaction_ended(1)
    assert at(book, T0, tx=None) == 20 and len(book.installed) == 2


def test_a_connectors_own_default_wins_over_connector_zeros_at_the_same_level():
    book = Profiles()
    book.install(prof(1, "TxDefaultProfile", [(0, 16)], connector=0))
    book.install(prof(2, "TxDefaultProfile", [(0, 10)], connector=2))
    assert at(book, T0, 1) == 16 and at(book, T0, 2) == 10


def test_same_id_or_same_level_and_purpose_replaces():
    book = Profiles()
    book.install(prof(1, "TxDefaultProfile", [(0, 16)]))
    book.install(prof(1, "TxDefaultProfile", [(0, 12)], level=2))
    assert [p.id for p in book.installed] == [1] and at(book, T0) == 12
    book.install(prof(9, "TxDefaultProfile", [(0, 7)], level=2))
    assert [p.id for p in book.installed] == [9] and at(book, T0) == 7
    book.install(prof(10, "TxDefaultProfile", [(0, 5)], level=2, connector=1))
    assert len(book.installed) == 2  # on another connector: both stay
    assert book.clear(purpose="TxDefaultProfile", connector=1) == 1
    assert book.clear(id=123) == 0


def test_a_daily_profile_recurs_and_a_weekly_one_once_a_week():
    book = Profiles()
    book.install(prof(1, "TxDefaultProfile", [(0, 16)], kind="Recurring",
                      recurrency="Daily", duration=8 * 3600))  # 20:00-04:00 each day
    assert at(book, T0 + 86400 + 3600) == 16  # Tuesday 21:00
    assert at(book, T0 + 86400 + 12 * 3600) is None  # Wednesday 08:00
    assert at(book, T0 - 3600) is None  # before the first
    book.install(prof(2, "TxDefaultProfile", [(0, 6)], kind="Recurring", level=1,
                      recurrency="Weekly", duration=3600))
    assert at(book, T0 + 7 * 86400 + 60) == 6 and at(book, T0 + 86400 + 60) == 16
    assert T0 + 7 * 86400 + 3600 in book.changes({1: None}, T0 + 6 * 86400, T0 + 8 * 86400)


def test_a_relative_profile_counts_from_the_transaction():
    book = Profiles()
    book.install(prof(1, "TxDefaultProfile", [(0, 10), (3600, 32)], kind="Relative",
                      start=None))
    assert at(book, T0 + 5000, tx=Tx(1, T0 + 4000)) == 10
    assert at(book, T0 + 8000, tx=Tx(1, T0 + 4000)) == 32
    assert at(book, T0 + 8000, tx=None) == 10  # no transaction: its first period


@pytest.mark.parametrize("changes, match", [
    (dict(purpose="ChargePointMaxProfile", connector=1), "connector 0 only"),
    (dict(purpose="TxProfile", connector=0), "not 0"),
    (dict(purpose="TxDefaultProfile", kind="Recurring"), "recurrencyKind"),
    (dict(purpose="TxDefaultProfile", limits=[(10, 6)]), "start at 0"),
    (dict(purpose="TxDefaultProfile", limits=[(0, 6), (0, 8)]), "in order"),
    (dict(purpose="TxDefaultProfile", limits=[(0, -1)]), "negative"),
    (dict(purpose="Elsewhere"), "purpose"),
])
def test_bad_profiles_are_refused(changes, match):
    args = {"limits": [(0, 16)], **changes}
    purpose = args.pop("purpose")
    limits = args.pop("limits")
    with pytest.raises(Refused, match=match):
        prof(1, purpose, limits, **args)


def test_stack_level_and_count_limits():
    book = Profiles(max_stack_level=8, max_installed=2)
    with pytest.raises(Refused, match="stackLevel 9"):
        book.install(prof(1, "TxDefaultProfile", [(0, 6)], level=9))
    book.install(prof(1, "TxDefaultProfile", [(0, 6)], level=1))
    book.install(prof(2, "TxDefaultProfile", [(0, 6)], level=2))
    with pytest.raises(Refused, match="2 profiles"):
        book.install(prof(3, "TxDefaultProfile", [(0, 6)], level=3))


def test_profiles_survive_a_restart_but_tx_profiles_do_not():
    book = Profiles()
    book.install(prof(1, "ChargePointMaxProfile", [(0, 20.5)]))
    book.install(prof(2, "TxProfile", [(0, 8)], connector=1), Tx(1, T0))
    again = Profiles()
    again.from_json(book.to_json(), T0 + 99)
    assert [p.id for p in again.installed] == [1] and again.site_max(T0, amps) == 20.5


def limits(mode: str = "caps", volts: tuple[int, ...] = (230, 0, 0)) -> Limits:
    lim = Limits(mode, Profiles(), lambda: T0 + 60)
    lim.connectors = {1: "1A2B", 2: "32C4"}
    lim.volts = {1: volts, 2: volts}
    return lim


def test_watts_become_amps_with_the_twcs_volts_and_phases():
    one = limits()
    one.profiles.install(prof(1, "TxDefaultProfile", [(0, 3680)], unit="W"))
    assert one.connector_amps(1, T0) == 16
    three = limits(volts=(230, 230, 230))
    three.profiles.install(prof(1, "TxDefaultProfile", [(0, 11040)], unit="W"))
    assert three.connector_amps(1, T0) == 16


def test_the_site_is_charge_point_max_or_the_sum_of_the_connectors():
    lim = limits()
    assert lim.site_amps(T0) is None and lim.claims() == [] and lim.twc_caps() == {}
    lim.profiles.install(prof(1, "TxDefaultProfile", [(0, 10)], connector=1))
    assert lim.site_amps(T0) is None  # connector 2 is unlimited
    lim.profiles.install(prof(2, "TxDefaultProfile", [(0, 12)], connector=2))
    assert lim.site_amps(T0) == 22 and lim.twc_caps() == {"1A2B": 10, "32C4": 12}
    lim.profiles.install(prof(3, "ChargePointMaxProfile", [(0, 16)]))
    assert lim.site_amps(T0) == 16
    (claim,) = lim.claims()
    assert (claim.source, claim.amps) == ("safety", 16) and "OCPP" in claim.reason
    lim.holds[1] = "idTag Invalid"
    assert lim.twc_caps()["1A2B"] == 0 and lim.site_amps(T0) == 12
    decides = limits("decides")
    decides.profiles.install(prof(3, "ChargePointMaxProfile", [(0, 16)]))
    assert [(c.source, c.amps) for c in decides.claims()] == [("ocpp", 16)]


def test_a_1000_a_profile_is_shown_clamped_to_the_wiring():
    lim = limits()
    lim.site_limit, lim.twc_limit = 40, {1: 32, 2: 16}
    lim.profiles.install(prof(1, "ChargePointMaxProfile", [(0, 1000)]))
    lim.profiles.install(prof(2, "TxDefaultProfile", [(0, 1000)]))
    assert lim.site_amps(T0) == 1000  # asked ...
    status = lim.status()
    assert status["site"] == {"asked_amps": 1000, "applied_amps": 40}  # ... and applied
    assert status["connectors"]["2"]["applied_amps"] == 16
    start, periods = lim.composite(0, 600, "A")
    assert periods == [{"start_period": 0, "limit": 40}]
    assert lim.composite(2, 600, "W")[1] == [{"start_period": 0, "limit": 16 * 230}]


def test_the_device_schedule_takes_the_profiles_next_hours():
    now = T0 + 60
    local = [{"start": int(now + 3600), "end": int(now + 7200), "amps": 24}]
    caps = limits("caps")
    caps.profiles.install(prof(1, "ChargePointMaxProfile", [(0, 10), (5400, 30)]))
    # caps: the local window lowered; where none, the fallback (6 A) lowered
    assert caps.windows(local, 6) == [
        {"start": int(now), "end": int(now + 3600), "amps": 6},
        {"start": int(now + 3600), "end": int(T0 + 5400), "amps": 10},
        {"start": int(T0 + 5400), "end": int(now + 7200), "amps": 24},
        {"start": int(now + 7200), "end": int(now + 47 * 3600), "amps": 6}]
    decides = limits("decides")
    decides.profiles.install(prof(1, "ChargePointMaxProfile", [(0, 10)], duration=3 * 3600))
    assert decides.windows(local, 6) == [
        {"start": int(now), "end": int(T0 + 3 * 3600), "amps": 10}]
    assert limits().windows(local, 6) == local  # no profile: the local windows alone
