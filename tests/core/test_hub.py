# The Hub and the contract router: commands to the leases, events and
# state out, the schedule stored outside the lock.
import json

from twc import hub, leases, master, share
from twc.contract import Contract
from twc.slot import LINKED

UTC = 1767225600  # 2026-01-01T00:00:00Z


class Rig:
    def __init__(self):
        self.m = master.Master(lambda view: None, share.Limits(40, 32, 6))
        self.printed = []
        self.m.on_event = lambda kind, twc_id, d: self.printed.append(kind)
        self.lv = leases.Leases(self.m, lambda kind, e: self.printed.append(kind))
        self.stored = []
        self.c = Contract("home", self.lv)
        self.h = hub.Hub(self.m, self.lv, self.c, "9.9", self._store)

    def _store(self, text):
        # A flash write here must not hold the bus thread's lock.
        assert not self.h.lock.locked()
        self.stored.append(text)

    def out(self, now=0):
        return self.h.outbox(now, 5, 1000)


def test_topics():
    r = Rig()
    assert r.c.subscriptions() == ("twcm/home/limit/set", "twcm/home/twc/+/limit/set",
                                   "twcm/home/schedule/set", "twcm/home/twc/+/charging/set",
                                   "twcm/home/cars/set")
    assert (r.c.state_topic, r.c.event_topic, r.c.online_topic) == \
        ("twcm/home/state", "twcm/home/event", "twcm/home/online")


def test_commands_are_routed_to_the_leases():
    r = Rig()
    assert r.h.command(b"twcm/home/limit/set", b'{"amps": 20, "ttl_s": 60}', 0, UTC)
    r.h.bus_tick(1, UTC)
    assert r.m.limits.site == 20 and r.lv.source == "lease"
    s = r.m.slots[0]
    s.status = LINKED
    s.id = 0x1A2B
    assert r.h.command("twcm/home/twc/1A2B/limit/set", b'{"amps": 7, "ttl_s": 60}', 2, UTC)
    r.h.bus_tick(3, UTC)
    assert s.cap == 7
    assert not r.h.command("twcm/other/limit/set", b'{"amps": 20, "ttl_s": 60}', 4, UTC)
    assert not r.h.command("twcm/home/limit/get", b'{"amps": 20, "ttl_s": 60}', 4, UTC)
    assert not r.h.command("twcm/home/limit/set", b'{"amps": 99, "ttl_s": 60}', 4, UTC)


def test_an_accepted_schedule_is_stored_outside_the_lock():
    r = Rig()
    w = '[{"start": %d, "end": %d, "amps": 16}]' % (UTC - 60, UTC + 600)
    assert r.h.command("twcm/home/schedule/set", w, 0, UTC)
    assert len(r.stored) == 1 and json.loads(r.stored[0])[0]["amps"] == 16
    assert not r.h.command("twcm/home/schedule/set", "[1]", 1, UTC)
    assert len(r.stored) == 1
    r.h.command("twcm/home/limit/set", b'{"amps": 20, "ttl_s": 60}', 2, UTC)
    assert len(r.stored) == 1


def test_events_are_queued_and_the_old_callbacks_still_run():
    r = Rig()
    r.h.command("twcm/home/limit/set", b"nonsense", 0, UTC)
    r.m.on_event(master.JOINED, 0x1A2B, None)
    out = r.out()
    events = [json.loads(t) for (topic, t, retain) in out if topic == "twcm/home/event"]
    assert [e["event"] for e in events] == ["rejected", "slave_joined"]
    assert events[1]["twc"] == "1A2B"
    assert all(not retain for (topic, t, retain) in out if topic == "twcm/home/event")
    assert r.printed == ["rejected", master.JOINED]


def test_state_first_then_on_change_and_after_a_reconnect():
    r = Rig()
    out = r.out(0)
    assert [(topic, retain) for (topic, t, retain) in out] == [("twcm/home/state", True)]
    st = json.loads(out[0][1])
    assert st["version"] == "9.9" and st["free_heap"] == 1000 and st["uptime_s"] == 5
    r.h.sent(0)
    assert r.out(2000) == []
    r.h.connected()
    assert [topic for (topic, t, retain) in r.out(2100)] == ["twcm/home/state"]


def test_unpublished_events_go_back_in_order_and_old_ones_are_dropped():
    r = Rig()
    for i in range(hub.MAX_EVENTS + 3):
        r.m.on_event(master.JOINED, i, None)
    out = r.out()
    events = [t for (topic, t, retain) in out if topic == "twcm/home/event"]
    assert len(events) == hub.MAX_EVENTS and r.h.dropped == 3
    assert json.loads(events[0])["twc"] == "0003"
    r.h.requeue(out[1:])  # the first was published, the rest were not
    again = [t for (topic, t, retain) in r.out() if topic == "twcm/home/event"]
    assert again == events[1:]


def test_the_state_in_pieces_for_the_device():
    r = Rig()
    r.m.slots[0].status = LINKED
    r.m.slots[0].id = 0x1A2B
    whole = r.h.outbox(0, 5, 1000)
    r.h.connected()
    parts = r.h.outbox(0, 5, 1000, True)
    assert parts[0][0] == whole[0][0] == "twcm/home/state" and parts[0][2] is True
    assert isinstance(parts[0][1], list) and "".join(parts[0][1]) == whole[0][1]


def test_requeued_events_beyond_the_limit_drop_the_oldest_and_count_them():
    r = Rig()
    for i in range(hub.MAX_EVENTS):
        r.m.on_event(master.JOINED, i, None)
    out = r.out()  # all of them, none published: the link broke
    for i in range(3):
        r.m.on_event(master.JOINED, 0x100 + i, None)  # newer ones meanwhile
    r.h.requeue(out)
    assert r.h.dropped == 3
    again = [json.loads(t)["twc"] for (topic, t, retain) in r.out()
             if topic == "twcm/home/event"]
    assert len(again) == hub.MAX_EVENTS
    assert again[0] == "0003" and again[-3:] == ["0100", "0101", "0102"]


def test_the_state_reports_the_hubs_dropped_events_and_the_runtimes_health():
    r = Rig()
    for i in range(hub.MAX_EVENTS + 2):
        r.m.on_event(master.JOINED, i, None)
    r.h.health.host()
    r.h.health.mqtt_connects = 1
    st = [json.loads(t) for (topic, t, retain) in r.out() if topic == "twcm/home/state"][0]
    assert st["events_dropped"] == 2
    assert st["network"] == {"up": True, "connects": 1, "last_error": None}
    assert st["ntp"]["synced"] is True and st["mqtt"]["connects"] == 1
