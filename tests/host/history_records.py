"""One day's records, the same for every backend's test: two samples, a decision, a
Wall Connector's status, a charge session from its start to its end, and a record of
another site."""
from __future__ import annotations

from twcm.service.history.records import (ChargeSession, DecisionRecord, EnergySample,
                                          TwcStatus)

T = 1_782_036_000.0  # 2026-06-21 10:00 UTC
VIN = "5YJ3E1EA7KF000001"

SAMPLE = EnergySample(T, "home", 5200.4, 900.0, 3200.0, -1100.0, None, None)
SAMPLE_2 = EnergySample(T + 5, "home", 5100.0, None, 3180.6, -1000.0, 200.0, 81.5)
DECISION = DecisionRecord(T, "home", 14, "green", None, "surplus 3300 W")
NO_LEASE = DecisionRecord(T + 5, "home", None, None, None, "no readings")
STATUS = TwcStatus(T + 5, "home", "7A01", "linked", "charging", 14.0, 13.9, 1234.0,
                   (230.4, None, None), VIN)
STARTED = ChargeSession("home", "7A01", VIN, T - 3600, 1220.0, None, None, 0.0)
GROWING = ChargeSession("home", "7A01", VIN, T - 3600, 1220.0, None, None, 14.0)
ENDED = ChargeSession("home", "7A01", VIN, T - 3600, 1220.0, T + 7200, 1241.0, 21.0)
OTHER = EnergySample(T, "barn", 100.0, 50.0, 0.0, -50.0, None, None)

DAY = [SAMPLE, DECISION, STARTED, GROWING, STATUS, SAMPLE_2, NO_LEASE, ENDED, OTHER]
