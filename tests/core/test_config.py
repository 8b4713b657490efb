# The device config (firmware/device/config.py): defaults, and an error
# naming the key and the fix for each mistake.
from device import config

GOOD = {"site": "home", "board": "esp32-devkitc-max3485",
        "wiring_max_amps_all": 32, "wiring_max_amps_per_twc": 32,
        "wifi": {"ssid": "net", "password": "pw"},
        "broker": {"url": "mqtts://broker.lan", "user": "u", "password": "p", "ca": "ca.der"}}


def _with(**over):
    d = dict(GOOD)
    for k in over:
        if over[k] is None:
            d.pop(k, None)
        else:
            d[k] = over[k]
    return config.validate(d)


def _error(key, **over):
    cfg, errors = _with(**over)
    assert any(e.startswith(key) for e in errors), errors
    return cfg, errors


def test_a_good_config_with_defaults():
    cfg, errors = config.validate(GOOD)
    assert errors == []
    assert cfg["limits_ok"] and cfg["fallback_amps"] == 6 and cfg["min_amps"] == 0
    assert "master_id" not in cfg  # the master's own id, twc.master.MASTER_ID
    assert config.validate(dict(GOOD, master_id="1a2B"))[0]["master_id"] == 0x1A2B
    assert cfg["broker"] == {"host": "broker.lan", "port": 8883, "tls": True, "user": "u",
                             "password": "p", "keepalive_s": 30, "ca": "ca.der"}
    assert cfg["wifi"] == {"ssid": "net", "password": "pw"}


def test_broker_urls():
    assert config.parse_broker_url("mqtt://10.0.0.2") == ("10.0.0.2", 1883, False)
    assert config.parse_broker_url("mqtt://h:1884/") == ("h", 1884, False)
    for bad in ("http://h", "mqtt://", "mqtt://h:x", "mqtt://h:70000", "mqtt://u:p@h", 5):
        try:
            config.parse_broker_url(bad)
        except ValueError:
            continue
        assert False, bad


def test_each_mistake_names_its_key():
    _error("site", site="my home")
    _error("site", site="héim")
    _error("board", board=None)
    _error("master_id", master_id="77")
    _error("wiring_max_amps_all", wiring_max_amps_all=None)
    _error("wiring_max_amps_per_twc", wiring_max_amps_per_twc=90)
    _error("fallback_amps", fallback_amps=40)
    _error("wifi.ssid", wifi={"password": "x"})
    _error("broker.url", broker={"url": "tcp://x"})
    _error("broker.keepalive_s", broker={"url": "mqtt://x", "keepalive_s": 1})
    _error("broker.ca", broker={"url": "mqtt://x", "ca": "ca.der"})


def test_bad_wiring_means_no_current():
    cfg, errors = _with(wiring_max_amps_per_twc=120)
    assert errors and not cfg["limits_ok"]
    cfg, errors = _with(site="bad site")
    assert errors and cfg["limits_ok"]  # other mistakes leave the limits valid


def test_no_broker_is_allowed():
    cfg, errors = _with(broker=None)
    assert errors == [] and cfg["broker"] is None


def test_load_reports_a_missing_or_broken_file():
    cfg, errors = config.load("/nonexistent/config.json")
    assert cfg == {} and "not found" in errors[0]
    assert config.validate([1])[1] == ["the config must be a JSON object"]


def test_start_stop_is_off_unless_set_true():
    cfg, errors = config.validate(GOOD)
    assert cfg["twc_start_stop"] is False
    cfg, errors = _with(twc_start_stop=True)
    assert errors == [] and cfg["twc_start_stop"] is True
    cfg, errors = _error("twc_start_stop: must be true or false", twc_start_stop="yes")
    assert cfg["twc_start_stop"] is False
