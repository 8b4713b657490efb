"""Presets of the green-tracking settings: `[site.policy.green] style = "..."`.

A style names a point on the trade-off between sun captured, grid energy and start/stop
cycles (docs/policy.md, "Styles"): it fills in the green keys the table leaves out, so a
key given explicitly still overrides it. "balanced" is GreenSettings' own defaults.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STYLES: dict[str, dict[str, float]] = {
    # Ride out almost nothing on the grid: follow every dip down, stop soon.
    "no_grid": {"grid_share": 0.0, "grid_allowance_wh": 0.0, "lower_wh": 5.0},
    # The shipped defaults (GreenSettings).
    "balanced": {},
    # Take every watt of sun: raise sooner, ride out clouds on a larger allowance.
    "max_sun": {"grid_share": 0.015, "grid_allowance_wh": 150.0, "raise_wh": 20.0},
}


def apply_style(table: Mapping[str, Any]) -> dict[str, Any]:
    """The [site.policy.green] table with its style's keys filled in (the style key
    stays, for the status to show); keys the table gives win. An unknown style is left
    for the config's own check to report."""
    out = dict(table)
    preset = STYLES.get(out.get("style"))  # type: ignore[arg-type]
    if preset:
        for key, value in preset.items():
            out.setdefault(key, value)
    return out
