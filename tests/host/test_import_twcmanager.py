"""`twcm import-twcmanager` on TWCManager files written as its docs and example show them
(tests/fixtures/twcmanager/): the written twcm.toml loads with `twcm run`'s loader and means
the same, what cannot be carried over is listed on stderr and atop the file, secrets stay
out of it, and bad input gets an error naming the file and the key."""
from __future__ import annotations

import json
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from twcm.cli import main
from twcm.service.config import Config, ConfigError
from twcm.service.config_load import load
from twcm.service.policy import NonScheduled, schedule_claim
from twcm.twcmanager_import.reading import strip_comments
from twcm.twcmanager_import.toml_writer import value

FIXTURES = Path(__file__).parents[1] / "fixtures" / "twcmanager"
SECRETS = ("mqttpass", "s3cret", "dsmrpass", "emspass", "test123", "ABC123", '"KEY"')


def run_import(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str | Path,
               settings: str | Path | None = None, *extra: str) -> tuple[int, str, str]:
    """(exit code, the written file or "", stderr)."""
    out = tmp_path / "twcm.toml"
    args = ["import-twcmanager", str(FIXTURES / config if isinstance(config, str) else config)]
    if settings is not None:
        args.append(str(FIXTURES / settings if isinstance(settings, str) else settings))
    code = main([*args, "-o", str(out), *extra])
    err = capsys.readouterr().err
    return code, out.read_text() if out.exists() else "", err


