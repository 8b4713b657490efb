"""The OCPP 1.6 configuration keys the charge point has (GetConfiguration,
ChangeConfiguration): the standard ones twcm acts on, read-write or read-only. A key not
listed is unknown (GetConfiguration's unknownKey, ChangeConfiguration NotSupported); a
read-only one is refused (Rejected), as is a value of the wrong form. Changed values are
kept across restarts (the charge point's state file)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .meter_values import DEFAULT, SUPPORTED

CONNECTORS = 3  # the bus takes at most three Wall Connectors
MAX_STACK_LEVEL = 8
MAX_PROFILES = 32
MAX_PERIODS = 24


def _seconds(v: str) -> bool:
    return v.isdigit() and int(v) <= 86400


def _measurands(v: str) -> bool:
    items = [x.strip() for x in v.split(",") if x.strip()]
    return bool(items) and all(x in SUPPORTED for x in items)


@dataclass(frozen=True)
class Key:
    default: str
    readonly: bool
    ok: Callable[[str], bool] = lambda v: True


KEYS: dict[str, Key] = {
    "HeartbeatInterval": Key("300", False, _seconds),
    "MeterValueSampleInterval": Key("60", False, _seconds),
    "MeterValuesSampledData": Key(",".join(DEFAULT), False, _measurands),
    "ConnectionTimeOut": Key("120", False, _seconds),
    "WebSocketPingInterval": Key("30", False, _seconds),
    "NumberOfConnectors": Key(str(CONNECTORS), True),
    "ChargeProfileMaxStackLevel": Key(str(MAX_STACK_LEVEL), True),
    "ChargingScheduleAllowedChargingRateUnit": Key("Current,Power", True),
    "ChargingScheduleMaxPeriods": Key(str(MAX_PERIODS), True),
    "MaxChargingProfilesInstalled": Key(str(MAX_PROFILES), True),
    "SupportedFeatureProfiles": Key("Core,SmartCharging,RemoteTrigger", True),
    "AuthorizeRemoteTxRequests": Key("false", True),
    "LocalAuthorizeOffline": Key("true", True),
    "StopTransactionOnEVSideDisconnect": Key("true", True),
    "StopTransactionOnInvalidId": Key("true", True),
    "StopTxnSampledData": Key("Energy.Active.Import.Register", True),
    "GetConfigurationMaxKeys": Key("32", True),
}


class Settings:
    """The keys' values: defaults, then what the CSMS changed (`changed`, saved)."""

    def __init__(self, changed: dict[str, str] | None = None,
                 defaults: dict[str, str] | None = None) -> None:
        self.defaults = {k: v.default for k, v in KEYS.items()} | (defaults or {})
        self.changed = {k: v for k, v in (changed or {}).items()
                        if k in KEYS and not KEYS[k].readonly and KEYS[k].ok(v)}

    def get(self, key: str) -> str:
        return self.changed.get(key, self.defaults[key])

    def seconds(self, key: str) -> int:
        return int(self.get(key))

    def measurands(self) -> tuple[str, ...]:
        return tuple(x.strip() for x in self.get("MeterValuesSampledData").split(",")
                     if x.strip())

    def read(self, keys: list[str] | None) -> tuple[list[dict], list[str]]:
        """GetConfiguration: (configurationKey entries, unknownKey)."""
        asked = list(KEYS) if not keys else keys
        known = [{"key": k, "readonly": KEYS[k].readonly, "value": self.get(k)}
                 for k in asked if k in KEYS]
        return known, [k for k in asked if k not in KEYS]

    def change(self, key: str, value: str) -> str:
        """ChangeConfiguration: Accepted, Rejected (read-only, or a value of the wrong
        form) or NotSupported (unknown key)."""
        k = KEYS.get(key)
        if k is None:
            return "NotSupported"
        if k.readonly or not k.ok(value):
            return "Rejected"
        self.changed[key] = value.replace(" ", "") if key == "MeterValuesSampledData" else value
        return "Accepted"
