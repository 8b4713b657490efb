"""TWCManager's EMS modules (config.json `sources`) as twcm sources (docs/sources/).

Each enabled module becomes one or more `[[site.source]]` tables. TWCManager reads only
generation and consumption from a module and adds up all modules; `took` records, in
twcm's roles, what TWCManager read from each, so that with several sources the import can
limit each to those roles and sum them as TWCManager did. Secrets become `*_env` keys.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from twcm.twcmanager_import.reading import Section
from twcm.twcmanager_import.report import Report


@dataclass
class SourceSpec:
    type: str
    name: str
    options: dict[str, Any]
    took: tuple[str, ...]  # what TWCManager read from it, in twcm's roles
    note: str = ""  # the comment above its table
    interval_s: float | None = None  # set for cloud sources, read every few minutes


@dataclass
class Context:
    report: Report
    broker: dict[str, Any] | None = None  # the [broker] host, port, tls, user (or None)
    specs: list[SourceSpec] = field(default_factory=list)


def _port(sec: Section, name: str, default: int) -> int:
    text = sec.text(name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise sec.error(name, "is not a TCP port", "give a port number from 1 to 65535")
    return int(text)


def _url(scheme: str, host: str, port: int, default: int) -> str:
    return f"{scheme}://{host}" + ("" if port == default else f":{port}")


def _host(sec: Section, name: str, ctx: Context) -> str | None:
    """The module's host; None (and a note) if it has none, as TWCManager then unloads
    the module too."""
    host = sec.text(name)
    if host is None:
        ctx.report.skip(sec.path, f"enabled but without {name}: TWCManager did not load "
                                  "it either, so it is left out")
    return host


def broker_url(host: str, port: int, tls: bool, user: str | None) -> str:
    scheme = "mqtts" if tls else "mqtt"
    who = f"{quote(user, safe='')}@" if user else ""
    return f"{scheme}://{who}{host}" + ("" if port == (8883 if tls else 1883) else f":{port}")


def _mqtt_broker(sec: Section, variable: str, ctx: Context) -> dict[str, Any] | None:
    """The `broker` (and `password_env`) keys of an MQTT source; the password is in
    `variable`, or shares $TWCM_MQTT_PASSWORD when it is the [broker]'s host and user."""
    host = _host(sec, "brokerIP", ctx)
    if host is None:
        return None
    port = _port(sec, "brokerPort", 1883)
    user, password = sec.text("username"), sec.text("password")
    if not (user and password):  # TWCManager logs in only with both
        user = password = None
    keys: dict[str, Any] = {"broker": broker_url(host, port, False, user)}
    if password:
        b = ctx.broker
        same = b is not None and (b["host"], b["port"], b["user"]) == (host, port, user)
        var = "TWCM_MQTT_PASSWORD" if same else variable
        keys["password_env"] = ctx.report.secret(var, f"{sec.where('password')}")
    return keys


def _fronius(sec: Section, ctx: Context) -> None:
    ips = sec.raw("serverIP")
    ips = [str(ip).strip() for ip in (ips if isinstance(ips, list) else [ips]) if ip]
    if not ips:
        _host(sec, "serverIP", ctx)
        return
    port = _port(sec, "serverPort", 80)
    for i, ip in enumerate(ips):
        ctx.specs.append(SourceSpec("fronius", "fronius" if len(ips) == 1 else f"fronius_{i + 1}",
                                    {"url": _url("http", ip, port, 80)},
                                    ("generation", "consumption")))


