"""Every source type has a page in docs/sources/ whose example config loads and builds."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from twcm.service.config_load import load
from twcm.service.site import meters
from twcm.service.sources import kinds

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sources"
SITE = '[[site]]\nname = "home"\nmax_amps = 32\n'


def examples(page: Path) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", page.read_text(), re.S)


PAGES = sorted(p for p in DOCS.glob("*.md") if p.name != "README.md")


def test_every_source_type_has_a_page_and_every_page_a_type():
    assert {p.stem for p in PAGES} == set(kinds())


@pytest.mark.parametrize("page", PAGES + [DOCS / "README.md"], ids=lambda p: p.stem)
def test_the_examples_load_and_build(page, tmp_path):
    found = examples(page)
    assert found, f"{page.name} has no ```toml example"
    for text in found:
        path = tmp_path / "twcm.toml"
        path.write_text(SITE + text)
        config = load(path)
        built = meters(config.site[0])
        assert [f.type for f in built.feeds] == [s.type for s in config.site[0].sources()]
        if page.stem in kinds():
            assert page.stem in {f.type for f in built.feeds}
