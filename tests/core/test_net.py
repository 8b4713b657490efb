# The device's network (device/net.py) with stand-ins for MicroPython's
# network and ntptime modules: what it sees of WiFi and NTP goes into the
# health, and a failure stays there once it is over.
import sys

from twc import health


class _WLAN:
    def __init__(self):
        self.connected = False
        self.code = 1000  # STAT_IDLE
        self.tries = 0
        self.fail = None

    def active(self, on):
        pass

    def isconnected(self):
        return self.connected

    def status(self):
        return self.code

    def connect(self, ssid, password):
        self.tries += 1
        if self.fail is not None:
            raise self.fail


class _network:  # the parts of MicroPython's network module that net.py uses
    STA_IF = 0
    STAT_IDLE = 1000
    STAT_CONNECTING = 1001
    STAT_GOT_IP = 1010
    STAT_NO_AP_FOUND = 201
    STAT_WRONG_PASSWORD = 202
    wlan = None  # the one _wifi_network() makes

    @staticmethod
    def WLAN(interface):
        return _network.wlan


class _ntptime:
    host = None
    fail = None
    sets = 0

    @staticmethod
    def settime():
        if _ntptime.fail is not None:
            raise _ntptime.fail
        _ntptime.sets += 1


def _wifi_network():
    _network.wlan = _WLAN()
    _ntptime.fail = None
    _ntptime.sets = 0
    sys.modules["network"] = _network
    sys.modules["ntptime"] = _ntptime
    from device import net
    h = health.Health()
    cfg = {"wifi": {"ssid": "home", "password": "secret"}}
    return net, net.Network({"net": {"kind": "wifi"}}, cfg, h), _network.wlan, h


def _done():
    sys.modules.pop("network", None)
    sys.modules.pop("ntptime", None)


def test_wifi_failures_connects_and_the_clock_go_into_the_health():
    net, n, wlan, h = _wifi_network()
    try:
        n.step(0)  # first try: nothing failed yet
        assert wlan.tries == 1 and h.net_error is None and not h.net_up
        wlan.code = _network.STAT_WRONG_PASSWORD
        n.step(net.WIFI_RETRY_MS - 1)
        assert wlan.tries == 1
        n.step(net.WIFI_RETRY_MS)
        assert wlan.tries == 2 and h.net_error == "wifi: wrong password"
        wlan.connected, wlan.code = True, _network.STAT_GOT_IP
        _ntptime.fail = OSError(-202)
        n.step(net.WIFI_RETRY_MS + 10)
        assert (h.net_up, h.net_connects, h.net_error) == (True, 1, "wifi: wrong password")
        assert not h.ntp_synced and h.ntp_error == "OSError: -202"
        _ntptime.fail = None
        n.step(net.WIFI_RETRY_MS + 10 + net.NTP_RETRY_MS)
        assert h.ntp_synced and _ntptime.sets == 1 and h.ntp_error == "OSError: -202"
        # Lost, and back: counted; an unnamed status is given by its number.
        wlan.connected, wlan.code = False, 15
        t = 2 * net.WIFI_RETRY_MS + net.NTP_RETRY_MS
        n.step(t)
        assert not h.net_up and h.net_error == "wifi: status 15"
        wlan.fail = OSError("Wifi Internal Error")
        n.step(t + net.WIFI_RETRY_MS)
        assert h.net_error == "wifi: OSError: Wifi Internal Error"
        wlan.connected = True
        n.step(t + net.WIFI_RETRY_MS + 10)
        assert (h.net_up, h.net_connects) == (True, 2)
    finally:
        _done()


def test_the_hosts_network_is_up_and_its_clock_set():
    from device import net
    h = health.Health()
    n = net.Network({"net": {"kind": "host"}}, {}, h)
    n.step(0)
    assert n.up() and (h.net_up, h.net_connects, h.ntp_synced) == (True, 1, True)
