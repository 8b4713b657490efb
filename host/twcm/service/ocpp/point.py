"""The charge point's state, sans-IO: which TWC is which connector, their transactions
and holds, the profiles (limits.py), the configuration keys, and the messages waiting to
go to the CSMS. session.py feeds it the device's state and sends what it queues;
charge_point.py's handlers change it.

Connectors: a TWC gets the lowest free connector (1-3) the first time the device lists
it (several at once: by id), and keeps it across restarts (the state file), so that a
CSMS's connector 2 stays the same Wall Connector.

Transactions: one starts when a car on a connector wants current (the device's
`wanting`), with the configured id_tag, else the car's VIN (waiting up to VIN_WAIT_S for
the TWC to read it), else "TWC<id>"; it ends when the car is gone (EVDisconnected), on
RemoteStopTransaction (Remote), a refused idTag (DeAuthorized) or Reset. A connector is
held at 0 A after a remote stop or a refusal until its car leaves (or a
RemoteStartTransaction lets it go on). StartTransaction, StopTransaction and MeterValues
queue in order and are kept in the state file while the CSMS is away (LocalAuthorizeOffline:
a car charges meanwhile); a transaction's id is a local negative number until the CSMS
answers the StartTransaction, and is replaced when the queue is sent.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twcm.service.devicelink.site import DeviceState, Slave

from . import meter_values, status_map
from .config_keys import CONNECTORS, MAX_PROFILES, MAX_STACK_LEVEL, Settings
from .limits import Limits
from .profiles import Profiles, Tx, format_time

log = logging.getLogger("twcm.ocpp")

VIN_WAIT_S = 30.0
TX_MESSAGES = ("StartTransaction", "StopTransaction", "MeterValues")


@dataclass
class Transaction:
    local: int  # negative: ours until the CSMS gives its id
    id_tag: str
    start: float
    meter_start: int


class Point:
    def __init__(self, mode: str, id_tag: str | None, clock: Callable[[], float],
                 saved: dict[str, Any], save: Callable[[dict[str, Any]], None],
                 meter_interval_s: int = 60) -> None:
        self.id_tag = id_tag
        self.clock = clock
        self._save = save
        self.profiles = Profiles(MAX_STACK_LEVEL, MAX_PROFILES)
        self.profiles.from_json(saved.get("profiles", []), clock())
        self.limits = Limits(mode, self.profiles, clock)
        self.keys = Settings(saved.get("keys"), {"MeterValueSampleInterval":
                                                 str(meter_interval_s)})
        self.connector_of: dict[str, int] = dict(saved.get("connectors", {}))
        self.queue: list[dict[str, Any]] = list(saved.get("queue", []))
        self.tx_ids: dict[int, int] = {int(k): v for k, v in saved.get("tx_ids", {}).items()}
        self._next_local = min([-1] + [m["local"] - 1 for m in self.queue if "local" in m]
                               + [k - 1 for k in self.tx_ids]
                               + [t["local"] - 1 for t in saved.get("txs", {}).values()])
        self.txs = {int(c): Transaction(**t) for c, t in saved.get("txs", {}).items()}
        for c, t in self.txs.items():
            self.limits.txs[c] = Tx(self.tx_ids.get(t.local, t.local), t.start)
        self.limits.holds = {int(c): why for c, why in saved.get("holds", {}).items()}
        self.slaves: dict[int, Slave] = {}
        self.online = False
        self.statuses: dict[int, tuple[str, str, str | None]] = {}
        self.finishing: set[int] = set(saved.get("finishing", []))
        self.pending_tag: dict[int, tuple[str, float]] = {}  # RemoteStart before the car
        self._wanting_since: dict[int, float] = {}
        self.changed = True  # limits changed: the site loop must hear of it

    # -- persistence ---------------------------------------------------------------------

    def save(self) -> None:
        self._save({"connectors": self.connector_of, "profiles": self.profiles.to_json(),
                    "keys": self.keys.changed, "queue": self.queue,
                    "tx_ids": {str(k): v for k, v in self.tx_ids.items()},
                    "txs": {str(c): vars(t) for c, t in self.txs.items()},
                    "holds": {str(c): why for c, why in self.limits.holds.items()},
                    "finishing": sorted(self.finishing)})

    # -- the device's state --------------------------------------------------------------

    def observe(self, state: DeviceState | None, online: bool) -> None:
        """The device's latest state: connectors, statuses, transactions starting and
        ending."""
        now = self.clock()
        self.online = online
        listed = {s.id: s for s in state.slaves} if state is not None else {}
        fresh = sorted(t for t in listed if t not in self.connector_of)
        for twc in fresh:
            free = [c for c in range(1, CONNECTORS + 1) if c not in self.connector_of.values()]
            if free:
                self.connector_of[twc] = free[0]
                log.info("OCPP: TWC %s is connector %d", twc, free[0])
        if fresh:
            self.save()
        self.slaves = {c: listed[t] for t, c in self.connector_of.items() if t in listed}
        connectors = {c: s.id for c, s in self.slaves.items()}
        if connectors != self.limits.connectors:
            self.limits.connectors = connectors
            self.changed = True
        self.limits.volts = {c: s.volts for c, s in self.slaves.items()}
        if state is not None:
            self.limits.twc_limit = {c: min(state.wiring_max_amps_per_twc,
                                            int(s.max_amps or state.wiring_max_amps_per_twc))
                                     for c, s in self.slaves.items()}
        for c in range(1, CONNECTORS + 1):
            self._connector(c, self.slaves.get(c), now)

    def _connector(self, c: int, slave: Slave | None, now: float) -> None:
        present, gone = status_map.car_present(slave), status_map.car_gone(slave)
        if gone:
            if c in self.txs:
                self.stop(c, "EVDisconnected")
            self.finishing.discard(c)
            if self.limits.holds.pop(c, None) is not None:
                self.changed = True
            self._wanting_since.pop(c, None)
        elif present and c not in self.txs and c not in self.limits.holds \
                and c not in self.finishing:
            since = self._wanting_since.setdefault(c, now)
            assert slave is not None
            tag = self._pending(c, now) or self.id_tag or slave.vin
            if tag is None and now - since >= VIN_WAIT_S:
                tag = f"TWC{slave.id}"
            if tag is not None:
                self.start(c, tag)
        self.statuses[c] = status_map.status(slave, self.online, c in self.txs,
                                             c in self.finishing or c in self.limits.holds)

    def _pending(self, c: int, now: float) -> str | None:
        tag = self.pending_tag.get(c)
        if tag is None:
            return None
        del self.pending_tag[c]
        return tag[0] if now < tag[1] else None

    # -- transactions --------------------------------------------------------------------

    def _queue(self, action: str, payload: dict[str, Any], local: int | None = None) -> None:
        self.queue.append({"action": action, "payload": payload}
                          | ({} if local is None else {"local": local}))
        self.save()

    def start(self, c: int, id_tag: str) -> None:
        slave = self.slaves.get(c)
        now = self.clock()
        local, self._next_local = self._next_local, self._next_local - 1
        tx = Transaction(local, id_tag[:20], now, meter_values.energy_wh(slave))
        self.txs[c] = tx
        self.limits.txs[c] = Tx(local, now)
        self.changed = True
        self._queue("StartTransaction", {"connector_id": c, "id_tag": tx.id_tag,
                                         "meter_start": tx.meter_start,
                                         "timestamp": format_time(now)}, local)
        self.meter(c, "Transaction.Begin")
        log.info("OCPP: connector %d: transaction started for %s", c, tx.id_tag)

    def stop(self, c: int, reason: str, hold: str | None = None) -> None:
        tx = self.txs.pop(c, None)
        if hold is not None:
            self.limits.holds[c] = hold
            self.finishing.add(c)
        self.changed = True
        if tx is None:
            return
        self.meter(c, "Transaction.End", tx)
        self.limits.txs.pop(c, None)
        self.profiles.transaction_ended(c)
        self._queue("StopTransaction", {"transaction_id": tx.local, "id_tag": tx.id_tag,
                                        "meter_stop": meter_values.energy_wh(
                                            self.slaves.get(c)) or tx.meter_start,
                                        "timestamp": format_time(self.clock()),
                                        "reason": reason}, tx.local)
        if reason != "EVDisconnected":
            self.finishing.add(c)
        log.info("OCPP: connector %d: transaction stopped (%s)", c, reason)

    def started(self, local: int, answer: dict[str, Any]) -> None:
        """The CSMS's StartTransaction.conf: its transaction id, and the idTag's status
        (not Accepted: the car gets 0 A on that connector and the transaction stops)."""
        self.tx_ids[local] = int(answer["transaction_id"])
        status = answer["id_tag_info"]["status"]
        c = next((c for c, t in self.txs.items() if t.local == local), None)
        if c is not None:
            self.limits.txs[c] = Tx(self.tx_ids[local], self.txs[c].start)
        self.save()
        if status != "Accepted" and c is not None:
            log.warning("OCPP: connector %d: the CSMS refused %s (%s): 0 A", c,
                        self.txs[c].id_tag, status)
            self.stop(c, "DeAuthorized", hold=f"idTag {status}")
        self.changed = True

    def connector_of_tx(self, transaction_id: int) -> int | None:
        for c, tx in self.txs.items():
            if self.tx_ids.get(tx.local) == transaction_id:
                return c
        return None

    def remote_start(self, id_tag: str, connector: int | None) -> bool:
        """RemoteStartTransaction: a car there starts now, else the next car within
        ConnectionTimeOut; False (Rejected) if the connector is busy or unknown."""
        if connector is None:
            connector = next((c for c in sorted(self.slaves) if c not in self.txs and
                              status_map.car_present(self.slaves[c])),
                             next((c for c in sorted(self.slaves) if c not in self.txs), None))
        if connector is None or connector not in self.slaves or connector in self.txs:
            return False
        if self.limits.holds.pop(connector, None) is not None:
            self.changed = True
        self.finishing.discard(connector)
        if status_map.car_present(self.slaves[connector]):
            self.start(connector, id_tag)
        else:
            self.pending_tag[connector] = (id_tag, self.clock() + self.keys.seconds(
                "ConnectionTimeOut"))
        return True

    def remote_stop(self, transaction_id: int) -> bool:
        c = self.connector_of_tx(transaction_id)
        if c is None:
            return False
        self.stop(c, "Remote", hold="stopped by the CSMS")
        return True

    def reset(self, kind: str) -> None:
        for c in list(self.txs):
            self.stop(c, "HardReset" if kind == "Hard" else "SoftReset")
        self.finishing.clear()

    def meter(self, c: int, context: str, tx: Transaction | None = None) -> None:
        """Queue a MeterValues of connector c (its transaction's, if it has one)."""
        slave = self.slaves.get(c)
        tx = tx or self.txs.get(c)
        if slave is None:
            return
        values = meter_values.sampled(slave, self.keys.measurands(), context)
        if not values:
            return
        payload = {"connector_id": c, "meter_value": [
            {"timestamp": format_time(self.clock()), "sampled_value": values}]}
        if tx is not None:
            payload["transaction_id"] = tx.local
        self._queue("MeterValues", payload, None if tx is None else tx.local)

    def sample(self) -> None:
        """MeterValueSampleInterval is up: a MeterValues per running transaction."""
        for c in sorted(self.txs):
            self.meter(c, "Sample.Periodic")

    # -- the queue -----------------------------------------------------------------------

    def head(self) -> tuple[str, dict[str, Any]] | None:
        """The first queued message, ready to send (its transaction's CSMS id put in);
        messages of a transaction the CSMS never gave an id are dropped."""
        while self.queue:
            m = self.queue[0]
            payload = dict(m["payload"])
            local = m.get("local")
            if local is not None and m["action"] != "StartTransaction":
                real = self.tx_ids.get(local)
                if real is None:
                    log.warning("OCPP: dropped a queued %s: its transaction has no id",
                                m["action"])
                    self.sent()
                    continue
                payload["transaction_id"] = real
            return m["action"], payload
        return None

    def sent(self) -> dict[str, Any]:
        """The head went out (or is given up): off the queue."""
        m = self.queue.pop(0)
        self.save()
        return m
