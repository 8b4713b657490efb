"""The OCPP charge point when things go wrong: a CSMS that goes away and comes back (the
transaction messages queued meanwhile arrive in order, with the CSMS's transaction ids,
and survive a restart of twcm), and frames that are not OCPP (answered with the right
CALLERROR, the charge point working on)."""
from __future__ import annotations

import asyncio
import json

from ocpp.v16 import call
from ocpp_rig import CsmsServer, Rig, state_file, until


def test_a_csms_that_goes_away_gets_the_queue_in_order_even_across_a_restart(tmp_path):
    async def main() -> None:
        csms = CsmsServer()
        await csms.start()
        async with Rig(tmp_path, csms) as rig:
            await until(lambda: len(csms.of("StartTransaction")) == 2, 15, "two transactions")
            leaving, staying, arriving = (rig.connector(i) for i in range(3))
            first = {kw["connector_id"]: kw["transaction_id"]
                     for kw in csms.of("StartTransaction")}
            await csms.stop()
            await until(lambda: not rig.session.status()["connected"], 10, "offline")
            rig.device.slaves[0].car.unplug()
            await until(lambda: "StopTransaction" in [m["action"] for m in
                                                      state_file(rig)["queue"]], 20,
                        "the stop queued in the state file")
            rig.device.slaves[2].car.plug()
            await until(lambda: "StartTransaction" in [m["action"] for m in
                                                       state_file(rig)["queue"]], 20,
                        "the start queued in the state file")
            # twcm restarts while the CSMS is away: the queue and transactions go on.
            await rig.__aexit__(None, None, None)
            queued = [m["action"] for m in state_file(rig)["queue"]]
            rig.session = rig.new_session()
            assert [m["action"] for m in rig.session.point.queue] == queued
            await rig.__aenter__()
            seen = len(csms.log)
            await csms.start()  # the same port
            await until(lambda: len(csms.of("BootNotification")) == 2, 20, "a new boot")
            await until(lambda: not rig.session.point.queue, 10, "the queue sent")
            after = csms.log[seen:]
            actions = [a for a, _ in after if a in ("StartTransaction", "StopTransaction",
                                                    "MeterValues")]
            assert actions[:len(queued)] == queued  # in order, then what came since
            stop = next(kw for a, kw in after if a == "StopTransaction")
            assert stop["transaction_id"] == first[leaving]
            assert stop["reason"] == "EVDisconnected"
            start = next(kw for a, kw in after if a == "StartTransaction")
            assert start["connector_id"] == arriving
            assert [a for a, _ in after].index("StopTransaction") < \
                [a for a, _ in after].index("StartTransaction")
            new_tx = start["transaction_id"]
            # The arriving car's meter values carry the CSMS's id, not the local one.
            mv = [kw for a, kw in after if a == "MeterValues" and kw["connector_id"] == arriving]
            assert mv and all(kw["transaction_id"] == new_tx for kw in mv)
            # No second transaction for the car that stayed: it went on across the restart.
            assert [kw["connector_id"] for kw in csms.of("StartTransaction")].count(staying) == 1
            await until(lambda: csms.of("MeterValues", transaction_id=first[staying],
                                        connector_id=staying) and any(
                kw["transaction_id"] == first[staying] for a, kw in csms.log[seen:]
                if a == "MeterValues"), 10, "the staying car's meter values go on")
        await csms.stop()
    asyncio.run(main())


GARBAGE = [  # (frame, the CALLERROR's id and code; None: no answer)
    ("this is not JSON", ("-1", "FormationViolation")),
    ('{"an": "object"}', ("-1", "ProtocolError")),
    ("[5]", ("-1", "ProtocolError")),
    ('[2, "g1", "FlyToTheMoon", {}]', ("g1", "NotImplemented")),
    ('[2, "g2", "ReserveNow", {"connectorId": 1, "expiryDate": "2027-01-01T00:00:00Z",'
     ' "idTag": "X", "reservationId": 1}]', ("g2", "NotSupported")),
    ('[2, "g3", "SetChargingProfile", {"connectorId": "one", "csChargingProfiles": {}}]',
     ("g3", "TypeConstraintViolation")),
    ('[2, "g4", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60",'
     ' "more": 1}]', ("g4", "FormationViolation")),
    ('[2, "g5", "RemoteStopTransaction", {}]', ("g5", "ProtocolError")),
    ('[3, "nobody-asked", {}]', None),
]


def test_garbage_frames_are_answered_and_the_charge_point_works_on(tmp_path):
    async def main() -> None:
        csms = CsmsServer()
        await csms.start()
        async with Rig(tmp_path, csms) as rig:
            await until(lambda: len(csms.of("StartTransaction")) == 2, 15, "two transactions")
            ws = csms.cp._connection
            for frame, answer in GARBAGE:
                seen = len(csms.raw)
                await ws.send(frame)
                if answer is None:
                    continue
                got = await until(lambda: [json.loads(r) for r in csms.raw[seen:]
                                           if r.startswith("[4")], 5, f"an answer to {frame}")
                assert got[0][:3] == [4, *answer], frame
            # Still working: a request, and the transactions' meter values.
            r = await csms.cp.call(call.GetConfiguration(key=["NumberOfConnectors"]))
            assert r.configuration_key == [{"key": "NumberOfConnectors", "readonly": True,
                                            "value": "3"}]
            n = len(csms.of("MeterValues"))
            await until(lambda: len(csms.of("MeterValues")) > n, 5, "more meter values")
            assert rig.session.connects == 1
        await csms.stop()
    asyncio.run(main())