def _enphase(sec: Section, ctx: Context) -> None:
    if sec.text("apiKey") and sec.text("userID") and sec.text("systemID"):
        ctx.report.skip(sec.path, "the Enlighten cloud API v2 (apiKey, userID) it uses is "
                                  "retired; twcm reads the gateway locally (type \"enphase\", "
                                  "docs/sources/enphase.md) or the v4 cloud API with an OAuth "
                                  "application (\"enphase_cloud\", docs/sources/enphase_cloud.md)")
        return
    host = _host(sec, "serverIP", ctx)
    if host is None:
        return
    port = _port(sec, "serverPort", 80)
    options: dict[str, Any] = {}
    note = ""
    if sec.text("token"):
        # Firmware 7+ (the one that wants a token) answers on https with its own certificate.
        options["url"] = _url("https", host, port if port not in (80, 443) else 443, 443)
        options["token_env"] = ctx.report.secret("TWCM_ENPHASE_TOKEN", sec.where("token"))
        note = "firmware 7+ (it has a token): https:// with the gateway's self-signed certificate"
    else:
        options["url"] = _url("http", host, port, 80)
    ctx.specs.append(SourceSpec("enphase", "enphase", options, ("generation", "consumption"),
                                note))


def _solaredge(sec: Section, ctx: Context) -> None:
    if sec.text("inverterHost"):  # TWCManager prefers Modbus TCP when it is configured
        options: dict[str, Any] = {"host": sec.text("inverterHost"),
                                   "port": _port(sec, "inverterPort", 1502)}
        meters = sec.raw("smartMeters") or []
        if not isinstance(meters, list):
            raise sec.error("smartMeters", "is not a list",
                            'give a list, e.g. [{"name": "Meter1", "type": "export"}]')
        export = [m for m in meters if isinstance(m, dict) and m.get("type") == "export"]
        other = [m for m in meters if m not in export]
        grid = 0
        if len(export) == 1 and str(export[0].get("name", "")) in ("Meter1", "Meter2", "Meter3"):
            grid = int(str(export[0]["name"])[-1])
        elif export:
            ctx.report.change(f"{sec.label('smartMeters')}: twcm reads one export meter; "
                              f"{len(export)} given, so none is read (grid_meter = 0)")
        if other:
            ctx.report.skip(sec.key("smartMeters"), "consumption meters: twcm's "
                            "solaredge_modbus reads the export (grid) meter only and works "
                            "the consumption out from it and the inverter")
        options["grid_meter"] = grid
        took = ("generation", "consumption") if grid else ("generation",)
        ctx.specs.append(SourceSpec("solaredge_modbus", "solaredge", options, took))
        return
    site, key = sec.text("siteID"), sec.text("apiKey")
    if not (site and key):
        ctx.report.skip(sec.path, "enabled without inverterHost, or siteID and apiKey: "
                                  "TWCManager did not load it either, so it is left out")
        return
    if not site.isdigit() or int(site) == 0:
        raise sec.error("siteID", "is not a SolarEdge site number",
                        "give the number of the site, as in the monitoring portal's address")
    ctx.specs.append(SourceSpec(
        "solaredge", "solaredge",
        {"site_id": int(site), "api_key_env": ctx.report.secret(
            "TWCM_SOLAREDGE_API_KEY", sec.where("apiKey"))},
        ("generation", "consumption"),
        "the SolarEdge cloud allows 300 requests a day: read every 6 minutes", 360.0))


def _solarlog(sec: Section, ctx: Context) -> None:
    host = _host(sec, "serverIP", ctx)
    if host is None:
        return
    options: dict[str, Any] = {"url": f"http://{host}"}
    exclude = sec.raw("excludeConsumptionInverters") or []
    if not isinstance(exclude, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in exclude):
        raise sec.error("excludeConsumptionInverters", "is not a list of device numbers",
                        "give a list of whole numbers, e.g. [2]")
    if exclude:
        options["exclude_devices"] = exclude
    ctx.specs.append(SourceSpec("solarlog", "solarlog", options, ("generation", "consumption")))


def _powerwall(sec: Section, ctx: Context) -> None:
    host = _host(sec, "serverIP", ctx)
    if host is None:
        return
    options = {"url": _url("https", host, _port(sec, "serverPort", 443), 443),
               "password_env": ctx.report.secret("TWCM_POWERWALL_PASSWORD",
                                                 sec.where("password") if sec.has("password")
                                                 else "the gateway's customer password")}
    if not sec.has("password"):
        ctx.report.change(f"{sec.path}: twcm always logs in to the gateway (firmware "
                          "20.49 and later want it): export TWCM_POWERWALL_PASSWORD with "
                          "the customer password")
    took = ("generation", "consumption") + (("battery",) if sec.number("minBatteryLevel", 0)
                                            else ())
    ctx.specs.append(SourceSpec("powerwall", "powerwall", options, took))


