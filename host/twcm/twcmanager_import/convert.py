"""TWCManager's config.json (and settings.json) as a twcm.toml: `convert()` assembles the
tables from the mapping modules and puts what could not be carried over at the top."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from twcm.twcmanager_import import policy_map, services
from twcm.twcmanager_import.reading import Section, read_config, read_settings
from twcm.twcmanager_import.report import Report
from twcm.twcmanager_import.sources import EXACT, Context, SourceSpec, map_sources
from twcm.twcmanager_import.toml_writer import Table, render

# config.json `config` keys: mapped by policy_map/services, or without effect on charging.
MAPPED = {"wiringMaxAmpsAllTWCs", "wiringMaxAmpsPerTWC", "minAmpsPerTWC", "defaultVoltage",
          "numberOfPhases", "subtractChargerLoad", "greenEnergyAmpsOffset",
          "greenEnergyFlexAmps", "useFlexAmpsToStartCharge", "startStopDelay", "logLevel",
          "debugLevel", "settingsPath", "displayMilliseconds", "debugOutputToFile",
          "webhookMethod", "maxAmpsPerTWC", "fakeMaster",
          "cloudUpdateInterval"}  # how often TWCManager asked the Tesla API: nothing to do
TESLA_KEYS = {"minChargeLevel", "respectVehicleSchedule", "teslaApiClientID",
              "teslaApiRedirectUri", "teslaApiClientSecret", "teslaApiRegion", "teslaApiScope",
              "teslaProxy", "teslaProxyCert", "wakeDelayMins",
              "chargeNowLimit", "greenEnergyLimit", "scheduledLimit", "nonScheduledLimit",
              "atHomeRadius", "teslaControlPath"}
WHY = {
    "maxAmpsAllowedFromGrid": "a grid import cap net of the sun; twcm's main_fuse_amps keeps "
                              "the house plus the chargers below the main fuse per phase: set "
                              "it by hand if that is what you want",
    "greenEnergyLatch": "twcm holds green charging through dips with stop_delay_s and its "
                        "grid allowance instead",
    "treatGenerationAsGridDelivery": "give the export meter as a grid source instead "
                                     "(roles = [\"grid\"], scale = -1 if it reads export "
                                     "positive; docs/sources/)",
    "realPowerFactorMinAmps": "twcm converts with the measured voltage, no power factor",
    "realPowerFactorMaxAmps": "twcm converts with the measured voltage, no power factor",
}


@dataclass
class Imported:
    text: str  # the twcm.toml
    report: Report


def _config_keys(cfg: Section, report: Report) -> None:
    tesla = [cfg.key(k) for k in cfg.names() if k in TESLA_KEYS]
    if tesla:
        report.skip(", ".join(tesla), services.TESLA)
    for k in cfg.names():
        if k in WHY:
            if cfg.raw(k) not in (None, False, 0):  # set to something that has an effect
                report.skip(cfg.key(k), WHY[k])
        elif k not in MAPPED and k not in TESLA_KEYS:
            report.skip(cfg.key(k), "no counterpart in twcm")
    if cfg.number("fakeMaster", 1) != 1:
        report.change("config.fakeMaster: twcm's device is always the bus master")


def _settings_keys(settings: Section, report: Report) -> None:
    if settings.flag("scheduledAmpsFlexStart"):
        report.skip("settings.json: scheduledAmpsFlexStart", "starting late to end on time "
                    "needs the car's state of charge: " + services.TESLA)
    if (settings.number("hourResumeTrackGreenEnergy", -1) or -1) > 0:
        report.skip("settings.json: hourResumeTrackGreenEnergy", "twcm tracks green energy "
                    "whenever there is a surplus: no daily start hour")
    if (settings.number("chargeNowAmps", 0) or 0) > 0 and \
            (settings.number("chargeNowTimeEnd", 0) or 0) > time.time():
        report.skip("settings.json: chargeNowAmps", "a running Charge Now is not carried "
                    "over: start it again with `twcm charge --amps A --minutes M`")
    if settings.number("chargeRateControl", 1) in (2, 3):
        report.skip("settings.json: chargeRateControl", services.TESLA)
    groups = settings.section("VehicleGroups")
    if any(groups.section(g).raw("Members") for g in groups.names()
           if isinstance(groups.raw(g), dict)):
        report.skip("settings.json: VehicleGroups", "twcm does not allow or deny cars by VIN")
    if settings.has("chargeStopMode"):
        report.change("settings.json: chargeStopMode: twcm stops charging by offering 0 A "
                      "(no Tesla API, no stop command)")


def _source_tables(specs: list[SourceSpec], report: Report) -> tuple[list[Table], Table]:
    tables, combine = [], Table("site.combine", comments=[
        "Several meters: each gives what TWCManager read from it, added up per role as "
        "TWCManager added up its modules."])
    several = len(specs) > 1
    count: dict[str, int] = {}
    for spec in specs:
        t = Table("site.source", array=True, comments=[spec.note] if spec.note else [])
        t.set("name", spec.name)
        t.set("type", spec.type, f"docs/sources/{spec.type}.md")
        for k, v in spec.options.items():
            t.set(k, v)
        if several:
            if spec.type not in EXACT:
                t.set("roles", list(spec.took))
            for role in spec.took:
                count[role] = count.get(role, 0) + 1
        tables.append(t)
    for role, n in count.items():
        if n > 1:
            combine.set(role, "sum")
    if not specs:
        t = Table("site.source", array=True, comments=[
            "TWCManager had no energy meter: green tracking has nothing to follow.",
            "Replace this with your meter (docs/sources/README.md)."])
        t.set("type", "static")
        tables.append(t)
        report.change("no enabled EMS module: a placeholder static source without readings "
                      "is written (twcm needs one source)")
    given = {r for s in specs for r in s.took}
    if specs and "grid" not in given and not {"generation", "consumption"} <= given:
        report.change("the meters give neither generation and consumption nor the grid: "
                      "green tracking cannot charge until a source gives them")
    return tables, combine


def _header(config_path: Path, settings_path: Path | None, lim: policy_map.Limits,
            report: Report) -> list[str]:
    device = [f"  \"wiring_max_amps_all\": {lim.device_all},"]
    if lim.device_per_twc is not None:
        device.append(f"  \"wiring_max_amps_per_twc\": {lim.device_per_twc},")
    return [
        f"twcm.toml imported from TWCManager's {config_path}"
        + (f" and {settings_path}" if settings_path else "") + " by `twcm import-twcmanager`.",
        "Every key: docs/config.md. Check it with:  twcm run --config <this file> --check",
        "",
        "The device's own wiring limits belong in its config.json (docs/firmware.md):",
        *device, "",
        *(report.lines() or ["Everything was carried over."]),
    ]


def convert(config_path: Path, settings_path: Path | None = None, site: str = "home",
            timezone: str | None = None) -> Imported:
    """The twcm.toml for TWCManager's files; InputError names a bad file or value."""
    config = read_config(config_path)
    settings = read_settings(settings_path) if settings_path else None
    report = Report()
    cfg = config.section("config")
    lim = policy_map.limits(cfg, report)
    out = policy_map.PolicyOut()
    min_amps = policy_map.whole_amps(cfg, "minAmpsPerTWC", 1, lim.max_amps, report, "min_amps")
    if min_amps is not None:
        out.policy["min_amps"] = min_amps
    out.policy["volts"], out.policy["phases"] = lim.volts, lim.phases
    if not cfg.has("defaultVoltage"):
        out.notes["volts"] = "TWCManager's own default (config.json gives no defaultVoltage)"
    policy_map.green(cfg, settings, lim, out, report)
    if settings is not None:
        policy_map.non_scheduled(settings, lim, out, report)
        policy_map.schedule(settings, lim, out, report)
        _settings_keys(settings, report)
    else:
        report.skip("settings.json", "not given: the schedule and the non-scheduled action "
                    "keep twcm's defaults (track green energy, no windows); give it as the "
                    "second argument, it is in config.settingsPath")
    broker = services.broker(config, report)
    ctx = Context(report, broker)
    specs = map_sources(config.section("sources"), ctx)
    for spec in specs:
        if spec.type == "powerwall" and "battery" in spec.took:
            pw = config.section("sources").section("Powerwall2")
            out.policy["battery_min_soc"] = min(max(pw.number("minBatteryLevel") or 0, 0), 100)
            out.notes["battery_min_soc"] = "Powerwall2 minBatteryLevel"
            report.change("sources.Powerwall2.minBatteryLevel: TWCManager ignored the sun "
                          "while the Powerwall was below it; twcm keeps battery_charge_w "
                          "(3000 W) of the surplus for the battery meanwhile")
    slow = [s.interval_s for s in specs if s.interval_s]
    if slow:
        out.policy["max_reading_age_s"] = 2 * max(slow)
        out.notes["max_reading_age_s"] = "a cloud meter is read only every few minutes"
        report.change("a cloud meter: max_reading_age_s raised so that green tracking uses "
                      "its readings, minutes old; a local meter is better")
    _config_keys(cfg, report)
    services.leftovers(config, report)

    site_t = Table("site", array=True, comments=["One site: the device and its Wall Connectors."])
    site_t.set("name", site, "the device's site: its MQTT topics are twcm/<name>/...")
    site_t.set("max_amps", lim.max_amps, "wiringMaxAmpsAllTWCs: all Wall Connectors together")
    if timezone:
        site_t.set("timezone", timezone, "for the schedule windows")
    else:
        site_t.comments.append("No timezone: this computer's zone, as TWCManager used.")
    sources, combine = _source_tables(specs, report)
    policy_t = Table("site.policy")
    for k, v in out.policy.items():
        policy_t.set(k, v, out.notes.get(k, ""))
    green_t = Table("site.policy.green")
    for k, v in out.green.items():
        green_t.set(k, v, out.notes.get(k, ""))
    windows = []
    for w in out.windows:
        t = Table("site.policy.windows", array=True)
        for k, v in w.items():
            t.set(k, v)
        windows.append(t)
    tail = []
    if broker:
        b = Table("broker", comments=["The broker of TWCManager's MQTT module; the device "
                                      "connects to it too."])
        b.set("url", broker["url"])
        if "password_env" in broker:
            b.set("password_env", broker["password_env"], "export it with the password")
        tail.append(b)
    api_keys = services.api(config, report)
    api_t = Table("api", comments=[] if api_keys.get("enabled", True) else [
        "TWCManager's web page (control.HTTP) was off: so are twcm's page and REST API."])
    for k, v in api_keys.items():
        api_t.set(k, v)
    log_t = Table("log")
    log_t.set("level", services.log_level(cfg))
    tail += [api_t, log_t]
    header = _header(config_path, settings_path, lim, report)
    text = render(header, [site_t, *sources, combine, policy_t, green_t, *windows, *tail])
    return Imported(text, report)
