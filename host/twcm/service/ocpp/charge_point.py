"""The OCPP 1.6J charge point on the `ocpp` package: its answers to the CSMS's requests.
Every answer changes only the Point (point.py); session.py takes it from there to the
site loop and the CSMS.

What the package leaves to us, done here:
- a frame that is not OCPP-J (not JSON, not a [2, id, action, {}] call, wrong types) gets
  a CALLERROR instead of silence: FormationViolation or ProtocolError, with the call's id
  where it has one (else "-1"); a broken CALLRESULT or CALLERROR is not answered;
- OCPP 1.6's error codes: an action 1.6 does not have is NotImplemented, one it has but
  twcm does not (ReserveNow, UpdateFirmware, ...) NotSupported; the package's 2.0
  spellings (FormatViolation, OccurrenceConstraintViolation) become 1.6's
  (FormationViolation, OccurenceConstraintViolation).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.exceptions import NotSupportedError, OCPPError
from ocpp.messages import unpack
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as Base
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from .config_keys import CONNECTORS
from .point import Point
from .profiles import Profile, Refused, format_time

log = logging.getLogger("twcm.ocpp")

ACTIONS = {a.value for a in Action}
CODES_16 = {"FormatViolation": "FormationViolation",
            "OccurrenceConstraintViolation": "OccurenceConstraintViolation"}


def _frame_error(raw: Any, e: OCPPError) -> str | None:
    """The CALLERROR for a frame unpack() refused; None for a broken answer frame."""
    try:
        msg = json.loads(raw)
    except (ValueError, TypeError):
        msg = None
    if isinstance(msg, list) and msg[:1] in ([3], [4]):
        return None
    uid = msg[1] if isinstance(msg, list) and len(msg) > 1 and isinstance(msg[1], str) \
        else "-1"
    code = "ProtocolError" if msg is not None and e.code != "FormatViolation" \
        else "FormationViolation"
    return json.dumps([4, uid, code, str(e.description)[:255],
                       {"cause": str(e.details.get("cause", ""))[:255]}])


class ChargePoint(Base):
    """One site as a charge point; `point` holds its state, `changed` is called after
    every request that may change a current or a message to send, `triggered(what, c)`
    for TriggerMessage, `reset()` for Reset."""

    def __init__(self, cp_id: str, connection: Any, point: Point,
                 changed: Callable[[], None], triggered: Callable[[str, int | None], None],
                 reset: Callable[[], None], response_timeout: int = 30) -> None:
        super().__init__(cp_id, connection, response_timeout, logger=log)
        self.point = point
        self.changed = changed
        self.triggered = triggered
        self.reset = reset

    # -- frames the package does not answer, and 1.6's codes -------------------------------

    async def route_message(self, raw_msg: Any) -> None:
        try:
            unpack(raw_msg)
        except OCPPError as e:
            log.warning("OCPP: a frame that is not OCPP-J: %.80r (%s)", raw_msg, e.description)
            answer = _frame_error(raw_msg, e)
            if answer is not None:
                await self._send(answer)
            return
        await super().route_message(raw_msg)

    async def _handle_call(self, msg: Any) -> Any:
        if msg.action not in self.route_map:
            cause = {"cause": f"{msg.action} is not supported by twcm"}
            raise (NotSupportedError if msg.action in ACTIONS else OcppNotImplemented)(
                details=cause)
        return await super()._handle_call(msg)

    async def _send(self, message: str) -> None:
        if message.startswith("[4,"):
            frame = json.loads(message)
            frame[2] = CODES_16.get(frame[2], frame[2])
            message = json.dumps(frame)
        await super()._send(message)

    # -- smart charging --------------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict
                                ) -> call_result.SetChargingProfile:
        p = self.point
        try:
            if not 0 <= connector_id <= CONNECTORS:
                raise Refused(f"no connector {connector_id}")
            profile = Profile.parse(connector_id, cs_charging_profiles, p.clock())
            tx = p.limits.txs.get(connector_id)
            p.profiles.install(profile, tx)
        except Refused as e:
            log.warning("OCPP: refused a charging profile for connector %d: %s",
                        connector_id, e)
            return call_result.SetChargingProfile(status="Rejected")
        log.info("OCPP: charging profile %d (%s, stack level %d) on connector %d",
                 profile.id, profile.purpose, profile.stack_level, connector_id)
        self._changed()
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, id: int | None = None, connector_id: int | None = None,
                                  charging_profile_purpose: str | None = None,
                                  stack_level: int | None = None
                                  ) -> call_result.ClearChargingProfile:
        n = self.point.profiles.clear(id, connector_id, charging_profile_purpose, stack_level)
        self._changed()
        return call_result.ClearChargingProfile(status="Accepted" if n else "Unknown")

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id: int, duration: int,
                                  charging_rate_unit: str | None = None
                                  ) -> call_result.GetCompositeSchedule:
        if not 0 <= connector_id <= CONNECTORS or duration < 0:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit = charging_rate_unit or "A"
        start, periods = self.point.limits.composite(connector_id, duration, unit)
        return call_result.GetCompositeSchedule(
            status="Accepted", connector_id=connector_id, schedule_start=format_time(start),
            charging_schedule={"duration": duration, "start_schedule": format_time(start),
                               "charging_rate_unit": unit,
                               "charging_schedule_period": periods})

    # -- transactions ------------------------------------------------------------------------

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None,
                        charging_profile: dict | None = None
                        ) -> call_result.RemoteStartTransaction:
        p = self.point
        if not p.remote_start(id_tag, connector_id):
            return call_result.RemoteStartTransaction(status="Rejected")
        if charging_profile is not None:
            c = connector_id or max(p.txs, default=None) or next(iter(p.pending_tag), 0)
            try:
                p.profiles.install(Profile.parse(c, charging_profile, p.clock()),
                                   p.limits.txs.get(c))
            except Refused as e:  # the transaction starts all the same
                log.warning("OCPP: RemoteStartTransaction's profile refused: %s", e)
        self._changed()
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        ok = self.point.remote_stop(transaction_id)
        if ok:
            self._changed()
        return call_result.RemoteStopTransaction(status="Accepted" if ok else "Rejected")

    # -- configuration, reset, triggers --------------------------------------------------------

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None
                             ) -> call_result.GetConfiguration:
        known, unknown = self.point.keys.read(key)
        return call_result.GetConfiguration(configuration_key=known,
                                            unknown_key=unknown or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str
                                ) -> call_result.ChangeConfiguration:
        status = self.point.keys.change(key, value)
        if status == "Accepted":
            self.point.save()
            self._changed()
        return call_result.ChangeConfiguration(status=status)

    @on(Action.reset)
    def on_reset(self, type: str) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    def after_reset(self, type: str) -> None:
        self.point.reset(type)
        self.reset()

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, connector_id: int | None = None
                           ) -> call_result.TriggerMessage:
        if requested_message not in ("BootNotification", "Heartbeat", "MeterValues",
                                     "StatusNotification"):
            return call_result.TriggerMessage(status="NotImplemented")
        if connector_id is not None and not 0 <= connector_id <= CONNECTORS:
            return call_result.TriggerMessage(status="Rejected")
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    def after_trigger_message(self, requested_message: str,
                              connector_id: int | None = None) -> None:
        self.triggered(requested_message, connector_id)

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status="NotSupported")  # a TWC has no lock

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str
                               ) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(status="Rejected")

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, message_id: str | None = None,
                         data: str | None = None) -> call_result.DataTransfer:
        return call_result.DataTransfer(status="UnknownVendorId")

    def _changed(self) -> None:
        self.point.changed = True
        self.point.save()
        self.changed()
