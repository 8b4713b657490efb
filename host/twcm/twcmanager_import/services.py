"""TWCManager's MQTT broker, web server and log level as twcm's `[broker]`, `[api]` and
`[log]`, and the sections twcm has no counterpart for."""
from __future__ import annotations

from typing import Any

from twcm.twcmanager_import.reading import Section
from twcm.twcmanager_import.report import Report
from twcm.twcmanager_import.sources import broker_url

TESLA = "the Tesla API (car SoC, start/stop, charge limits, home location) is not in twcm yet"


def broker(config: Section, report: Report) -> dict[str, Any] | None:
    """The broker of the MQTT control module (else the MQTT status module), as the
    [broker] keys plus "host", "port", "user" for sources to compare with."""
    control = config.section("control").section("MQTT")
    status = config.section("status").section("MQTT")
    chosen = next((s for s in (control, status) if s.flag("enabled") and s.text("brokerIP")),
                  None)
    if chosen is None:
        return None
    tls = chosen.flag("brokerTLS")
    host = chosen.text("brokerIP")
    assert host is not None
    port_text = chosen.text("brokerPort")
    if port_text is not None and not (port_text.isdigit() and 1 <= int(port_text) <= 65535):
        raise chosen.error("brokerPort", "is not a TCP port", "give a port number 1-65535")
    port = int(port_text) if port_text else (8883 if tls else 1883)
    user, password = chosen.text("username"), chosen.text("password")
    if not (user and password):  # TWCManager logs in only with both
        user = password = None
    out: dict[str, Any] = {"url": broker_url(host, port, tls, user),
                           "host": host, "port": port, "user": user}
    if password:
        out["password_env"] = report.secret("TWCM_MQTT_PASSWORD", chosen.where("password"))
    other = status if chosen is control else control
    if other.flag("enabled") and other.text("brokerIP") and (
            other.text("brokerIP"), other.text("brokerPort")) != (host, port_text):
        report.change(f"{other.path}: twcm uses one broker, {chosen.path}'s; this one is "
                      "not used")
    prefix = chosen.text("topicPrefix")
    report.change(f"{chosen.path}: twcm's topics are twcm/<site>/... (docs/mqtt.md), not "
                  f"{prefix or 'TWC'}/...: automations that used TWCManager's topics need "
                  "the new ones; the device must use this broker too (its config.json)")
    return out


def api(config: Section, report: Report) -> dict[str, Any]:
    http = config.section("control").section("HTTP")
    if not http.flag("enabled"):
        return {"enabled": False}
    port = http.text("listenPort", "8080")
    if not (port and port.isdigit() and 1 <= int(port) <= 65535):
        raise http.error("listenPort", "is not a TCP port", "give a port number 1-65535")
    report.change(f"{http.path}: twcm's web page and REST API listen on 127.0.0.1 only by "
                  "default (TWCManager's on every address): set [api] host to reach them "
                  "from the network, behind a proxy with a login")
    return {"port": int(port)}


def log_level(cfg: Section) -> str:
    """logLevel (Python's numbers, TWCManager's INFO2-INFO9 between INFO and DEBUG), else
    the deprecated debugLevel (0 errors only, 1 info, more: debug)."""
    level = cfg.number("logLevel")
    if level is None:
        debug = cfg.number("debugLevel", 1)
        return "error" if debug == 0 else "info" if (debug or 0) <= 1 else "debug"
    if level >= 40:
        return "error"
    if level >= 30:
        return "warning"
    return "info" if level > 10 else "debug"


def leftovers(config: Section, report: Report) -> None:
    """Everything enabled outside config/sources that twcm does not carry over."""
    interface = config.section("interface")
    for name in interface.names():
        if interface.section(name).flag("enabled"):
            report.skip(interface.key(name), "the twcm device drives the RS-485 bus itself "
                        "(docs/firmware.md); `twcm master --port` does it from this computer")
    control = config.section("control")
    for name, why in (("OCPP", "twcm has no OCPP"),
                      ("IPC", "WebIPC (the legacy PHP page, openWB 1.x) is not configured "
                              "by the import")):
        if control.section(name).flag("enabled"):
            report.skip(control.key(name), why)
    hass = config.section("status").section("HASS")
    if hass.flag("enabled"):
        report.skip(hass.path, "twcm does not push sensors to Home Assistant's REST API: "
                               "its status is on MQTT (docs/mqtt.md)")
    policy = config.section("policy")
    extend = policy.section("extend")
    for name in ("emergency", "before", "after"):
        rules = extend.raw(name) or []
        if rules:
            names = ", ".join(str(r.get("name", "?")) for r in rules if isinstance(r, dict))
            report.skip(extend.key(name), f"custom policy rules ({names}): twcm's policy is "
                        "fixed (docs/policy.md); for a grid import limit see "
                        "main_fuse_amps")
    for name in ("restrictions", "webhooks"):
        if extend.raw(name):
            report.skip(extend.key(name), "twcm's policy has no custom conditions or webhooks")
    if policy.raw("override"):
        report.skip(policy.key("override"), "twcm's policy cannot be replaced")
    if policy.section("engine").has("policyCheckInterval"):
        report.skip(policy.section("engine").key("policyCheckInterval"),
                    "twcm decides every interval_s (5 s by default)")
    logging = config.section("logging")
    for name in logging.names():
        if name != "Console" and isinstance(logging.raw(name), dict) \
                and logging.section(name).flag("enabled"):
            report.skip(logging.key(name), "twcm logs to the console and records readings, "
                        "sessions and status in SQLite ([database])")
    vehicle = config.section("vehicle")
    for name in vehicle.names():
        if isinstance(vehicle.raw(name), dict) and vehicle.section(name).flag("enabled"):
            report.skip(vehicle.key(name), TESLA)
    for name in ("controller", "pricing"):
        if config.raw(name):
            report.skip(name, "Gen3 Wall Connectors and prices are not in twcm"
                        if name == "controller" else "twcm does not use prices")
