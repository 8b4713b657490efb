"""The checks of the status outputs' config that need the whole config (the sites and
the broker); config_load.py adds them to its own."""
from __future__ import annotations

from twcm.service.config import Config
from twcm.service.config_problems import Problem, bad


def problems(config: Config) -> list[Problem]:
    """[twcmanager_mqtt] serves one site: which one, with several."""
    t, names = config.twcmanager_mqtt, [s.name for s in config.site]
    if not t.enabled:
        return []
    if t.site is None and len(names) > 1:
        return [(("twcmanager_mqtt", "site"), "missing: TWCManager's topics show one site "
                 "(fix: set it to one of " + ", ".join(names) + ")")]
    if t.site is not None and t.site not in names:
        return [bad(("twcmanager_mqtt", "site"), t.site, "no such site",
                    "give one of " + ", ".join(names))]
    return []
