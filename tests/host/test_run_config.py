"""twcm.toml (twcm.service.config): the example loads; every bad value is named by its key (a
site by its name), with the value and a fix; an unknown key with the nearest known one;
secrets come from the environment; `twcm run --check`."""
from __future__ import annotations

from pathlib import Path

import pytest

from twcm.cli import main
from twcm.service.config import ConfigError
from twcm.service.config_load import load
from twcm.service.policy import NonScheduled

EXAMPLE = Path(__file__).parents[2] / "examples" / "twcm.toml"

MINIMAL = """
[[site]]
name = "home"
max_amps = 32
source = { type = "static", generation_w = 3000, consumption_w = 500 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "twcm.toml"
    path.write_text(text)
    return path


def errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, text))
    return [line.removeprefix(f"{tmp_path / 'twcm.toml'}: ") for line in e.value.lines]


def test_the_example_loads_into_the_policy_settings():
    config = load(EXAMPLE)
    site = config.site[0]
    s = site.settings()
    assert (site.name, s.max_amps, s.main_fuse_amps, s.non_scheduled) == (
        "home", 32, 25, NonScheduled.TRACK_GREEN)
    assert s.green.offset_w == 100 and len(s.windows) == 1 and s.windows[0].days == (0, 1, 2, 3, 4)
    assert site.source[0].type == "sim" and site.source[0].options()["speed"] == 60
    assert config.broker is None and config.embedded_broker.port == 1883


def test_defaults(tmp_path):
    config = load(write(tmp_path, MINIMAL))
    site = config.site[0]
    assert (site.ttl_s, site.interval_s, site.timezone) == (60, 5.0, None)
    assert site.settings().green.start_delay_s == 60
    assert str(config.database.path()).endswith(".local/state/twcm/twcm.db")
    assert config.log.level == "info"


@pytest.mark.parametrize("change, line", [
    (("max_amps = 32", "max_amps = 0"),
     'site "home": max_amps: 0 is not allowed: must be >= 1 (fix: give a value >= 1)'),
    (("max_amps = 32", 'max_amps = "32"'),
     'site "home": max_amps: "32" is not allowed: must be a whole number '
     "(fix: give a whole number)"),
    (("max_amps = 32", "max_amps = 32\nmax_amp = 3"),  # max_amps is there: no misspelling
     'site "home": unknown key "max_amp" (fix: remove it or correct its spelling'),
    (("max_amps = 32", "max_amps = 32\ncolour = 3"),
     'site "home": unknown key "colour" (fix: remove it or correct its spelling, see '
     "docs/config.md)"),
    (("", "[site.policy.green]\noffset = 100"),
     'site "home": policy.green: unknown key "offset": did you mean "offset_w"?'),
    (("", "[[site.policy.windows]]\ndays = ['Mon']\nstart = '22:00'\nend = '06:00'\n"
      "amps = 16\namp = 16"),  # a key it already has is no suggestion
     'site "home": policy.windows[0]: unknown key "amp" (fix: remove it'),
    (("generation_w = 3000", "generation_w = 3000, interval = 5"),
     'site "home": source: unknown key "interval": did you mean "interval_s"?'),
    (("generation_w = 3000", "generation_w = 3000, grid_import = 5"),
     'site "home": source: unknown key "grid_import": did you mean "grid_import_w"?'),
    (('name = "home"\n', ""), "site[0].name: missing (fix: add it"),
    (("[[site]]", "[embeded_broker]\nport = 1884\n[[site]]"),
     'unknown key "embeded_broker": did you mean "embedded_broker"?'),
    (("max_amps = 32\n", ""), 'site "home": max_amps: missing (fix: add it'),
    (('name = "home"', 'name = "my home"'),
     'site "my home": name: "my home" is not allowed: not a site name (fix: give 1-32 letters'),
    (('type = "static"', 'type = "fronious"'),
     'site "home": source.type: "fronious" is not allowed: no such source type '
     "(fix: give one of "),
    (("consumption_w = 500", "consumption_w = 500, colour = 1"),
     'site "home": source: unknown key "colour" (fix: remove it'),
    (("", "[site.policy.green]\nstart_delay_s = -5"),
     'site "home": policy.green.start_delay_s: -5.0 is not allowed: must be >= 0 '
     "(fix: set it >= 0)"),
    (("", "[site.policy]\nmin_amps = 40"),
     'site "home": policy.min_amps: 40 is not allowed: must be a whole number of amps, '
     "1 to max_amps"),
    (("", "[site.policy]\nnon_scheduled = 'sunny'"),
     'site "home": policy.non_scheduled: "sunny" is not allowed: must be \'fixed\', '
     "'do_not_charge' or 'track_green'"),
    (("", "[[site.policy.windows]]\ndays = ['Mon']\n"
      "start = '25:00'\nend = '06:00'\namps = 16"),
     'site "home": policy.windows[0].start: "25:00" is not allowed: not a time of day '
     '(fix: give "HH:MM"'),
    (("max_amps = 32", "max_amps = 32\ntimezone = 'Mars/Base'"),
     'site "home": timezone: "Mars/Base" is not allowed: no such time zone'),
    (('"static", generation_w = 3000, consumption_w = 500', '"sim", sunrise_h = 21'),
     'site "home": source: {"sunrise_h": 21} is not allowed: sunset_h must be later than '
     "sunrise_h"),
    (("[[site]]", "[broker]\nurl = 'http://broker'\n[[site]]"),
     'broker.url: "http://broker" is not allowed: \'http://broker\' is not an MQTT broker URL '
     "(fix: give mqtt://"),
    (("[[site]]", "[log]\nlevel = 'loud'\n[[site]]"),
     'log.level: "loud" is not allowed: must be'),
])
def test_each_error_names_its_key_the_value_and_a_fix(tmp_path, change, line):
    old, new = change  # old "": new is added at the end
    text = MINIMAL.replace(old, new, 1) if old else MINIMAL + new + "\n"
    found = errors(tmp_path, text)
    assert len(found) == 1 and found[0].startswith(line), found


def test_a_misspelt_required_key_is_missing_and_unknown_with_a_suggestion(tmp_path):
    assert errors(tmp_path, MINIMAL.replace("max_amps", "max_amp")) == [
        'site "home": max_amps: missing (fix: add it, see docs/config.md)',
        'site "home": unknown key "max_amp": did you mean "max_amps"?']


def test_all_errors_are_listed_one_per_line(tmp_path):
    found = errors(tmp_path, MINIMAL.replace("max_amps = 32", "max_amps = -1\nttl_s = 1")
                   + MINIMAL.replace("home", "work").replace("32", "true"))
    assert [f.split(": ")[:2] for f in found] == [['site "home"', "max_amps"],
                                                   ['site "home"', "ttl_s"],
                                                   ['site "work"', "max_amps"]]
    assert all("(fix: " in f for f in found)
    # Two sites of one name: named by their place.
    assert errors(tmp_path, MINIMAL + MINIMAL.replace("max_amps = 32", "max_amps = 0")) == [
        "site[1].max_amps: 0 is not allowed: must be >= 1 (fix: give a value >= 1)"]
    assert errors(tmp_path, MINIMAL + MINIMAL) == [
        'site[1].name: "home" is not allowed: another site has this name '
        "(fix: give each [[site]] its own name)"]


def test_not_toml_and_no_site(tmp_path):
    assert errors(tmp_path, "[[site]\n")[0].startswith("not valid TOML: ")
    assert errors(tmp_path, "")[0].startswith("site: missing")


def test_broker_password_from_the_environment(tmp_path, monkeypatch):
    text = MINIMAL + "[broker]\nurl = 'mqtt://twcm@broker.lan'\npassword_env = 'MY_MQTT_PW'\n"
    monkeypatch.delenv("MY_MQTT_PW", raising=False)
    assert errors(tmp_path, text) == [
        'broker.password_env: "MY_MQTT_PW" is not allowed: this environment variable is not '
        "set (fix: export it with the password before starting twcm, "
        "e.g. export TWCM_MQTT_PASSWORD=...)"]
    monkeypatch.setenv("MY_MQTT_PW", "p@ss:w/rd")
    broker = load(write(tmp_path, text)).broker
    assert broker is not None and broker.full_url() == "mqtt://twcm:p%40ss%3Aw%2Frd@broker.lan"
    from twcm.mqtt import parse_broker
    assert parse_broker(broker.full_url(), None).password == "p@ss:w/rd"
    both = text + "password = 'x'\n"
    assert errors(tmp_path, both)[0].startswith("broker.password: ")
    user = MINIMAL + "[broker]\nurl = 'mqtts://broker.lan:8883'\nuser = 'me'\npassword = 'x'\n"
    assert load(write(tmp_path, user)).broker.full_url() == "mqtts://me:x@broker.lan:8883"


def test_check_and_missing_file_exit_codes(tmp_path, capsys):
    assert main(["run", "--config", str(EXAMPLE), "--check"]) == 0
    assert "OK: sites home (sim, 32 A); broker embedded on 127.0.0.1:1883" in capsys.readouterr().out
    missing = tmp_path / "nowhere.toml"
    assert main(["run", "--config", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "docs/config.md" in err
    bad = write(tmp_path, MINIMAL.replace("32", "0"))
    assert main(["run", "--config", str(bad), "--check"]) == 2
    assert capsys.readouterr().err.startswith(f'{bad}: site "home": max_amps: 0 is not allowed')
