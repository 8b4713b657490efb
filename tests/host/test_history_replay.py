"""`twcm history` and `twcm replay --from-db` on a day written into the service's store
as `twcm run` records it: the export is a trace `twcm replay --trace` loads, and the
replay's figures come from that day and the site's own settings."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from twcm.cli import main
from twcm.replay import load_trace
from twcm.service.devicelink import parse_state
from twcm.service.history.records import DecisionRecord, EnergySample
from twcm.service.history.sessions import DeviceRecords
from twcm.service.history.sql import SqlBackend

TZ = ZoneInfo("Europe/Amsterdam")
DAY = "2026-06-21"
T0 = datetime(2026, 6, 21, 10, tzinfo=TZ).timestamp()  # the records start at 10:00
HOUSE_W = 400.0


def state(amps: float, wanting: bool):
    return parse_state({"mode": "lease", "source": "lease", "limit_amps": 16,
                        "wiring_max_amps_all": 40, "wiring_max_amps_per_twc": 32,
                        "slaves": [{"id": "1A2B", "link": "linked", "offered_amps": 16,
                                    "actual_amps": amps, "state": "charging", "volts": [230],
                                    "protocol": 2, "max_amps": 32, "lifetime_kwh": 100,
                                    "vin": None, "cap_amps": None, "wanting": wanting}]})


def record(db: Path, sun_w: float, hours: float = 1.5, step_s: float = 10) -> None:
    """A day as the service records it: the car plugged in from 10:10 to 11:00, drawing
    10 A from 10:15; the consumption meter includes it."""
    backend = SqlBackend(db)
    device = DeviceRecords("home", status_every_s=60.0)
    for k in range(int(hours * 3600 / step_s)):
        at = T0 + k * step_s
        wanting = 600 <= k * step_s < 3600
        amps = 10.0 if wanting and k * step_s >= 900 else 0.0
        use = HOUSE_W + amps * 230
        backend.write([EnergySample(at, "home", sun_w, use, amps * 230, use - sun_w, None,
                                    None),
                       DecisionRecord(at, "home", 10, "green", None, "test"),
                       *device.update(at, state(amps, wanting))])
    backend.close()


@pytest.fixture
def site(tmp_path) -> Path:
    config = tmp_path / "twcm.toml"
    config.write_text(f'[[site]]\nname = "home"\nmax_amps = 16\ntimezone = "Europe/Amsterdam"\n'
                      '[site.source]\ntype = "static"\n[site.policy.green]\n'
                      'subtract_charger_load = true\n[[site]]\nname = "barn"\nmax_amps = 16\n'
                      f'[site.source]\ntype = "static"\n[database]\nsqlite = '
                      f'"{tmp_path}/twcm.db"\n')
    return config


def figures(out: str) -> dict[str, float]:
    """The replay's figures by their first word (kWh, or % for capture)."""
    return {m[1]: float(m[2]) for m in re.finditer(r"^\s*(\w+(?: \w+)?)\s+(-?[\d.]+)",
                                                    out, re.M)}


def test_the_export_is_a_trace_with_the_house_load_and_the_sessions(site, tmp_path, capsys):
    record(tmp_path / "twcm.db", 3000.0)
    out = tmp_path / "day.csv"
    assert main(["history", "--config", str(site), "--site", "home", "--day", DAY,
                 "--csv", str(out)]) == 0
    assert "540 readings and 2 events" in capsys.readouterr().out
    trace = load_trace(out)  # the loader of `twcm replay --trace`
    assert trace.start == datetime(2026, 6, 21, 10, tzinfo=TZ)
    assert len(trace.t_s) == 540 and trace.duration_s == 5390
    assert set(trace.generation_w) == {3000.0}
    assert set(trace.consumption_w) == {HOUSE_W}  # the car's 2300 W taken off the meter
    assert [(e.t_s, e.kind, e.twc) for e in trace.events] == [(600, "plug", 0),
                                                              (3600, "unplug", 0)]


