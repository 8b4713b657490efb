# The device side of the MQTT contract (docs/mqtt.md): topic names, and
# routing of incoming commands to the leases. Used by the ESP32 link
# (umqtt.simple) and by `twcm master --broker` (paho-mqtt) alike, so both
# behave the same.
from twc.leases import SCHEDULE_TOPIC, SITE_TOPIC


class Contract:
    def __init__(self, site, leases, on_schedule_stored=None):
        self.prefix = "twcm/" + site + "/"
        self.leases = leases
        # Called with the schedule's JSON text after a schedule is accepted,
        # so that it survives a reboot.
        self.on_schedule_stored = on_schedule_stored
        self.state_topic = self.prefix + "state"
        self.event_topic = self.prefix + "event"
        self.online_topic = self.prefix + "online"

    def subscriptions(self):
        """Topic filters the device subscribes to (QoS 1)."""
        p = self.prefix
        return (p + SITE_TOPIC, p + "twc/+/" + SITE_TOPIC, p + SCHEDULE_TOPIC)

    def handle(self, topic, payload, now_ms, utc_s):
        """Route one command; returns True if it was accepted."""
        if isinstance(topic, bytes):
            topic = topic.decode()
        if not topic.startswith(self.prefix):
            return False
        rest = topic[len(self.prefix):]
        if rest == SITE_TOPIC:
            return self.leases.site_lease(payload, now_ms)
        if rest == SCHEDULE_TOPIC:
            ok = self.leases.schedule(payload, now_ms, utc_s)
            if ok and self.on_schedule_stored is not None:
                self.on_schedule_stored(self.leases.persist())
            return ok
        if rest.startswith("twc/") and rest.endswith("/" + SITE_TOPIC):
            twc_id = rest[4:len(rest) - len(SITE_TOPIC) - 1]
            return self.leases.twc_lease(twc_id, payload, now_ms)
        return False
