"""What each REST API route does, over real HTTP (tests/host/api_rig.py): the status and
its parts, Charge Now, the settings (checked as the config file is, all or nothing, kept
across a restart), history from the database and charge sessions."""
from __future__ import annotations

import time

import pytest

from api_rig import STATE, Rig
from twcm.service.devicelink import parse_state
from twcm.service.history.records import DecisionRecord, EnergySample
from twcm.service.history.sessions import DeviceRecords
from twcm.service.history.sql import SqlBackend
from twcm.service.site import SiteLoop


@pytest.fixture
def rig(tmp_path):
    with Rig(tmp_path) as r:
        yield r


def get(rig: Rig, path: str) -> object:
    code, answer = rig.request("GET", path, token=rig.reader)
    assert code == 200, (path, answer)
    return answer


def runtime(rig: Rig, site: str = "home") -> dict | None:
    return rig.call(lambda: rig.store.settings(site))


def test_status_and_its_parts(rig):
    assert [s["site"] for s in get(rig, "/api/status")["sites"]] == ["home", "barn"]
    assert get(rig, "/api/sites/home/twcs") == []  # before the device told anything
    assert get(rig, "/api/sites/home/device") == {"health": "unknown", "state": None}
    rig.device()
    status = get(rig, "/api/sites/home")
    assert status["device"]["state"]["slaves"][0]["id"] == "1A2B"
    assert [t["id"] for t in get(rig, "/api/sites/home/twcs")] == ["1A2B", "32C4"]
    assert get(rig, "/api/sites/home/twcs/32c4")["state"] == "ready"
    assert get(rig, "/api/sites/home/sources") == []  # before the first turn
    rig.call(rig.sites["home"].turn)
    assert get(rig, "/api/sites/home/sources")[0]["type"] == "static"
    assert get(rig, "/api/sites/home/device")["health"] == "online"
    assert get(rig, "/api/version")["version"]
    code, answer = rig.request("GET", "/api/sites/home/twcs/FFFF", token=rig.reader)
    assert code == 404 and "1A2B, 32C4" in answer["error"]
    code, answer = rig.request("GET", "/api/sites/shed/decision", token=rig.reader)
    assert code == 404 and answer["error"] == "no site 'shed': the sites are home, barn"
    assert rig.request("GET", "/api/nope", token=rig.reader)[0] == 404


def test_charge_now_starts_and_ends_with_the_decision_and_its_claims(rig):
    code, status = rig.request("POST", "/api/sites/home/charge_now",
                               {"amps": 16, "minutes": 30}, rig.admin)
    assert code == 200 and status["charge_now"]["amps"] == 16
    decision = get(rig, "/api/sites/home/decision")
    assert decision["set_by"] == "manual" and decision["amps"] == 16
    assert {"safety", "manual"} <= {c["source"] for c in decision["claims"]}
    assert get(rig, "/api/sites/home/charge_now")["amps"] == 16
    # The site's own maximum (24 A), then the API's range: each names the field.
    for body, words in [({"amps": 25, "minutes": 5}, "amps must be 0-24, not 25"),
                        ({"amps": 300, "minutes": 5}, "amps: Input should be less than or "
                                                      "equal to 240"),
                        ({"amps": 8, "minutes": 0}, "minutes: Input should be greater"),
                        ({"amps": 8, "minutes": 5, "x": 1}, "x: Extra inputs"),
                        ({"amps": "8", "minutes": 5}, "amps: Input should be a valid integer")]:
        code, answer = rig.request("POST", "/api/sites/home/charge_now", body, rig.admin)
        assert code == 422 and words in answer["error"], (body, answer)
    assert get(rig, "/api/sites/home/charge_now")["amps"] == 16
    code, status = rig.request("DELETE", "/api/sites/home/charge_now", token=rig.admin)
    assert code == 200 and status["charge_now"] is None
    assert get(rig, "/api/sites/home/charge_now") is None


