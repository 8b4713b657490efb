"""[[site.source]] tables: names, roles, intervals and [site.combine] are checked at start."""
from __future__ import annotations

from pathlib import Path

import pytest

from twcm.service.config import ConfigError
from twcm.service.config_load import load
from twcm.service.site import meters

SITE = '[[site]]\nname = "home"\nmax_amps = 32\n'
ROOF = '[[site.source]]\nname = "roof"\ntype = "fronius"\nurl = "http://10.0.0.2"\n'
SHED = '[[site.source]]\nname = "shed"\ntype = "fronius"\nurl = "http://10.0.0.3"\n'


def errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "twcm.toml"
    path.write_text(SITE + text)
    with pytest.raises(ConfigError) as e:
        load(path)
    return [line.removeprefix(f"{path}: ") for line in e.value.lines]


def test_two_sources_with_a_rule_build_two_feeds(tmp_path):
    path = tmp_path / "twcm.toml"
    path.write_text(SITE + ROOF + SHED + 'roles = ["generation"]\ninterval_s = 5\n'
                    '[site.combine]\ngeneration = "sum"\n')
    m = meters(load(path).site[0])
    assert [(f.name, f.roles, f.interval_s, f.max_age_s) for f in m.feeds] == [
        ("roof", ("generation", "consumption", "grid", "battery"), 2.0, 30.0),
        ("shed", ("generation",), 5.0, 30.0)]
    assert m.rules == {"generation": "sum"}


@pytest.mark.parametrize("text,line", [
    (ROOF + SHED + 'roles = ["generation"]\n',
     'site "home": combine.generation: missing: sources roof, shed all give '
     'generation (fix: set it to "sum", "priority" or one of their names)'),
    (ROOF + SHED + 'roles = ["generation"]\n[site.combine]\ngeneration = "garage"\n',
     'site "home": combine.generation: "garage" is not allowed: no source named so gives '
     'generation (fix: give "sum", "priority" or one of: roof, shed)'),
    (ROOF + ROOF.replace("10.0.0.2", "10.0.0.9") + '[site.combine]\ngeneration = "sum"\n'
     'consumption = "sum"\ngrid = "sum"\nbattery = "sum"\n',
     'site "home": source[1].name: "roof" is not allowed: another source of this site has '
     "this name (fix: give each source a name)"),
    (ROOF + "interval_s = 0.5\n", 'site "home": source[0].interval_s: 0.5 is not allowed: '
     "fronius may be read at most every 1 s (fix: give 1 or more)"),
    (ROOF + 'roles = ["sun"]\n', 'site "home": source[0].roles[0]: "sun" is not allowed'),
    (ROOF.replace('"http://10.0.0.2"', '"10.0.0.2"'),
     'site "home": source[0].url: "10.0.0.2" is not allowed: not an http(s) URL '
     "(fix: give e.g."),
    ('[site.source]\ntype = "fronius"\n', 'site "home": source.url: missing'),
])
def test_each_mistake_is_named_with_its_key_and_fix(tmp_path, text, line):
    found = errors(tmp_path, text)
    assert len(found) == 1 and found[0].startswith(line), found


def test_a_misspelt_source_key_gets_a_suggestion_from_its_type_and_the_common_keys(tmp_path):
    assert errors(tmp_path, ROOF.replace("url", "ulr")) == [
        'site "home": source[0].url: missing (fix: add it, see docs/config.md)',
        'site "home": source[0]: unknown key "ulr": did you mean "url"?']
    assert errors(tmp_path, ROOF + "max_age = 60\n") == [
        'site "home": source[0]: unknown key "max_age": did you mean "max_age_s"?']
