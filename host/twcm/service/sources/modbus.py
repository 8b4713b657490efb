"""Modbus TCP for sources (kostal, solaredge_modbus): one connection to the inverter,
made on first use and dropped after any failure so that the next read connects afresh;
errors turned into SourceError messages in a user's words."""
from __future__ import annotations

import asyncio

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException, ModbusIOException

from twcm.service.sources import SourceError

EXCEPTIONS = {1: "illegal function", 2: "illegal data address", 3: "illegal data value",
              4: "device failure", 5: "acknowledge", 6: "device busy",
              10: "gateway path unavailable", 11: "gateway target did not respond"}


class ModbusTcp:
    """Holding registers (function 3) of one unit. `unreachable` and `refused` end the
    messages for a failed connection and a Modbus exception: what to check."""

    def __init__(self, host: str, port: int, unit_id: int, timeout_s: float, *,
                 unreachable: str, refused: str) -> None:
        self.host, self.port, self.unit_id, self.timeout_s = host, port, unit_id, timeout_s
        self.where = f"{host}:{port}"
        self.unreachable, self.refused = unreachable, refused
        self.client: AsyncModbusTcpClient | None = None

    async def registers(self, address: int, count: int, name: str = "") -> list[int]:
        """`count` registers from `address`; `name` for messages, by default
        "registers <first>-<last>"."""
        client = await self._connect()
        try:
            answer = await client.read_holding_registers(address, count=count,
                                                         device_id=self.unit_id)
        except asyncio.CancelledError:
            self.close()  # timed out by the feed: a late answer must not meet the next read
            raise
        except (ModbusIOException, asyncio.TimeoutError):
            self.close()
            raise SourceError(f"no answer from the inverter at {self.where} within "
                              f"{self.timeout_s:g} s") from None
        except (ModbusException, OSError) as e:
            self.close()
            raise SourceError(f"the connection to the inverter at {self.where} failed: "
                              f"{e}") from None
        if answer.isError():
            code = getattr(answer, "exception_code", None)
            why = EXCEPTIONS.get(code, "no reason given") if code is not None else str(answer)
            name = name or f"registers {address}-{address + count - 1}"
            raise SourceError(f"the inverter at {self.where} refused {name} (Modbus "
                              f"exception {code}: {why}); {self.refused}")
        return list(answer.registers)

    async def _connect(self) -> AsyncModbusTcpClient:
        if self.client is None or not self.client.connected:
            self.close()
            # reconnect_delay=0: no reconnecting in the background; the feed retries
            self.client = AsyncModbusTcpClient(self.host, port=self.port,
                                               timeout=self.timeout_s, retries=0,
                                               reconnect_delay=0)
            if not await self.client.connect():
                self.close()
                raise SourceError(f"cannot connect to the inverter at {self.where} "
                                  f"({self.unreachable})")
        return self.client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
