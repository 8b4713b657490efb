# The device side of the MQTT contract (docs/mqtt.md): the site-name rule,
# topic names, and routing of incoming commands to the leases. Used by the
# ESP32 link (umqtt.simple) and by `twcm master --broker` (paho-mqtt) alike,
# so both behave the same; the host (twcm run) takes the names from here too.

# Topics, after the site's prefix (prefix(site): twcm/<site>/).
SITE_TOPIC = "limit/set"  # host -> device: the site lease (and, per TWC, twc_topic)
CHARGING_TOPIC = "charging/set"  # host -> device, per TWC: start/stop (FC B1/B2)
SCHEDULE_TOPIC = "schedule/set"  # host -> device
CARS_TOPIC = "cars/set"  # host -> device: rules for cars by VIN (twc/cars.py)
STATE_TOPIC = "state"  # device -> host, retained
EVENT_TOPIC = "event"  # device -> host
ONLINE_TOPIC = "online"  # device -> host, retained, the last will

_TWC = "twc/"

SITE_RULE = "1-32 letters, digits, - or _"


def site_ok(site):
    """The site-name rule ([A-Za-z0-9_-]{1,32}), as a loop: MicroPython's re
    has no {m,n}. The name is a topic level, so it must not hold / + #."""
    if not isinstance(site, str) or not 1 <= len(site) <= 32:
        return False
    for ch in site:
        if not ("a" <= ch <= "z" or "A" <= ch <= "Z" or "0" <= ch <= "9" or ch in "-_"):
            return False
    return True


def prefix(site):
    """twcm/<site>/: what every topic of the site starts with."""
    return "twcm/" + site + "/"


def twc_topic(twc_id, what=SITE_TOPIC):
    """twc/<id>/limit/set (after the prefix): the lease of one TWC; with
    what=CHARGING_TOPIC, twc/<id>/charging/set: its start/stop command."""
    return _TWC + twc_id + "/" + what


# What handle() accepted.
SITE = "site"
TWC = "twc"
SCHEDULE = "schedule"
CHARGING = "charging"
CARS = "cars"


class Contract:
    def __init__(self, site, leases):
        self.prefix = prefix(site)
        self.leases = leases
        self.state_topic = self.prefix + STATE_TOPIC
        self.event_topic = self.prefix + EVENT_TOPIC
        self.online_topic = self.prefix + ONLINE_TOPIC

    def subscriptions(self):
        """Topic filters the device subscribes to (QoS 1)."""
        p = self.prefix
        return (p + SITE_TOPIC, p + twc_topic("+"), p + SCHEDULE_TOPIC,
                p + twc_topic("+", CHARGING_TOPIC), p + CARS_TOPIC)

    def handle(self, topic, payload, now_ms, utc_s):
        """Route one command. Returns what it accepted: SITE, TWC, SCHEDULE,
        CHARGING or CARS, or None if it was rejected or not ours."""
        if isinstance(topic, bytes):
            topic = topic.decode()
        if not topic.startswith(self.prefix):
            return None
        rest = topic[len(self.prefix):]
        if rest == SITE_TOPIC:
            return SITE if self.leases.site_lease(payload, now_ms) else None
        if rest == SCHEDULE_TOPIC:
            return SCHEDULE if self.leases.schedule(payload, now_ms, utc_s) else None
        if rest == CARS_TOPIC:
            return CARS if self.leases.car_rules(payload, now_ms) else None
        if rest.startswith(_TWC) and rest.endswith("/" + SITE_TOPIC):
            twc_id = rest[len(_TWC):len(rest) - len(SITE_TOPIC) - 1]
            return TWC if self.leases.twc_lease(twc_id, payload, now_ms) else None
        if rest.startswith(_TWC) and rest.endswith("/" + CHARGING_TOPIC):
            twc_id = rest[len(_TWC):len(rest) - len(CHARGING_TOPIC) - 1]
            return CHARGING if self.leases.twc_charging(twc_id, payload, now_ms) else None
        return None
