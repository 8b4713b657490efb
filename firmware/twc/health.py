# What the runtime knows of its network, clock and MQTT link, for the
# state message (network, ntp, mqtt: docs/mqtt.md). The core only reads
# it; each runtime fills it: the ESP32's main thread from device/net.py
# and device/link.py, `twcm master --broker` from paho's callbacks.
#
#     health = hub.health
#     health.seen_network(up)          # often: counts the times it came up
#     health.net_error = "wifi: " + why(e)   # a failure, kept after it is over
#     health.mqtt_connects += 1        # at each connect
#
# An error is the last one since start and stays after the failure is
# over: `up` and the counts tell the present. Errors are plain text for
# people (as each runtime words them), None until the first.


class Health:
    def __init__(self):
        self.net_up = False
        self.net_connects = 0  # times the network came up since start
        self.net_error = None
        self.ntp_synced = False  # the clock was set from NTP since start
        self.ntp_error = None
        self.mqtt_connects = 0  # times the broker took the connection
        self.mqtt_error = None

    def seen_network(self, up):
        """The network is up (True) or down now."""
        if up and not self.net_up:
            self.net_connects += 1
        self.net_up = up

    def host(self):
        """The network and the clock are the computer's (twcm master, the
        unix port): up from the start, the clock set by its owner."""
        self.seen_network(True)
        self.ntp_synced = True


def why(e):
    """An exception as an error text: "OSError: [Errno 113] EHOSTUNREACH"."""
    text = str(e)
    name = type(e).__name__
    return name + ": " + text if text else name
