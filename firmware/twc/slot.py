# What the master knows about one slave TWC. Slots are made once, at start,
# and reused, so that linking and losing slaves allocates nothing.
from twc import proto

FREE = 0  # no slave
LINKED = 1  # heartbeated
LOST = 2  # silent too long: no longer heartbeated, but its current stays
# reserved until it has certainly stopped (see share.py)

STATUS_NAMES = ("free", "linked", "lost")

# States in which a car is plugged in and charging, or waiting to.
_DEMAND = (proto.STATE_CHARGING, proto.STATE_PLUGGED, proto.STATE_ASKING,
           proto.STATE_BUSY, proto.STATE_RAISING, proto.STATE_LOWERING,
           proto.STATE_STARTING, proto.STATE_SETTING, proto.STATE_ADJUSTED)

CHARGING_CA = 100  # a car drawing 1 A or more is charging


class Slot:
    def __init__(self, index):
        self.index = index
        self.vin = bytearray(17)
        self.volts = [0, 0, 0]
        self.half_amps = [0, 0, 0]
        self.clear()

    def clear(self):
        self.status = FREE
        self.id = 0
        self.sign = 0
        self.protocol = 1
        self.max_ca = 0  # the slave's own rating, from its linkready
        self.cap = 80  # a per-TWC cap set from outside (amps)
        self.cap_seen = 80  # the cap the master last acted on
        # The rule of its car's VIN (twc/cars.py), set by the leases' tick:
        self.car_min = 0  # the car's least current, 0 for none
        self.priority = 0  # higher goes first when the current is short
        # From its last heartbeat:
        self.state = 0
        self.limit_ca = 0  # the limit it says it applies
        self.actual_ca = 0  # what the car draws
        self.last_seen = 0
        self.next_hb = 0
        self.last_hb = 0
        self.awaiting = False  # a heartbeat was sent, its reply not yet seen
        # Current sharing, in whole amps (see share.py):
        self.target = 0  # what the sharing rules want this slave to offer
        self.offer = 0  # what the master offers it now
        self.hi = 0  # the most it may be applying or drawing now
        self.wanting = False
        self.considered = False  # scratch flag of share.allocate
        self.demand_since = 0
        # Lifetime energy and voltages (FD EB):
        self.kwh = -1
        self.next_meter = 0
        self.volts[0] = self.volts[1] = self.volts[2] = 0
        self.half_amps[0] = self.half_amps[1] = self.half_amps[2] = 0
        # VIN (FD EE/EF/F1):
        self.vin_known = False
        self.vin_part = -1  # part awaited, -1 when not reading
        self.vin_tries = 0
        self.vin_next = 0  # when to try again
        self.vin_asked = False  # a part was requested, no reply yet
        self.low_since = -1  # when the draw fell below 1 A, -1 if not
        self.charging = False

    def wants_current(self):
        """A car is plugged in, charging or waiting to."""
        return self.state in _DEMAND or self.actual_ca >= CHARGING_CA

    def min_amps(self, user_min):
        """Lowest legal offer: 5 A on protocol 1, 6 A on 2, or the user's, or
        its car's rule's, whichever is highest."""
        m = 5 if self.protocol == 1 else 6
        if user_min > m:
            m = user_min
        return self.car_min if self.car_min > m else m
