"""`[[logging]]` tables are checked at start, each problem naming its key and the fix;
a backend that cannot open its files names its table."""
from __future__ import annotations

import pytest

from twcm.service.config import ConfigError
from twcm.service.config_load import load
from twcm.service.history import configured

SITE = '[[site]]\nname = "{}"\nmax_amps = 32\n[site.source]\ntype = "static"\n\n'


def problems(tmp_path, text: str, sites: tuple[str, ...] = ("home",)) -> list[str]:
    path = tmp_path / "twcm.toml"
    path.write_text("".join(SITE.format(s) for s in sites) + text)
    with pytest.raises(ConfigError) as e:
        load(path)
    return [line.removeprefix(f"{path}: ") for line in e.value.lines]


def test_an_unknown_type_lists_the_known_ones(tmp_path):
    assert problems(tmp_path, '[[logging]]\ntype = "cvs"\n') == [
        'logging[0].type: "cvs" is not allowed: no such logging type (fix: give one of '
        'console, csv, files)']


def test_a_backends_own_keys_are_checked(tmp_path):
    assert problems(tmp_path, '[[logging]]\ntype = "csv"\nfils = ["x"]\n'
                    '[[logging]]\ntype = "files"\npath = "/tmp/h.log"\nbackups = -1\n'
                    'mute = { energy = 1 }\n[[logging]]\ntype = "console"\nsite = "x"\n') == [
        "logging[0].directory: missing (fix: add it, see docs/config.md)",
        'logging[0]: unknown key "fils": did you mean "files"?',
        "logging[1].backups: -1 is not allowed: must be >= 0 (fix: give a value >= 0)",
        "logging[1].mute.energy: 1 is not allowed: must be true or false (fix: give true "
        "or false)",
        'logging[2]: unknown key "site" (fix: remove it or correct its spelling, see '
        "docs/config.md)"]


def test_csv_tables_name_a_known_site_and_with_several_sites_one(tmp_path):
    assert problems(tmp_path, '[[logging]]\ntype = "csv"\ndirectory = "/tmp/a"\n'
                    '[[logging]]\ntype = "csv"\ndirectory = "/tmp/b"\nsite = "shed"\n',
                    ("home", "barn")) == [
        "logging[0].site: missing: the CSV files have no site column, so with several "
        "sites each [[logging]] csv table keeps one site's records (fix: set it to one "
        "of home, barn, with a directory each)",
        'logging[1].site: "shed" is not allowed: no such site (fix: give one of home, barn)']


def test_two_tables_may_not_share_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    got = problems(tmp_path, '[[logging]]\ntype = "files"\npath = "~/h.log"\n[[logging]]\n'
                   f'type = "files"\npath = "{tmp_path}/x/../h.log"\n[[logging]]\n'
                   'type = "csv"\ndirectory = "~/h.log.d"\n')
    assert len(got) == 1 and got[0].startswith("logging[1].path: "), got
    assert got[0].endswith("is not allowed: logging[0] writes there too (fix: give each "
                           "table its own path)")


def test_a_backend_that_cannot_open_names_its_table(tmp_path):
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "slavestatus.csv").write_text("not,ours\n")
    path = tmp_path / "twcm.toml"
    path.write_text(SITE.format("home") + '[[logging]]\ntype = "console"\n[[logging]]\n'
                    f'type = "csv"\ndirectory = "{tmp_path}/csv"\n')
    with pytest.raises(ValueError, match=r"^logging\[1\] \(csv\): .*slavestatus.csv: its "
                       "first line is not the header"):
        configured.build(load(path))
