"""Paths, numbers and units in meter answers."""
from __future__ import annotations

import pytest

from twcm.service.sources import SourceError
from twcm.service.sources.values import dig, number, parse_path, watts_with_unit


def test_paths_reach_keys_and_list_items_and_name_what_is_missing():
    doc = {"site": {"meters": [{"w": 5}, {"w": -7}]}}
    assert parse_path("site.meters[1].w") == ("site", "meters", 1, "w")
    assert dig(doc, "site.meters[1].w") == -7
    with pytest.raises(SourceError, match=r"the answer has no site\.meters\[2\]"):
        dig(doc, "site.meters[2].w")
    with pytest.raises(ValueError, match="cannot read the path"):
        parse_path("site..w[")


@pytest.mark.parametrize("value,want", [(5, 5.0), ("-12.5", -12.5), (" 3 ", 3.0), (None, None)])
def test_numbers_come_as_numbers_or_strings_and_null_stays_unknown(value, want):
    assert number(value, "P_PV") == want


@pytest.mark.parametrize("value", ["abc", True, float("nan"), [1], "inf"])
def test_anything_else_is_an_error_naming_the_value(value):
    with pytest.raises(SourceError, match="P_PV is"):
        number(value, "P_PV")


@pytest.mark.parametrize("text,want", [("1234.5", 1234.5), ("3456.7 W", 3456.7),
                                       ("2.5 kW", 2500.0), ("-1 kw", -1000.0)])
def test_powers_with_units(text, want):
    assert watts_with_unit(text, "item") == want


@pytest.mark.parametrize("text", ["NULL", "5 kWh", "1 2 3"])
def test_powers_that_are_not(text):
    with pytest.raises(SourceError, match="item is"):
        watts_with_unit(text, "item")
