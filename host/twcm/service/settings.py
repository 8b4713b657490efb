"""A site's policy settings while `twcm run` runs: the config file's `[site.policy]` table
with the changes made at runtime on top.

A runtime change is a fragment of that table, in its own words (TOML keys and values, e.g.
`{"non_scheduled": "fixed", "green": {"start_delay_s": 30}}`). It is checked exactly as
the file is (the same pydantic models, then Settings' own checks), so a value the file
would refuse is refused here with the same message, and nothing changes. Accepted changes
are kept (the store's `settings` table): a restart goes on with them; the user's TOML is
never rewritten. Each value can be shown with where it came from: the file, a runtime
change, or the default.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from twcm.service.config import SiteConfig
from twcm.service.config_load import check_site
from twcm.service.policy import Settings

Fragment = dict[str, Any]
FILE, RUNTIME, DEFAULT = "file", "runtime", "default"
_NESTED = ("green",)  # tables merged key by key; any other key is replaced whole


def merge(base: Fragment, changes: Fragment) -> Fragment:
    """`base` with `changes` on top; a None value drops a runtime change of that key."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if key in _NESTED and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {k: v for k, v in {**out[key], **value}.items() if v is not None}
            if not out[key]:
                del out[key]
        elif value is None:
            out.pop(key, None)
        else:
            out[key] = copy.deepcopy(value)
    return out


class SiteSettings:
    """The effective policy settings of one site, and how to change them.

    save(runtime) keeps the runtime changes (a Fragment) where a restart finds them."""

    def __init__(self, config: SiteConfig, runtime: Fragment | None = None,
                 save: Callable[[Fragment], None] | None = None) -> None:
        self.config = config
        self.file: Fragment = config.policy.model_dump(exclude_unset=True)
        self.runtime: Fragment = {}
        self._save = save
        self.site = config  # the site's table as in force: the file's, with runtime on top
        self.settings: Settings = config.settings()
        if runtime:
            try:
                self.site = self._check(runtime)
                self.settings, self.runtime = self.site.settings(), merge({}, runtime)
            except ValueError:
                pass  # kept from an older config they no longer fit: the file alone holds

    def change(self, changes: Fragment) -> Settings:
        """Apply a fragment of the policy table on top of what is in force; ConfigError
        (a ValueError: one line per problem, naming the key and the fix) and nothing
        changes if any value is refused. Returns the new Settings; the change is saved."""
        if not isinstance(changes, dict):
            raise ValueError("give the settings as a JSON object of [site.policy] keys")
        runtime = merge(self.runtime, changes)
        site = self._check(runtime)
        settings = site.settings()
        if self._save is not None:
            self._save(runtime)
        self.runtime, self.site, self.settings = runtime, site, settings
        return settings

    def _check(self, runtime: Fragment) -> SiteConfig:
        """The site's table with `runtime` on top, checked as the config file is."""
        return check_site(self._table(runtime))

    def _table(self, runtime: Fragment) -> dict[str, Any]:
        """The site's table as the file has it, its policy with `runtime` on top."""
        return {**self.config.model_dump(exclude={"policy"}, exclude_unset=True),
                "policy": merge(self.file, runtime)}

    def effective(self) -> dict[str, dict[str, Any]]:
        """Each policy key (green's as "green.<key>") with its value in force and where it
        came from: {"non_scheduled": {"value": "fixed", "from": "runtime"}, ...}."""
        policy = self.site.policy.model_dump()
        out: dict[str, dict[str, Any]] = {}
        for key, value in policy.items():
            if key in _NESTED:
                for k, v in value.items():
                    out[f"{key}.{k}"] = {"value": v, "from": self._origin(key, k)}
            else:
                out[key] = {"value": value, "from": self._origin(key)}
        return out

    def _origin(self, key: str, sub: str | None = None) -> str:
        for name, table in ((RUNTIME, self.runtime), (FILE, self.file)):
            if sub is None and key in table or sub is not None and sub in table.get(key, {}):
                return name
        return DEFAULT
