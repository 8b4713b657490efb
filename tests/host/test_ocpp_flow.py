"""The OCPP charge point against a CSMS written with the `ocpp` package over a real
websocket, driving a site loop on the simulated device: what the CSMS asks is what the
simulated Wall Connectors are offered, never above the wiring."""
from __future__ import annotations

import asyncio

from ocpp.v16 import call
from ocpp_rig import VINS, CsmsServer, Rig, state_file, until


def run(body, tmp_path, **rig_options):
    async def main():
        csms = CsmsServer()
        await csms.start()
        try:
            async with Rig(tmp_path, csms, **rig_options) as rig:
                await body(rig, csms)
        finally:
            await csms.stop()
    asyncio.run(main())


def tx_of(csms: CsmsServer, connector: int) -> int:
    return csms.of("StartTransaction", connector_id=connector)[-1]["transaction_id"]


def measurands(kw: dict) -> set[str]:
    return {v.get("measurand") for mv in kw["meter_value"] for v in mv["sampled_value"]}


def test_boot_status_transactions_profiles_meter_values_and_remote_stop(tmp_path):
    async def body(rig: Rig, csms: CsmsServer) -> None:
        await until(lambda: csms.of("BootNotification"), 10, "the boot")
        assert csms.log[0][0] == "BootNotification"
        await until(lambda: len(csms.of("StartTransaction")) == 2, 10, "two transactions")
        assert {kw["id_tag"] for kw in csms.of("StartTransaction")} == set(VINS[:2])
        one, two, free = (rig.connector(i) for i in range(3))
        await until(lambda: csms.of("StatusNotification", connector_id=free,
                                    status="Available"), 5, "the free connector Available")
        await until(lambda: csms.of("StatusNotification", status="Charging"), 20,
                    "a connector charging")
        # Connector order: by TWC id, kept in the state file.
        order = state_file(rig)["connectors"]
        assert sorted(order, key=order.get) == sorted(order)
        cp = csms.cp
        r = await cp.call(call.SetChargingProfile(connector_id=0, cs_charging_profiles={
            "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose":
            "TxDefaultProfile", "chargingProfileKind": "Relative", "chargingSchedule": {
                "chargingRateUnit": "A", "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 10}]}}))
        assert r.status == "Accepted"
        await until(lambda: all(0 < rig.offers()[c] <= 10 for c in (one, two)), 20,
                    "each car offered 10 A at most")
        r = await cp.call(call.SetChargingProfile(connector_id=0, cs_charging_profiles={
            "chargingProfileId": 2, "stackLevel": 0, "chargingProfilePurpose":
            "ChargePointMaxProfile", "chargingProfileKind": "Absolute", "chargingSchedule": {
                "chargingRateUnit": "W", "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 12 * 230}]}}))
        assert r.status == "Accepted"
        await until(lambda: rig.site.sent == 12 and sum(rig.offers().values()) <= 12, 20,
                    "the site at 12 A (2760 W)")
        assert "OCPP" in rig.site.decision.reason
        r = await cp.call(call.GetCompositeSchedule(connector_id=0, duration=600))
        assert r.status == "Accepted"
        assert r.charging_schedule["charging_schedule_period"][0]["limit"] == 12
        status = rig.site.status()["ocpp"]
        assert status["site"] == {"asked_amps": 12, "applied_amps": 12}
        assert status["session"]["connected"] is True
        # Meter values at the interval, in the transaction, with the measurands asked.
        tx1 = tx_of(csms, one)
        mv = await until(lambda: csms.of("MeterValues", transaction_id=tx1), 10, "meter values")
        assert {"Energy.Active.Import.Register", "Current.Import", "Voltage",
                "Power.Active.Import", "Current.Offered"} <= measurands(mv[-1])
        # Remote stop: the transaction ends, its TWC gets 0 A until the car leaves.
        r = await cp.call(call.RemoteStopTransaction(transaction_id=tx1))
        assert r.status == "Accepted"
        stop = await until(lambda: csms.of("StopTransaction", transaction_id=tx1), 10, "stop")
        assert stop[0]["reason"] == "Remote"
        await until(lambda: rig.offers()[one] == 0, 20, "connector 1 at 0 A")
        await until(lambda: csms.of("StatusNotification", connector_id=one,
                                    status="Finishing"), 5, "its connector Finishing")
        r = await cp.call(call.RemoteStopTransaction(transaction_id=999))
        assert r.status == "Rejected"
        # A remote start lets the car on connector 1 charge again, with the CSMS's tag.
        r = await cp.call(call.RemoteStartTransaction(id_tag="CARD42", connector_id=one))
        assert r.status == "Accepted"
        await until(lambda: csms.of("StartTransaction", id_tag="CARD42"), 10, "remote start")
        await until(lambda: rig.offers()[one] > 0, 20, "connector 1 offered current again")
    run(body, tmp_path)


def test_a_refused_car_gets_0_a_on_its_twc(tmp_path):
    async def body(rig: Rig, csms: CsmsServer) -> None:
        csms.refuse.add(VINS[1])
        await until(lambda: csms.of("StopTransaction", reason="DeAuthorized"), 15,
                    "the refused transaction stopped")
        c, other = rig.connector(1), rig.connector(0)
        await until(lambda: rig.offers()[c] == 0 and rig.offers()[other] > 0, 20,
                    "the refused car at 0 A, the other charging")
        assert rig.site.link.twcs.ceilings[rig.session.point.limits.connectors[c]] == 0
    run(body, tmp_path)


def test_a_1000_a_profile_never_offers_above_the_wiring(tmp_path):
    async def body(rig: Rig, csms: CsmsServer) -> None:
        await until(lambda: csms.cp and csms.of("BootNotification"), 10, "the boot")
        for pid, purpose in ((1, "ChargePointMaxProfile"), (2, "TxDefaultProfile")):
            r = await csms.cp.call(call.SetChargingProfile(connector_id=0, cs_charging_profiles={
                "chargingProfileId": pid, "stackLevel": 0, "chargingProfilePurpose": purpose,
                "chargingProfileKind": "Absolute", "chargingSchedule": {
                    "chargingRateUnit": "A", "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 1000}]}}))
            assert r.status == "Accepted"
        await until(lambda: rig.site.decision and rig.site.decision.set_by.source == "ocpp",
                    10, "the CSMS decides")
        for _ in range(40):  # 8 s of bus: the offers stay within the wiring
            await asyncio.sleep(0.05)
            assert sum(rig.offers().values()) <= 32 and max(rig.offers().values()) <= 32
            assert rig.device.hub.leases.amps <= 32
        assert rig.site.sent == 32  # clamped to max_amps and the wiring
        status = rig.site.status()["ocpp"]
        assert status["site"] == {"asked_amps": 1000, "applied_amps": 32}
        assert all(c["applied_amps"] <= 32 for c in status["connectors"].values())
        r = await csms.cp.call(call.GetCompositeSchedule(connector_id=1, duration=60))
        assert r.charging_schedule["charging_schedule_period"] == [
            {"start_period": 0, "limit": 32}]
    run(body, tmp_path, mode="decides")
