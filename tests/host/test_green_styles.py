"""green.style presets (policy/green_styles.py) in twcm.toml and at runtime, and the
replay's count of start/stop cycles."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from twcm.replay.days import clear_day
from twcm.replay.engine import replay, replay_settings
from twcm.replay.trace import Trace
from twcm.service.config import ConfigError
from twcm.service.config_load import load
from twcm.service.policy import GreenSettings
from twcm.service.policy.green_styles import STYLES
from twcm.service.settings import SiteSettings

SITE = """
[[site]]
name = "home"
max_amps = 32
source = { type = "static", generation_w = 3000, consumption_w = 500 }
"""


def green(tmp_path: Path, table: str) -> GreenSettings:
    path = tmp_path / "twcm.toml"
    path.write_text(SITE + "[site.policy.green]\n" + table + "\n")
    return load(path).site[0].settings().green


def test_a_style_sets_the_keys_the_table_leaves_out(tmp_path):
    g = green(tmp_path, 'style = "no_grid"')
    for key, value in STYLES["no_grid"].items():
        assert getattr(g, key) == value
    assert g.raise_wh == GreenSettings().raise_wh  # not in the preset: the default


def test_keys_given_override_the_style(tmp_path):
    g = green(tmp_path, 'style = "max_sun"\ngrid_allowance_wh = 20.0')
    assert g.grid_allowance_wh == 20.0
    assert g.raise_wh == STYLES["max_sun"]["raise_wh"]


def test_balanced_is_the_defaults(tmp_path):
    assert green(tmp_path, 'style = "balanced"') == green(tmp_path, "") == GreenSettings()


def test_an_unknown_style_is_named_with_the_choices(tmp_path):
    with pytest.raises(ConfigError) as e:
        green(tmp_path, 'style = "sunny"')
    assert len(e.value.lines) == 1
    assert 'policy.green.style: "sunny" is not allowed' in e.value.lines[0]
    assert "'no_grid', 'balanced' or 'max_sun'" in e.value.lines[0]


def test_a_runtime_change_of_style_moves_its_keys_and_the_status_shows_them(tmp_path):
    path = tmp_path / "twcm.toml"
    path.write_text(SITE + '[site.policy.green]\nstyle = "no_grid"\nlower_wh = 7.0\n')
    s = SiteSettings(load(path).site[0])
    assert s.settings.green.grid_allowance_wh == STYLES["no_grid"]["grid_allowance_wh"]
    s.change({"green": {"style": "max_sun"}})
    g = s.settings.green
    assert g.grid_allowance_wh == STYLES["max_sun"]["grid_allowance_wh"]
    assert g.raise_wh == STYLES["max_sun"]["raise_wh"]
    assert g.lower_wh == 7.0  # the file's own key still wins
    shown = s.effective()
    assert shown["green.style"] == {"value": "max_sun", "from": "runtime"}
    assert shown["green.raise_wh"]["value"] == STYLES["max_sun"]["raise_wh"]


def test_every_style_is_valid_green_settings():
    for name, preset in STYLES.items():
        g = GreenSettings(**preset)
        assert asdict(g).keys() >= preset.keys(), name


def test_the_replay_counts_each_start_of_the_offer():
    """Sun, then 15 min without (the car stops), then sun again: two start/stop cycles."""
    t = (0.0, 599.0, 600.0, 1499.0, 1500.0, 2400.0)
    sun = (6000.0, 6000.0, 0.0, 0.0, 6000.0, 6000.0)
    r = replay(Trace(clear_day().start, t, sun, (300.0,) * 6),
               replay_settings("green", 32), decide_s=10, bus_step_ms=50)
    assert r.offer_starts == 2
    assert r.offer_changes >= 3  # start, stop, start again
