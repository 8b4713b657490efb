"""Every logging backend type has a section in docs/logging.md whose example config loads
and builds, and the backend it builds keeps a day's records."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from history_records import DAY
from twcm.service.config_load import load
from twcm.service.history import configured
from twcm.service.history.backends import kinds

PAGE = Path(__file__).resolve().parents[2] / "docs" / "logging.md"
SITE = '[[site]]\nname = "home"\nmax_amps = 32\n[site.source]\ntype = "static"\n\n'
EXAMPLES = [t for t in re.findall(r"```toml\n(.*?)```", PAGE.read_text(), re.S)
            if "[[logging]]" in t]
TYPE = re.compile(r'^type = "(\w+)"', re.M)


def test_every_backend_type_has_an_example():
    assert {t for text in EXAMPLES for t in TYPE.findall(text)} == set(kinds())


@pytest.mark.parametrize("text", EXAMPLES, ids=lambda t: "+".join(TYPE.findall(t)))
def test_the_examples_load_build_and_keep_records(text, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # the examples' ~/... paths
    path = tmp_path / "twcm.toml"
    path.write_text(SITE + text)
    config = load(path)
    assert [t.type for t in config.logging] == TYPE.findall(text)
    backends = configured.build(config)
    try:
        for backend in backends:
            backend.write(DAY)
    finally:
        for backend in backends:
            backend.close()
