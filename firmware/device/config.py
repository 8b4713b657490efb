# The device config: a JSON file on the device's flash (/config.json).
# docs/firmware.md documents every key with an example.
#
# validate() never raises on bad input: it returns the config it could make
# (defaults filled in) and a list of errors, each naming the key and the
# fix, so the device can report them on its console and stay safe.
import json

from twc.contract import SITE_RULE, site_ok

DEFAULT_FALLBACK_AMPS = 6  # see docs/firmware.md, "Fallback current"
KEEPALIVE_S = 30


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def parse_broker_url(url):
    """mqtt://host[:port] or mqtts://host[:port] -> (host, port, tls).

    Raises ValueError with the fix when the URL is not of that form.
    """
    if not isinstance(url, str):
        raise ValueError("must be a string such as mqtt://192.168.1.10:1883")
    if url.startswith("mqtts://"):
        tls = True
        rest = url[8:]
    elif url.startswith("mqtt://"):
        tls = False
        rest = url[7:]
    else:
        raise ValueError("must start with mqtt:// or mqtts://")
    if "@" in rest:
        raise ValueError("put the user name and password in broker.user and "
                         "broker.password, not in the URL")
    rest = rest.rstrip("/")
    port = 8883 if tls else 1883
    host = rest
    if ":" in rest:
        host, p = rest.rsplit(":", 1)
        try:
            port = int(p)
        except ValueError:
            raise ValueError("has a port that is not a number")
        if not 1 <= port <= 65535:
            raise ValueError("has a port out of range 1-65535")
    if not host:
        raise ValueError("has no host name")
    return host, port, tls


def _limits(obj, cfg, errors):
    cfg["fallback_amps"] = obj.get("fallback_amps", DEFAULT_FALLBACK_AMPS)
    cfg["min_amps"] = obj.get("min_amps", 0)
    cfg["limits_ok"] = False  # without valid limits no current is offered
    missing = False
    for key in ("wiring_max_amps_all", "wiring_max_amps_per_twc"):
        if key not in obj:
            missing = True
            errors.append(key + ": missing; set it to the rating of the wiring "
                          "in whole amps (e.g. 80% of the breaker)")
    if missing:
        return
    cfg["wiring_max_amps_all"] = obj["wiring_max_amps_all"]
    cfg["wiring_max_amps_per_twc"] = obj["wiring_max_amps_per_twc"]
    from twc.share import check_limits
    try:
        check_limits(cfg["wiring_max_amps_all"], cfg["wiring_max_amps_per_twc"],
                     cfg["fallback_amps"], cfg["min_amps"])
    except ValueError as e:
        errors.append(str(e))
        return
    cfg["limits_ok"] = True


def _wifi(obj, cfg, errors):
    """WiFi credentials, for boards whose network is WiFi (see boards/)."""
    w = obj.get("wifi")
    cfg["wifi"] = None
    if w is None:
        return
    if not isinstance(w, dict) or not isinstance(w.get("ssid"), str) or not w["ssid"]:
        errors.append("wifi.ssid: missing; give the WiFi network name")
        return
    pw = w.get("password", "")
    if not isinstance(pw, str):
        errors.append("wifi.password: must be a string")
        return
    cfg["wifi"] = {"ssid": w["ssid"], "password": pw}


def _broker(obj, cfg, errors):
    b = obj.get("broker")
    if b is None:
        cfg["broker"] = None  # no MQTT: the device runs on its fallback alone
        return
    if not isinstance(b, dict):
        errors.append("broker: must be an object with url, and user/password if needed")
        return
    try:
        host, port, tls = parse_broker_url(b.get("url"))
    except ValueError as e:
        errors.append("broker.url: " + str(e))
        return
    user = b.get("user")
    pw = b.get("password")
    if user is not None and not isinstance(user, str):
        errors.append("broker.user: must be a string")
        return
    if pw is not None and not isinstance(pw, str):
        errors.append("broker.password: must be a string")
        return
    ca = b.get("ca")
    if ca is not None and (not isinstance(ca, str) or not tls):
        errors.append("broker.ca: the path of a CA certificate (DER) on the device, "
                      "for an mqtts:// broker")
        return
    keep = b.get("keepalive_s", KEEPALIVE_S)
    if not _is_int(keep) or not 5 <= keep <= 600:
        errors.append("broker.keepalive_s: must be a whole number of seconds, 5-600")
        return
    cfg["broker"] = {"host": host, "port": port, "tls": tls, "user": user,
                     "password": pw, "keepalive_s": keep, "ca": ca}


def validate(obj):
    """(config, errors) from a parsed JSON object."""
    errors = []
    cfg = {}
    if not isinstance(obj, dict):
        return cfg, ["the config must be a JSON object"]
    site = obj.get("site")
    if not site_ok(site):
        errors.append("site: must be " + SITE_RULE + " (it names the "
                      "MQTT topics twcm/<site>/...)")
    cfg["site"] = site
    board = obj.get("board")
    if not isinstance(board, str) or not board:
        errors.append("board: missing; name a file of boards/ without .json, "
                      "e.g. esp32-devkitc-max3485")
    cfg["board"] = board
    mid = obj.get("master_id")  # None: the master's own, twc.master.MASTER_ID
    try:
        if mid is not None:
            if not isinstance(mid, str) or len(mid) != 4:
                raise ValueError
            cfg["master_id"] = int(mid, 16)
    except ValueError:
        errors.append("master_id: must be 4 hex digits such as 7777")
    _limits(obj, cfg, errors)
    _wifi(obj, cfg, errors)
    _broker(obj, cfg, errors)
    start_stop = obj.get("twc_start_stop", False)  # FC B1/B2: see docs/firmware.md
    if not isinstance(start_stop, bool):
        errors.append("twc_start_stop: must be true or false (false, the default, refuses "
                      "start/stop commands)")
        start_stop = False
    cfg["twc_start_stop"] = start_stop
    ntp = obj.get("ntp_server", "pool.ntp.org")
    if not isinstance(ntp, str):
        errors.append("ntp_server: must be a host name")
    cfg["ntp_server"] = ntp
    return cfg, errors


def load(path):
    """(config, errors) from a JSON file."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return {}, [path + ": not found; copy a device config there (twcm flash --config)"]
    try:
        obj = json.loads(text)
    except ValueError as e:
        return {}, [path + ": not valid JSON (" + str(e) + ")"]
    return validate(obj)
