# The device's network: WiFi or Ethernet on the ESP32 (as the board file
# says), the host's own on the unix port; and the clock from NTP.
#
#     net = Network(board, cfg, health)   # starts bringing it up; never waits
#     net.step(now_ms)            # often: reconnects WiFi, sets the clock
#     net.up()                    # True when the broker may be reachable
#
# What it sees goes into health (twc/health.py, the state's network and
# ntp). Runs in the main thread only (an NTP query waits up to a second).
from twc.health import why
from twc.ticks import ticks_add, ticks_diff

WIFI_RETRY_MS = 15000  # reconnect a lost WiFi this often
NTP_RETRY_MS = 60000  # until the clock is set
NTP_EVERY_MS = 6 * 3600 * 1000  # then, to follow the drift


class Network:
    def __init__(self, board, cfg, health):
        self.kind = board["net"]["kind"]
        self.ntp_server = cfg.get("ntp_server", "pool.ntp.org")
        self.health = health
        self.wlan = None
        self.lan = None
        self.next_wifi = 0
        self.next_ntp = 0
        self.error = None  # a config problem, for the console at start
        if self.kind == "host":
            health.host()  # the host keeps the network up and its own time
        elif self.kind == "wifi":
            if not cfg.get("wifi"):
                self.error = "wifi: missing in the config; this board's network is WiFi"
                return
            import network
            self.wlan = network.WLAN(network.STA_IF)
            self.wlan.active(True)
            self.wifi = cfg["wifi"]
        elif self.kind == "lan":
            self.lan = _lan(board["net"])
            self.lan.active(True)

    def up(self):
        if self.kind == "host":
            return True
        if self.wlan is not None:
            return self.wlan.isconnected()
        if self.lan is not None:
            # The esp32 stubs describe LAN twice and the second lacks
            # isconnected(), which the esp32 port's LAN has.
            return getattr(self.lan, "isconnected")()
        return False

    def step(self, now):
        if self.kind == "host":
            return
        up = self.up()
        self.health.seen_network(up)
        wlan = self.wlan
        if wlan is not None and not up and ticks_diff(now, self.next_wifi) >= 0:
            self.next_wifi = ticks_add(now, WIFI_RETRY_MS)
            self._wifi(wlan)
        if up and ticks_diff(now, self.next_ntp) >= 0:
            self._ntp(now)

    def _wifi(self, wlan):
        """Try to connect again; first note why the last try failed."""
        import network
        code = wlan.status()
        if code == network.STAT_WRONG_PASSWORD:
            self.health.net_error = "wifi: wrong password"
        elif code == network.STAT_NO_AP_FOUND:
            self.health.net_error = "wifi: no access point found"
        elif code not in (network.STAT_IDLE, network.STAT_CONNECTING, network.STAT_GOT_IP):
            self.health.net_error = "wifi: status %d" % code  # an ESP-IDF reason code
        try:
            wlan.connect(self.wifi["ssid"], self.wifi["password"])
        except OSError as e:
            self.health.net_error = "wifi: " + why(e)

    def _ntp(self, now):
        import ntptime
        ntptime.host = self.ntp_server
        try:
            ntptime.settime()
        except (OSError, OverflowError) as e:
            self.health.ntp_error = why(e)
            self.next_ntp = ticks_add(now, NTP_RETRY_MS)
            return
        self.health.ntp_synced = True
        self.next_ntp = ticks_add(now, NTP_EVERY_MS)


def _lan(net):
    import network
    from machine import Pin
    kw = {
        "mdc": Pin(net["mdc"]),
        "mdio": Pin(net["mdio"]),
        "phy_type": getattr(network, "PHY_" + net["phy_type"]),
        "phy_addr": net["phy_addr"],
        "ref_clk": Pin(net["ref_clk"]),
        "ref_clk_mode": Pin.OUT if net["ref_clk_mode"] == "out" else Pin.IN,
    }
    if net.get("power") is not None:
        kw["power"] = Pin(net["power"])
    return network.LAN(**kw)