def loads(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Config:
    """`twcm run`'s loader on the written file, its secrets exported as the file says."""
    for line in text.splitlines():
        if line.startswith("#   export "):
            monkeypatch.setenv(line.split()[2].split("=")[0], "secret")
    path = tmp_path / "loaded.toml"
    path.write_text(text)
    return load(path)


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_minimal_config_loads_with_the_limits_and_says_what_it_left(tmp_path, capsys,
                                                                    monkeypatch):
    code, text, err = run_import(tmp_path, capsys, "minimal.json")
    assert code == 0
    site = loads(tmp_path, text, monkeypatch).site[0]
    assert (site.name, site.max_amps, site.policy.min_amps) == ("home", 32, 6)
    assert site.policy.volts == 240  # TWCManager's default when none is given
    assert [s.type for s in site.sources()] == ["static"]  # no EMS module: a placeholder
    for listed in ("settings.json: not given", "interface.RS485",
                   "no enabled EMS module"):
        assert listed in err
        assert listed in text.split("[[site]]")[0]  # and atop the file, as comments
    assert '"wiring_max_amps_all": 32' in text and '"wiring_max_amps_per_twc": 32' in text


def test_typical_fronius_schedule_mqtt(tmp_path, capsys, monkeypatch):
    code, text, err = run_import(tmp_path, capsys, "typical.json", "typical-settings.json")
    assert code == 0
    config = loads(tmp_path, text, monkeypatch)
    site = config.site[0]
    [fronius] = site.sources()
    assert (fronius.type, fronius.options()) == ("fronius", {"url": "http://192.168.1.20"})
    assert (site.policy.volts, site.policy.phases) == (230, 3)
    assert site.policy.green.subtract_charger_load is True
    assert site.settings().non_scheduled is NonScheduled.TRACK_GREEN  # nonScheduledAction "3"
    assert config.broker is not None
    assert config.broker.url == "mqtt://mqttuser@192.168.1.2"
    assert config.broker.password_env == "TWCM_MQTT_PASSWORD"
    assert "export TWCM_MQTT_PASSWORD" in err and "control.MQTT.password" in err
    assert not any(s in text for s in SECRETS)
    assert config.api.port == 8080
    # The schedule means the same: every quarter hour of a week, in or out as TWCManager's
    # rule (a window from start to end hour on the days of the bitmap, one that ends before
    # it starts runs past midnight and belongs to its start day) has it.
    windows = site.settings().windows
    monday = datetime(2024, 1, 1)
    for q in range(7 * 24 * 4):
        now = monday + timedelta(minutes=15 * q)
        hour, day, yesterday = now.hour + now.minute / 60, now.weekday(), (now.weekday() - 1) % 7
        twcmanager = (hour >= 23 and 31 & (1 << day)) or (hour < 6 and 31 & (1 << yesterday))
        claim = schedule_claim(windows, now)
        assert (claim is not None) == bool(twcmanager), now
        assert claim is None or claim.amps == 16


def test_the_password_must_be_exported_before_twcm_run(tmp_path, capsys, monkeypatch):
    code, text, _ = run_import(tmp_path, capsys, "typical.json")
    assert code == 0
    monkeypatch.delenv("TWCM_MQTT_PASSWORD", raising=False)
    path = write(tmp_path, "check.toml", text)
    with pytest.raises(ConfigError, match="broker.password_env"):
        load(path)


def test_json_with_comments_as_twcmanager_reads_it(tmp_path, capsys, monkeypatch):
    raw = (FIXTURES / "commented.json").read_text()
    assert "#" in raw and "//" in raw and "\t" in raw and ",\n    }" in raw
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    code, text, _ = run_import(tmp_path, capsys, "commented.json")
    assert code == 0
    site = loads(tmp_path, text, monkeypatch).site[0]
    assert (site.max_amps, site.policy.min_amps, site.policy.volts) == (40, 12, 240)
    assert site.policy.green.start_delay_s == 60  # "#startStopDelay" is commented out
    topics = {s.name: (s.options()["topic"], s.options()["role"]) for s in site.sources()}
    assert topics == {"mqtt_consumption": ("house/power", "consumption"),
                      "mqtt_generation": ("solar/power", "generation")}
    assert site.combine.generation is None  # one source per role: nothing to combine


def test_a_comment_is_cut_where_twcmanager_cuts_it():
    assert strip_comments('  # all\n// all\n"a": 1, # rest\n"b":\t2\n') == \
        '\n\n"a": 1, \n"b": 2\n'


def test_everything_unmappable_is_listed_with_its_reason(tmp_path, capsys, monkeypatch):
    code, text, err = run_import(tmp_path, capsys, "everything.json",
                                 "everything-settings.json")
    assert code == 0
    config = loads(tmp_path, text, monkeypatch)
    site = config.site[0]
    for key, why in [("sources.Efergy", "no Efergy integration"),
                     ("sources.Growatt", "no Growatt integration"),
                     ("sources.OpenWeatherMap", "no OpenWeatherMap integration"),
                     ("sources.URL", "no URL integration"),
                     ("sources.Enphase", "retired"),
                     ("config.teslaApiClientID", "Tesla API"),
                     ("config.minChargeLevel", "Tesla API"),
                     ("vehicle.TeslaMate", "Tesla API"),
                     ("config.maxAmpsAllowedFromGrid", "main_fuse_amps"),
                     ("config.greenEnergyLatch", "stop_delay_s"),
                     ("config.realPowerFactorMinAmps", "power factor"),
                     ("logging.MySQL", "SQLite"),
                     ("control.OCPP", "OCPP"), ("control.IPC", "WebIPC"),
                     ("status.HASS", "MQTT"),
                     ("policy.extend.emergency", "Charge Now with Grid power limit"),
                     ("policy.extend.webhooks", "webhooks"),
                     ("settings.json: VehicleGroups", "VIN"),
                     ("settings.json: scheduledAmpsFlexStart", "state of charge"),
                     ("settings.json: hourResumeTrackGreenEnergy", "start hour")]:
        line = next((l for l in err.splitlines() if key in l), None)
        assert line is not None and why in line, key
        assert line.strip() in text  # the same line atop the file
    assert "treatGenerationAsGridDelivery" not in err  # false: nothing lost
    assert not any(s in text for s in SECRETS)
    # Several meters, each limited to what TWCManager read from it, summed per role.
    names = {s.name: s for s in site.sources()}
    assert {"fronius_1", "fronius_2", "hass_consumption", "hass_generation", "kostal",
            "mqtt_generation", "powerwall", "smartme", "solaredge", "solarlog", "ted",
            "openhab_consumption", "dsmr_reader"} == set(names)
    assert names["fronius_2"].role_list() == ("generation", "consumption")
    assert names["smartme"].role_list() == ("grid",)
    assert names["smartme"].options()["serial"] == 12345678
    assert names["hass_generation"].options()["url"] == "https://192.168.1.1:8123"
    assert (site.combine.generation, site.combine.consumption, site.combine.grid) == \
        ("sum", "sum", "sum")
    settings = site.settings()
    assert settings.green.offset_w == 500 and settings.green.offset_amps == 3.5
    assert settings.green.flex_w == 2 * 240  # greenEnergyFlexAmps x volts x phases
    assert settings.green.start_delay_s == settings.green.stop_delay_s == 90
    assert settings.battery_min_soc == 90
    assert settings.max_reading_age_s > 360  # the SolarEdge cloud is read every 6 minutes
    assert (settings.non_scheduled, settings.non_scheduled_amps) == (NonScheduled.FIXED, 24)
    assert "still tracked green energy between sunrise and sunset" in err
    # The per-day schedule: days of the same times in one window; 100 A clamped to 80 A.
    assert [(w.days, f"{w.start:%H:%M}", f"{w.end:%H:%M}", w.amps) for w in settings.windows] \
        == [((0, 1, 3), "23:00", "06:30", 80), ((4,), "01:00", "05:00", 80),
            ((6,), "10:00", "14:00", 80)]
    assert "scheduledAmpsMax: 100 A is outside" in err
    assert config.broker is not None and config.broker.url == "mqtts://twc@broker.lan"
    assert "status.MQTT: twcm uses one broker" in err
    assert config.log.level == "debug" and config.api.port == 8181
    assert '"wiring_max_amps_per_twc": 48' in text


def test_refuses_to_overwrite_unless_forced_and_writes_stdout(tmp_path, capsys):
    out = write(tmp_path, "twcm.toml", "# mine\n")
    code, text, err = run_import(tmp_path, capsys, "minimal.json")
    assert code == 2 and text == "# mine\n" and "exists" in err and "--force" in err
    code, text, _ = run_import(tmp_path, capsys, "minimal.json", None, "--force")
    assert code == 0 and text.startswith("# twcm.toml imported")
    out.unlink()
    assert main(["import-twcmanager", str(FIXTURES / "minimal.json"), "-o", "-"]) == 0
    captured = capsys.readouterr()
    assert tomllib.loads(captured.out)["site"][0]["max_amps"] == 32
    assert "interface.RS485" in captured.err and not out.exists()


def test_site_and_timezone(tmp_path, capsys, monkeypatch):
    code, text, _ = run_import(tmp_path, capsys, "minimal.json", None, "--site", "garage",
                               "--timezone", "Europe/Amsterdam")
    assert code == 0
    site = loads(tmp_path, text, monkeypatch).site[0]
    assert (site.name, site.timezone) == ("garage", "Europe/Amsterdam")
    code, _, err = run_import(tmp_path, capsys, "minimal.json", None, "--force",
                              "--timezone", "Mars/Olympus")
    assert code == 2 and "--timezone" in err and "IANA" in err


def base(**config: object) -> dict[str, object]:
    return {"config": {"wiringMaxAmpsAllTWCs": 32, "wiringMaxAmpsPerTWC": 32, **config}}


@pytest.mark.parametrize("config, settings, expected", [
    ("[1, 2]", None, "not a TWCManager config.json"),
    ('{"config": {"wiringMaxAmpsAllTWCs": 32,,}', None, "not JSON"),
    ({"interface": {}}, None, 'no "config" section'),
    (base(wiringMaxAmpsAllTWCs="forty"), None,
     "config.wiringMaxAmpsAllTWCs: 'forty' is not a number"),
    ({"config": {"wiringMaxAmpsPerTWC": 32}}, None, "config.wiringMaxAmpsAllTWCs: None is "
                                                    "missing"),
    (base(subtractChargerLoad="maybe"), None, "config.subtractChargerLoad: 'maybe' is not "
                                              "true or false"),
    ({**base(), "sources": {"Fronius": {"enabled": True, "serverIP": "x", "serverPort": "web"}}},
     None, "sources.Fronius.serverPort: 'web' is not a TCP port"),
    ({**base(), "sources": {"HASS": "on"}}, None, "sources.HASS: 'on' is an object"),
    ({**base(), "sources": {"SolarEdge": {"enabled": True, "apiKey": "k", "siteID": "my"}}},
     None, "sources.SolarEdge.siteID: 'my' is not a SolarEdge site number"),
    (base(), {"nonScheduledAction": 7}, "nonScheduledAction: 7 is not 1, 2 or 3"),
    (base(), {"scheduledAmpsStartHour": 25}, "scheduledAmpsStartHour: 25 is not an hour"),
    (base(), {"consumptionOffset": {"pump": {"value": "lots", "unit": "W"}}},
     "consumptionOffset.pump.value: 'lots' is not a number"),
    (base(), "{oops", "not JSON at line 1"),
])
def test_bad_input_names_the_file_and_the_key(tmp_path, capsys, config, settings, expected):
    if expected.endswith("is an object"):
        expected = "sources.HASS: 'on' is a string, not an object"
    cfg = write(tmp_path, "config.json", config)
    st_path = write(tmp_path, "settings.json", settings) if settings is not None else None
    code, text, err = run_import(tmp_path, capsys, cfg, st_path)
    assert code == 2 and text == ""
    assert expected in err
    assert ("settings.json" if settings is not None and "config" not in expected
            else "config.json") in err


def test_a_missing_file_is_named(tmp_path, capsys):
    code, _, err = run_import(tmp_path, capsys, tmp_path / "nope.json")
    assert code == 2 and "nope.json: no such file" in err and "/etc/twcmanager" in err


def test_values_out_of_twcm_range_are_clamped_and_said(tmp_path, capsys, monkeypatch):
    cfg = write(tmp_path, "config.json", base(wiringMaxAmpsAllTWCs=300, minAmpsPerTWC=400,
                                              wiringMaxAmpsPerTWC=100, defaultVoltage=400,
                                              numberOfPhases=4))
    code, text, err = run_import(tmp_path, capsys, cfg)
    assert code == 0
    site = loads(tmp_path, text, monkeypatch).site[0]
    assert (site.max_amps, site.policy.min_amps) == (240, 240)
    assert (site.policy.volts, site.policy.phases) == (230, 1)
    assert "config.wiringMaxAmpsAllTWCs: 300 A is outside a site's max_amps's 1-240 A" in err
    assert "config.minAmpsPerTWC: 400 A is outside" in err
    assert "defaultVoltage: 400 V" in err and "numberOfPhases: 4" in err
    assert '"wiring_max_amps_per_twc": 80' in text and "clamped" in err


@pytest.mark.parametrize("settings, non_scheduled, amps, windows", [
    ({"nonScheduledAction": 2}, NonScheduled.DO_NOT_CHARGE, 16, 0),
    ({"nonScheduledAmpsMax": "10"}, NonScheduled.FIXED, 10, 0),  # TWCManager's default: 1
    ({"scheduledAmpsMax": 16, "scheduledAmpsStartHour": 8, "scheduledAmpsEndHour": 8},
     NonScheduled.FIXED, 0, 0),  # start == end: TWCManager never charged in it
    ({"scheduledAmpsMax": 16, "scheduledAmpsStartHour": 22.5, "scheduledAmpsEndHour": 24,
      "scheduledAmpsDaysBitmap": 96}, NonScheduled.FIXED, 0, 1),
])
def test_non_scheduled_action_and_schedule(tmp_path, capsys, monkeypatch, settings,
                                           non_scheduled, amps, windows):
    code, text, _ = run_import(tmp_path, capsys, write(tmp_path, "c.json", base()),
                               write(tmp_path, "s.json", settings))
    assert code == 0
    s = loads(tmp_path, text, monkeypatch).site[0].settings()
    assert (s.non_scheduled, s.non_scheduled_amps, len(s.windows)) == \
        (non_scheduled, amps, windows)
    if windows:
        [w] = s.windows
        assert (w.days, f"{w.start:%H:%M}", f"{w.end:%H:%M}") == ((5, 6), "22:30", "00:00")


@given(st.text())
def test_every_string_survives_the_writer(s):
    assert tomllib.loads(f"k = {value(s)}\n")["k"] == s


def test_a_result_that_would_not_load_is_never_written(tmp_path, capsys, monkeypatch):
    import twcm.twcmanager_import as package
    from twcm.twcmanager_import import Imported
    from twcm.twcmanager_import.report import Report

    monkeypatch.setattr(package, "convert", lambda *a: Imported(
        '[[site]]\nname = "home"\nmax_amps = 0\n', Report()))
    code, text, err = run_import(tmp_path, capsys, "minimal.json")
    assert code == 1 and text == "" and "does not load" in err and "max_amps" in err


def test_the_docs_example_is_what_the_command_writes(tmp_path, capsys):
    doc = (Path(__file__).parents[2] / "docs" / "import-twcmanager.md").read_text()
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    code, text, _ = run_import(tmp_path, capsys, "typical.json", "typical-settings.json")
    assert code == 0 and text[text.index("[[site]]"):] == example
