# Where the bus side and the MQTT side of a master meet. The ESP32 firmware
# (device/app.py, umqtt.simple) and `twcm master --broker` (paho-mqtt) both
# run a Hub, so that both behave the same way on the MQTT contract.
#
#     hub = mqtt_side(master, site, version, store_schedule)  # hub.leases, hub.contract
#     # bus thread, every loop:      hub.bus_tick(now_ms, utc_s)
#     # MQTT side, on a command:     hub.command(topic, payload, now_ms, utc_s)
#     # MQTT side, on (re)connect:   hub.connected()
#     # the runtime, as it learns:   hub.health.mqtt_connects += 1 ... (twc/health.py)
#     # MQTT side, every loop:       for topic, text, retain in hub.outbox(now_ms, uptime_s, heap):
#     #                                  publish(...)  then hub.sent(now_ms) if it was the state
#
# store_schedule(text), if given, keeps an accepted schedule (JSON text)
# where a restart finds it (leases.restore); it is called outside the lock,
# so a slow flash write never holds the bus thread up. Events of the master
# and the leases are queued for MQTT; callbacks they had before still run.
# The two sides may run in different threads: the leases and the event
# queue are shared under a lock, held only for short, bounded work.
from twc import state
from twc.contract import SCHEDULE, Contract
from twc.health import Health
from twc.leases import Leases

MAX_EVENTS = 32  # events kept while the broker is away; beyond, the oldest are dropped

try:
    from _thread import allocate_lock
except ImportError:  # a port without threads (WebAssembly): nothing to guard

    class _Unshared:
        held = False

        def __enter__(self):
            self.held = True

        def __exit__(self, kind, value, tb):  # no *args: a tuple per exit
            self.held = False

        def locked(self):
            return self.held

    def allocate_lock():
        return _Unshared()


def mqtt_side(master, site, version, store_schedule=None, on_lease_event=None):
    """The MQTT side of master, serving twcm/<site>/: its Leases, their
    Contract and the Hub between them and the bus; returns the Hub.
    on_lease_event(kind, event), if given, also hears the leases' events."""
    leases = Leases(master, on_lease_event)
    return Hub(master, leases, Contract(site, leases), version, store_schedule)


class Hub:
    def __init__(self, master, leases, contract, version, store_schedule=None):
        self.master = master
        self.leases = leases
        self.contract = contract
        self.version = version
        self.store_schedule = store_schedule
        self.lock = allocate_lock()
        self.events = []
        self.dropped = 0
        self.watch = state.StateWatch(master, leases)
        # Set by a runtime that measures its bus loop (int), else None.
        self.loop_max_ms = None  # type: int | None
        self.health = Health()  # the runtime fills it (twc/health.py)
        self._master_before = master.on_event
        self._lease_before = leases.on_event
        master.on_event = self._master_event
        leases.on_event = self._lease_event

    def _queue(self, text):
        # Called with the lock held, or from the bus thread inside bus_tick.
        if len(self.events) >= MAX_EVENTS:
            self.events.pop(0)
            self.dropped += 1
        self.events.append(text)

    def _master_event(self, kind, twc_id, detail):
        # The master runs in the bus thread, outside the lock.
        with self.lock:
            self._queue(state.event_json(kind, twc_id))
        self._master_before(kind, twc_id, detail)

    def _lease_event(self, kind, event):
        # Called from inside bus_tick() or command(), which hold the lock.
        self._queue(state.event_json(event))
        self._lease_before(kind, event)

    def bus_tick(self, now_ms, utc_s):
        """The leases' share of the bus loop: expiry, schedule, fallback."""
        with self.lock:
            self.leases.tick(now_ms, utc_s)

    def command(self, topic, payload, now_ms, utc_s):
        """An MQTT command arrived; returns True if it was accepted."""
        store = self.store_schedule
        text = None
        with self.lock:
            accepted = self.contract.handle(topic, payload, now_ms, utc_s)
            if accepted == SCHEDULE and store is not None:
                text = self.leases.persist()
        if store is not None and text is not None:
            store(text)
        return accepted is not None

    def connected(self):
        """The link (re)connected: publish the state at once."""
        self.watch.force()

    def outbox(self, now_ms, uptime_s, free_heap, parts=False):
        """(topic, text, retain) to publish now: queued events, then the
        state if it changed or is due. parts: the state's text is a list
        of pieces to be sent one after the other (state.state_parts)."""
        out = []
        with self.lock:
            while self.events:
                out.append((self.contract.event_topic, self.events.pop(0), False))
        if self.watch.due(now_ms):
            make = state.state_parts if parts else state.state_json
            out.append((self.contract.state_topic,
                        make(self.master, self.leases, uptime_s, self.version, free_heap,
                             self.loop_max_ms, self.health, self.dropped), True))
        return out

    def sent(self, now_ms):
        """The state from outbox() was published."""
        self.watch.published(now_ms)

    def requeue(self, items):
        """Events that could not be published go back to the front; if that
        makes more than MAX_EVENTS, the oldest are dropped (and counted), as
        when they are queued: the newest say most about the present."""
        with self.lock:
            events = self.events
            for topic, text, retain in reversed(items):
                if topic == self.contract.event_topic:
                    events.insert(0, text)
            over = len(events) - MAX_EVENTS
            if over > 0:
                del events[:over]
                self.dropped += over