def _kostal(sec: Section, ctx: Context) -> None:
    host = _host(sec, "serverIP", ctx)
    if host is None:
        return
    unit = sec.number("unitID", 71)
    if unit is None or not float(unit).is_integer() or not 0 <= unit <= 255:
        raise sec.error("unitID", "is not a Modbus unit id", "give a whole number 0-255")
    ctx.specs.append(SourceSpec(
        "kostal", "kostal",
        {"host": host, "port": _port(sec, "modbusPort", 1502), "unit_id": int(unit)},
        ("generation", "consumption"),
        "without a battery, add battery = false (TWCManager did not read the battery)"))


def _smartme(sec: Section, ctx: Context) -> None:
    user, serial = sec.text("username"), sec.text("serialNumber")
    if not (user and serial and sec.text("password")):
        ctx.report.skip(sec.path, "enabled without username, password and serialNumber: "
                                  "TWCManager did not load it either, so it is left out")
        return
    number = serial.split("-")[0]
    if not number.isdigit() or int(number) == 0:
        ctx.report.skip(sec.key("serialNumber"), f"{serial!r} is not a meter serial number "
                        "twcm can look up (the digits before the -): set device_id (the "
                        "meter's id in the smart-me portal) in a smartme source by hand, "
                        "see docs/sources/smartme.md")
        return
    ctx.specs.append(SourceSpec(
        "smartme", "smartme",
        {"user": user, "serial": int(number), "password_env": ctx.report.secret(
            "TWCM_SMARTME_PASSWORD", sec.where("password"))},
        ("grid",), "TWCManager took its export as generation and import as consumption: "
                   "the grid, in twcm"))


def _ted(sec: Section, ctx: Context) -> None:
    host = _host(sec, "serverIP", ctx)
    if host is None:
        return
    ctx.specs.append(SourceSpec(
        "ted", "ted",
        {"url": _url("http", host, _port(sec, "serverPort", 80), 80), "api": "history",
         "generation_mtu": "Solar"},
        ("generation",), "TWCManager read the \"Solar\" row of the history export only"))
    ctx.report.change(f"{sec.path}: TWCManager counted the house load as 0 W with TED; "
                      "twcm never assumes 0 W: without a consumption or grid source green "
                      "tracking does not charge (add a consumption_mtu or another meter)")


def _two_items(sec: Section, ctx: Context, kind: str, name: str, keys: dict[str, str],
               base: dict[str, Any]) -> None:
    """One source per item (hass entities, openHAB items, MQTT topics): twcm reads one
    value per source, TWCManager two per module."""
    any_item = False
    for role, item_key in keys.items():
        item = sec.text(item_key)
        if item is None:
            continue
        any_item = True
        item_field = {"hass": "entity", "openhab": "item", "mqtt": "topic"}[kind]
        ctx.specs.append(SourceSpec(kind, f"{name}_{role}",
                                    {**base, item_field: item, "role": role}, (role,)))
    if not any_item:
        ctx.report.skip(sec.path, f"enabled without {' or '.join(keys.values())}: it gave "
                                  "TWCManager nothing, so it is left out")


def _hass(sec: Section, ctx: Context) -> None:
    host = _host(sec, "serverIP", ctx)
    if host is None:
        return
    https = sec.flag("useHttps")
    base: dict[str, Any] = {"url": _url("https" if https else "http", host,
                                        _port(sec, "serverPort", 8123), 0)}
    if sec.text("apiKey"):
        base["token_env"] = ctx.report.secret("TWCM_HASS_TOKEN", sec.where("apiKey"))
    _two_items(sec, ctx, "hass", "hass", {"consumption": "hassEntityConsumption",
                                          "generation": "hassEntityGeneration"}, base)


