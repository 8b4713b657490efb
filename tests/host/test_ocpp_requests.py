"""The OCPP requests besides smart charging: configuration keys, triggers, reset, the ones
a Wall Connector cannot do; and the security profiles (basic auth, TLS with a CA)."""
from __future__ import annotations

import asyncio
import base64
import ssl
import subprocess

import pytest
from ocpp.v16 import call
from ocpp_rig import CsmsServer, Rig, state_file, until
from websockets.asyncio.server import serve


def run(body, tmp_path, **rig_options):
    async def main():
        csms = CsmsServer()
        await csms.start()
        try:
            async with Rig(tmp_path, csms, **rig_options) as rig:
                await until(lambda: len(csms.of("StartTransaction")) == 2, 15,
                            "two transactions")
                await body(rig, csms)
        finally:
            await csms.stop()
    asyncio.run(main())


def test_configuration_keys(tmp_path):
    async def body(rig: Rig, csms: CsmsServer) -> None:
        cp = csms.cp
        r = await cp.call(call.GetConfiguration())
        keys = {k["key"]: k for k in r.configuration_key}
        assert keys["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True,
                                              "value": "3"}
        assert keys["MeterValueSampleInterval"]["value"] == "1"  # meter_interval_s
        assert keys["ChargingScheduleAllowedChargingRateUnit"]["value"] == "Current,Power"
        r = await cp.call(call.GetConfiguration(key=["HeartbeatInterval", "NoSuchKey"]))
        assert r.unknown_key == ["NoSuchKey"] and r.configuration_key[0]["value"] == "300"
        for key, value, status in (("NumberOfConnectors", "2", "Rejected"),
                                   ("ChargeProfileMaxStackLevel", "99", "Rejected"),
                                   ("NoSuchKey", "1", "NotSupported"),
                                   ("MeterValueSampleInterval", "soon", "Rejected"),
                                   ("MeterValuesSampledData", "Temperature", "Rejected"),
                                   ("MeterValuesSampledData", "Energy.Active.Import.Register",
                                    "Accepted"),
                                   ("HeartbeatInterval", "1", "Accepted")):
            r = await cp.call(call.ChangeConfiguration(key=key, value=value))
            assert r.status == status, key
        await until(lambda: len(csms.of("Heartbeat")) >= 2, 10, "heartbeats every second")
        n = len(csms.of("MeterValues"))
        mv = await until(lambda: csms.of("MeterValues")[n:], 5, "meter values")
        assert {v["measurand"] for v in mv[-1]["meter_value"][0]["sampled_value"]} == {
            "Energy.Active.Import.Register"}
        assert state_file(rig)["keys"]["HeartbeatInterval"] == "1"  # kept for a restart
    run(body, tmp_path)


def test_triggers_reset_and_what_a_wall_connector_cannot_do(tmp_path):
    async def body(rig: Rig, csms: CsmsServer) -> None:
        cp = csms.cp
        assert (await cp.call(call.UnlockConnector(connector_id=1))).status == "NotSupported"
        assert (await cp.call(call.DataTransfer(vendor_id="acme"))).status == "UnknownVendorId"
        assert (await cp.call(call.ChangeAvailability(connector_id=1, type="Inoperative"))
                ).status == "Rejected"
        assert (await cp.call(call.TriggerMessage(
            requested_message="DiagnosticsStatusNotification"))).status == "NotImplemented"
        n = len(csms.of("StatusNotification"))
        assert (await cp.call(call.TriggerMessage(requested_message="StatusNotification"))
                ).status == "Accepted"
        await until(lambda: len(csms.of("StatusNotification")) >= n + 3, 5, "three statuses")
        assert (await cp.call(call.TriggerMessage(requested_message="Heartbeat"))
                ).status == "Accepted"
        await until(lambda: csms.of("Heartbeat"), 5, "a heartbeat")
        # Reset: the transactions stop, the session boots again, the cars go on anew.
        assert (await cp.call(call.Reset(type="Soft"))).status == "Accepted"
        await until(lambda: len(csms.of("BootNotification")) == 2, 10, "a second boot")
        assert len(csms.of("StopTransaction", reason="SoftReset")) == 2
        await until(lambda: len(csms.of("StartTransaction")) == 4, 10, "new transactions")
    run(body, tmp_path)


def test_security_profile_1_sends_basic_auth(tmp_path, monkeypatch):
    monkeypatch.setenv("TWCM_TEST_OCPP_PASSWORD", "s3cret!")

    async def body(rig: Rig, csms: CsmsServer) -> None:
        expected = "Basic " + base64.b64encode(b"home-cp:s3cret!").decode()
        assert csms.headers[-1]["authorization"] == expected
    run(body, tmp_path, security_profile=1, password_env="TWCM_TEST_OCPP_PASSWORD")


@pytest.fixture
def certs(tmp_path):
    """A CA and a server certificate for 127.0.0.1 it signed; another CA."""
    def sh(*args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, cwd=tmp_path)
    for ca in ("ca", "other"):
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
           "-subj", f"/CN=test {ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.pem")
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
       "-keyout", "server.key", "-out", "server.csr")
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    sh("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
       "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem")
    return tmp_path


def test_security_profile_2_is_tls_checked_against_the_ca(tmp_path, certs, monkeypatch):
    monkeypatch.setenv("TWCM_TEST_OCPP_PASSWORD", "pw")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs / "server.pem", certs / "server.key")

    async def main() -> None:
        csms = CsmsServer()
        server = await serve(csms._handle, "127.0.0.1", 0, subprotocols=["ocpp1.6"], ssl=ctx)
        port = server.sockets[0].getsockname()[1]
        csms.port = port
        url = f"wss://127.0.0.1:{port}/ocpp/"
        try:
            async with Rig(tmp_path, csms, url=url, security_profile=2,
                           password_env="TWCM_TEST_OCPP_PASSWORD",
                           ca=str(certs / "ca.pem")) as rig:
                await until(lambda: csms.of("BootNotification"), 10, "a boot over TLS")
                assert csms.headers[-1]["authorization"].startswith("Basic ")
            async with Rig(tmp_path, csms, url=url, security_profile=2,
                           password_env="TWCM_TEST_OCPP_PASSWORD",
                           ca=str(certs / "other.pem")) as rig:
                await until(lambda: rig.session.last_error, 10, "refused")
                assert "certificate" in rig.session.last_error.lower()
                assert len(csms.of("BootNotification")) == 1
        finally:
            server.close()
            await server.wait_closed()
    asyncio.run(main())