def test_a_refused_setting_names_the_key_and_changes_nothing(rig):
    assert get(rig, "/api/sites/home/non_scheduled") == {"action": "track_green", "amps": 16}
    code, answer = rig.request("PUT", "/api/sites/home/non_scheduled",
                               {"action": "fixed", "amps": 30}, rig.admin)
    assert code == 422
    assert answer["problems"][0].startswith('site "home": policy.non_scheduled_amps: 30 is '
                                            "not allowed")
    # Neither half of the change was made: the action is not fixed either.
    assert get(rig, "/api/sites/home/non_scheduled")["action"] == "track_green"
    assert runtime(rig) is None
    code, answer = rig.request("PUT", "/api/sites/home/non_scheduled",
                               {"action": "fixed", "amps": 10}, rig.admin)
    assert (code, answer) == (200, {"action": "fixed", "amps": 10})
    settings = get(rig, "/api/sites/home/settings")
    assert settings["non_scheduled"] == {"value": "fixed", "from": "runtime"}
    assert settings["min_amps"]["from"] == "default"
    assert get(rig, "/api/sites/home")["decision"]["reason"].endswith("fixed 10 A")


def test_the_schedule_is_read_and_replaced(rig):
    window = {"days": ["Mon", "Tue"], "start": "22:00", "end": "06:00", "amps": 16}
    assert get(rig, "/api/sites/home/schedule") == {"windows": []}
    code, answer = rig.request("PUT", "/api/sites/home/schedule", {"windows": [window]},
                               rig.admin)
    assert (code, answer) == (200, {"windows": [window]})
    for bad, words in [({**window, "start": "25:00"}, "windows.1.start"),
                       ({**window, "days": ["Monday"]}, "windows.1.days.0"),
                       ({**window, "amps": -1}, "windows.1.amps")]:
        code, answer = rig.request("PUT", "/api/sites/home/schedule",
                                   {"windows": [window, bad]}, rig.admin)
        assert code == 422 and words in answer["error"], answer
    assert get(rig, "/api/sites/home/schedule") == {"windows": [window]}
    assert rig.request("PUT", "/api/sites/home/schedule", {"windows": []}, rig.admin) == (
        200, {"windows": []})


def test_green_settings_change_key_by_key_and_null_goes_back_to_the_file(rig):
    green = get(rig, "/api/sites/home/green")
    assert green["start_delay_s"] == {"value": 60.0, "from": "default"}
    code, answer = rig.request("PATCH", "/api/sites/home/green",
                               {"start_delay_s": 30, "flex_w": 200}, rig.admin)
    assert code == 200 and answer["start_delay_s"] == {"value": 30, "from": "runtime"}
    code, answer = rig.request("PATCH", "/api/sites/home/green",
                               {"start_delay_s": -5}, rig.admin)
    assert code == 422 and "green.start_delay_s" in answer["error"]
    code, answer = rig.request("PATCH", "/api/sites/home/green", {"start_delay_s": None},
                               rig.admin)
    assert answer["start_delay_s"]["from"] == "default"
    assert answer["flex_w"] == {"value": 200, "from": "runtime"}
    # The generic route takes any fragment, and refuses unknown keys by name.
    code, answer = rig.request("PATCH", "/api/sites/home/settings", {"min_amps": 8},
                               rig.admin)
    assert code == 200 and answer["min_amps"] == {"value": 8, "from": "runtime"}
    code, answer = rig.request("PATCH", "/api/sites/home/settings", {"min_amp": 8},
                               rig.admin)
    assert code == 422 and 'policy: unknown key "min_amp"' in answer["problems"][0]


def test_runtime_settings_survive_a_restart(tmp_path):
    with Rig(tmp_path) as rig:
        rig.request("PUT", "/api/sites/barn/non_scheduled", {"action": "do_not_charge"},
                    rig.admin)
        rig.request("PATCH", "/api/sites/barn/green", {"raise_wh": 50}, rig.admin)
    with Rig(tmp_path) as again:  # twcm restarted on the same database
        settings = get(again, "/api/sites/barn/settings")
        assert settings["non_scheduled"] == {"value": "do_not_charge", "from": "runtime"}
        assert settings["green.raise_wh"] == {"value": 50, "from": "runtime"}
        assert get(again, "/api/sites/home/settings")["non_scheduled"]["from"] == "default"


def write(records: list, rig: Rig) -> None:
    """Records into the rig's database, as the history writer's database backend does."""
    backend = SqlBackend(rig.store.url)
    backend.write(records)
    backend.close()