def _openhab(sec: Section, ctx: Context) -> None:
    host = _host(sec, "serverIP", ctx)
    if host is None:
        return
    base = {"url": _url("http", host, _port(sec, "serverPort", 8080), 0)}
    _two_items(sec, ctx, "openhab", "openhab", {"consumption": "consumptionItem",
                                                "generation": "generationItem"}, base)


def _mqtt(sec: Section, ctx: Context) -> None:
    base = _mqtt_broker(sec, "TWCM_EMS_MQTT_PASSWORD", ctx)
    if base is not None:
        _two_items(sec, ctx, "mqtt", "mqtt", {"consumption": "topicConsumption",
                                              "generation": "topicGeneration"}, base)


def _dsmr_reader(sec: Section, ctx: Context) -> None:
    base = _mqtt_broker(sec, "TWCM_DSMR_READER_PASSWORD", ctx)
    if base is not None:
        ctx.specs.append(SourceSpec("dsmr_reader", "dsmr_reader",
                                    {**base, "topic": sec.text("topic", "dsmr/json")},
                                    ("grid",), "delivered and returned power: the grid"))


def _dsmr(sec: Section, ctx: Context) -> None:
    options: dict[str, Any] = {"port": sec.text("serialPort", "/dev/ttyUSB2")}
    baud = sec.number("baudrate")
    if baud is not None:
        if not float(baud).is_integer() or baud <= 0:
            raise sec.error("baudrate", "is not a baud rate", "give e.g. 115200")
        options["baudrate"] = int(baud)
    ctx.specs.append(SourceSpec("dsmr", "dsmr", options, ("grid",),
                                "set version (\"2.2\", \"3\", \"4\" or \"5\", default 5) "
                                "to your meter's DSMR version"))
    ctx.report.change(f"{sec.path}: TWCManager never loaded its DSMR serial module (\"in "
                      "development\"); twcm reads the P1 port, so green tracking now sees "
                      "this meter")


# Types whose options, as imported, give exactly what TWCManager read: `roles` adds nothing.
EXACT = {"hass", "openhab", "mqtt", "dsmr", "dsmr_reader", "smartme", "ted"}

HANDLERS: dict[str, Callable[[Section, Context], None]] = {
    "Fronius": _fronius, "Enphase": _enphase, "SolarEdge": _solaredge,
    "SolarLog": _solarlog, "Powerwall2": _powerwall, "Kostal": _kostal,
    "SmartMe": _smartme, "TED": _ted, "HASS": _hass, "openHAB": _openhab, "MQTT": _mqtt,
    "DSMRreader": _dsmr_reader, "DSMR": _dsmr,
}

# TWCManager modules twcm has no integration for (yet).
MISSING = ("Efergy", "EmonCMS", "Growatt", "IotaWatt", "OpenWeatherMap", "P1Monitor",
           "SmartPi", "Volkszahler", "URL", "Victron", "ScenarioEMS")


def map_sources(sources: Section, ctx: Context) -> list[SourceSpec]:
    """The enabled modules of `sources` as source specs (names made unique)."""
    for module in sources.names():
        sec = sources.section(module)
        if not sec.flag("enabled"):
            continue
        handler = HANDLERS.get(module)
        if handler is not None:
            handler(sec, ctx)
        elif module in MISSING:
            ctx.report.skip(sec.path, f"twcm has no {module} integration: an http_json or "
                                      "mqtt source may read the same values "
                                      "(docs/sources/http_json.md, docs/sources/mqtt.md)")
        else:
            ctx.report.skip(sec.path, "not a module TWCManager knows (it ignores it too)")
    seen: dict[str, int] = {}
    for spec in ctx.specs:
        seen[spec.name] = seen.get(spec.name, 0) + 1
        if seen[spec.name] > 1:
            spec.name = f"{spec.name}_{seen[spec.name]}"
    return ctx.specs