def test_the_summary_and_the_plot(site, tmp_path, capsys):
    record(tmp_path / "twcm.db", 3000.0)
    assert main(["history", "--config", str(site), "--site", "home", "--day", DAY]) == 0
    out = capsys.readouterr().out
    assert "540 samples from 10:00 to 11:29" in out
    assert re.search(r"^generation\s+4\.49 kWh$", out, re.M), out  # 3000 W × 5390 s
    assert re.search(r"^charging\s+1\.73 kWh$", out, re.M), out  # 2300 W × 2700 s
    png = tmp_path / "day.png"
    assert main(["history", "--config", str(site), "--site", "home", "--day", DAY,
                 "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_replay_from_db_scores_the_recorded_day(site, tmp_path, capsys):
    record(tmp_path / "twcm.db", 3000.0)
    assert main(["replay", "--config", str(site), "--site", "home", "--from-db", DAY]) == 0
    out = capsys.readouterr().out
    assert "site home on 2026-06-21, green mode, 16 A max" in out  # the site's max_amps
    f = figures(out)
    assert f["generation"] == pytest.approx(3.0 * 1.5, abs=0.02)
    assert f["house"] == pytest.approx(0.4 * 1.5, abs=0.01)
    assert 0 < f["from surplus"] <= 2.6 * 50 / 60  # the car is there 50 minutes
    assert f["from grid"] < 0.1


def test_a_day_without_sun_captures_no_surplus(site, tmp_path, capsys):
    record(tmp_path / "twcm.db", 0.0)
    assert main(["replay", "--config", str(site), "--site", "home", "--from-db", DAY,
                 "--mode", "fixed", "--max-amps", "10"]) == 0
    out = capsys.readouterr().out
    assert "fixed mode, 10 A max" in out  # the options change the site's settings
    f = figures(out)
    assert f["generation"] == 0 and f["surplus"] == 0 and f["from surplus"] == 0
    assert f["into cars"] == pytest.approx(f["from grid"]) and f["into cars"] > 1.0


def test_the_sites_own_settings_are_fitted_to_the_replay(tmp_path, capsys):
    record(tmp_path / "twcm.db", 3000.0, hours=0.5)
    config = tmp_path / "twcm.toml"
    config.write_text('[[site]]\nname = "home"\nmax_amps = 16\n[site.source]\ntype = "static"'
                      '\n[site.policy]\nphases = 3\nbattery_min_soc = 50.0\n[database]\n'
                      f'sqlite = "{tmp_path}/twcm.db"\n')
    day = datetime.fromtimestamp(T0).date().isoformat()  # no timezone: the machine's
    assert main(["replay", "--config", str(config), "--from-db", day]) == 0
    err = capsys.readouterr().err
    assert "note: volts × phases 230 × 3 replayed as 230 × 1" in err
    assert "note: battery_min_soc left out" in err


def test_clear_errors(site, tmp_path, capsys):
    def error(*args: str) -> str:
        assert main(list(args)) == 2
        return capsys.readouterr().err

    record(tmp_path / "twcm.db", 3000.0, hours=0.1)
    common = ("--config", str(site))
    assert "no site 'shed' in" in error("history", *common, "--site", "shed", "--day", DAY)
    assert "give --site, one of home, barn" in error("history", *common, "--day", DAY)
    assert ("site home has no samples on 2026-06-23: days with samples near it: 2026-06-21"
            in error("history", *common, "--site", "home", "--day", "2026-06-23"))
    assert "no samples on 2026-06-21: none within 30 days" in error(
        "replay", *common, "--site", "barn", "--from-db", DAY)
    with pytest.raises(SystemExit):
        main(["history", *common, "--day", "21-06-2026"])
    assert "'21-06-2026' is not a date: give YYYY-MM-DD" in capsys.readouterr().err
    (tmp_path / "twcm.db").unlink()
    assert "no database there yet" in error("history", *common, "--site", "home",
                                            "--day", DAY)