def test_history_from_the_database_is_bounded(rig):
    now = time.time()
    turns = [(now - 100 + i, "home", i, f"turn {i}") for i in range(5)]
    turns.append((now - 50, "barn", 1, "other site"))
    write([r for at, site, amps, reason in turns
           for r in (EnergySample(at, site, None, None, None, None, None, None),
                     DecisionRecord(at, site, amps, None, None, reason))], rig)
    answer = get(rig, f"/api/sites/home/history?start={now - 200}&end={now}")
    assert [s["reason"] for s in answer["samples"]] == [f"turn {i}" for i in range(5)]
    assert answer["truncated"] is False
    answer = get(rig, f"/api/sites/home/history?start={now - 200}&end={now}&limit=2")
    assert [s["limit_amps"] for s in answer["samples"]] == [0, 1] and answer["truncated"]
    assert len(get(rig, "/api/sites/home/history")["samples"]) == 5  # the last day
    for query, words in [(f"start={now}&end={now - 1}", "must be before end"),
                         (f"start={now - 40 * 86400}&end={now}", "at most 31 days"),
                         ("limit=0", "limit: Input should be greater"),
                         ("limit=5001", "limit: Input should be less"),
                         ("start=yesterday", "start: Input should be a valid number"),
                         ("limit=2&limit=3", "give limit once")]:
        code, answer = rig.request("GET", f"/api/sites/home/history?{query}", token=rig.reader)
        assert code == 422 and words in answer["error"], (query, answer)


def test_charge_sessions_and_kwh_per_vin(rig):
    charging = {**STATE, "slaves": [{**STATE["slaves"][0], "wanting": True}]}
    idle = {**STATE, "slaves": [{**STATE["slaves"][0], "wanting": False}]}
    now = time.time()
    device = DeviceRecords("home")
    write(device.update(now - 60, parse_state(charging)) + device.update(now, parse_state(idle)),
          rig)
    sessions = get(rig, "/api/sessions")
    assert len(sessions) == 1 and sessions[0]["vin"] == "5YJ3E1EA7JF000001"
    assert sessions[0]["end"] is not None and sessions[0]["kwh"] > 0
    assert get(rig, "/api/sessions?vin=nope") == []
    assert get(rig, "/api/sessions/kwh_per_vin") == [
        {"vin": "5YJ3E1EA7JF000001", "kwh": sessions[0]["kwh"]}]


needs_twc = pytest.mark.skipif(not hasattr(SiteLoop, "set_twc_cap"),
                               reason="per-TWC caps come with branch twc")


@needs_twc
def test_a_twc_cap_is_set_and_removed(rig):
    rig.device()
    code, answer = rig.request("PUT", "/api/sites/home/twcs/1A2B/cap", {"amps": 10},
                               rig.admin)
    assert code == 200 and answer["id"] == "1A2B", answer
    code, answer = rig.request("PUT", "/api/sites/home/twcs/FFFF/cap", {"amps": 10},
                               rig.admin)
    assert code == 404
    code, answer = rig.request("PUT", "/api/sites/home/twcs/1A2B/cap", {"amps": None},
                               rig.admin)
    assert code == 200
    code, answer = rig.request("PUT", "/api/sites/home/twcs/1A2B/charging",
                               {"charging": False}, rig.admin)
    assert code in (200, 422), answer  # 422 unless the site's config enables it
    if code == 422:
        assert answer["problems"]


@needs_twc
def test_consumption_offsets_are_listed_added_and_deleted(rig):
    path = "/api/sites/home/consumption_offsets"
    assert get(rig, path) == []
    fridge = {"name": "fridge", "value": 150.0, "unit": "W"}
    assert rig.request("POST", path, fridge, rig.admin) == (200, [fridge])
    assert rig.request("POST", path, fridge, rig.admin)[0] == 409
    code, answer = rig.request("POST", path, {**fridge, "unit": "kW"}, rig.admin)
    assert code == 422 and "unit" in answer["error"]
    assert rig.request("DELETE", f"{path}/fridge", token=rig.admin) == (200, [])
    assert rig.request("DELETE", f"{path}/fridge", token=rig.admin)[0] == 404
