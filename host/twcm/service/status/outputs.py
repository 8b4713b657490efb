"""Start the status outputs the config enables (serve.py, twcm demo)."""
from __future__ import annotations

import asyncio

from twcm.service.site import SiteLoop
from twcm.service.status.ha_discovery import HaDiscovery
from twcm.service.status.ha_rest import HaRest
from twcm.service.status.options import (HomeAssistantConfig, HomeAssistantRestConfig,
                                         TwcManagerMqttConfig)
from twcm.service.status.twcmanager_mqtt import TwcManagerMqtt


def start(broker_url: str, sites: list[SiteLoop], ha: HomeAssistantConfig,
          rest: HomeAssistantRestConfig, twcmanager: TwcManagerMqttConfig
          ) -> list[asyncio.Task[None]]:
    """The enabled outputs, started as tasks that run until cancelled."""
    tasks = []
    if ha.discovery:
        tasks.append(asyncio.create_task(HaDiscovery(broker_url, sites, ha).run(),
                                         name="home assistant discovery"))
    if rest.url is not None:
        tasks.append(asyncio.create_task(HaRest(sites, rest).run(), name="home assistant rest"))
    if twcmanager.enabled:
        loop = next(s for s in sites if twcmanager.site in (None, s.config.name))
        tasks.append(asyncio.create_task(TwcManagerMqtt(broker_url, loop, twcmanager).run(),
                                         name="twcmanager mqtt"))
    return tasks
