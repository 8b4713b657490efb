"""The host side of the device link (docs/mqtt.md): leases, schedules and the devices' word.

SiteLink (one site, no I/O), DeviceLink (one MQTT client for all sites) and
EmbeddedBroker (an in-process broker when none is configured).
"""
from .broker import EmbeddedBroker
from .client import DeviceLink
from .site import DeviceState, Garbage, SiteLink, Slave, parse_state

__all__ = ["DeviceLink", "DeviceState", "EmbeddedBroker", "Garbage", "SiteLink", "Slave",
           "parse_state"]
