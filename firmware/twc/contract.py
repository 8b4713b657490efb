# The device side of the MQTT contract (docs/mqtt.md): topic names, and
# routing of incoming commands to the leases. Used by the ESP32 link
# (umqtt.simple) and by `twcm master --broker` (paho-mqtt) alike, so both
# behave the same.
from twc.leases import SCHEDULE_TOPIC, SITE_TOPIC

# What handle() accepted.
SITE = "site"
TWC = "twc"
SCHEDULE = "schedule"


class Contract:
    def __init__(self, site, leases):
        self.prefix = "twcm/" + site + "/"
        self.leases = leases
        self.state_topic = self.prefix + "state"
        self.event_topic = self.prefix + "event"
        self.online_topic = self.prefix + "online"

    def subscriptions(self):
        """Topic filters the device subscribes to (QoS 1)."""
        p = self.prefix
        return (p + SITE_TOPIC, p + "twc/+/" + SITE_TOPIC, p + SCHEDULE_TOPIC)

    def handle(self, topic, payload, now_ms, utc_s):
        """Route one command. Returns what it accepted: SITE, TWC or
        SCHEDULE, or None if it was rejected or not ours."""
        if isinstance(topic, bytes):
            topic = topic.decode()
        if not topic.startswith(self.prefix):
            return None
        rest = topic[len(self.prefix):]
        if rest == SITE_TOPIC:
            return SITE if self.leases.site_lease(payload, now_ms) else None
        if rest == SCHEDULE_TOPIC:
            return SCHEDULE if self.leases.schedule(payload, now_ms, utc_s) else None
        if rest.startswith("twc/") and rest.endswith("/" + SITE_TOPIC):
            twc_id = rest[4:len(rest) - len(SITE_TOPIC) - 1]
            return TWC if self.leases.twc_lease(twc_id, payload, now_ms) else None
        return None
