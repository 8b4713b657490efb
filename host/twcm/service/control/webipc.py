"""TWCManager's WebIPC for `twcm run` (docs/webipc.md): the System V message queue that the
legacy PHP web page and openWB 1.x use, framed as the original frames it, so that an
unchanged client works. Off unless [webipc] enabled = true.

The queue's key is ftok(path, 'T'). A request is message type 2: a "=LH" header (the
client's time stamp, a uint32, and its request id, a uint16) and then a text command. A
reply is type 1: the request's header and at most 290 bytes of text; dumpState's reply is
a header with one byte, the number of packets, and then that many replies of up to 290
bytes. A query (getStatus, dumpState) is always answered; a command only when its id is
not 0: the original's clients send commands with id 0 and never read a reply to them.

The queue is polled without blocking in the service's event loop (every POLL_S, at most
BATCH messages a time), made with mode 0600 (the original's is 0666: anyone on the computer
could charge at full current), and removed when the service stops. A message without a
header is logged and ignored; the commands themselves are webipc_commands.py's.
"""
from __future__ import annotations

import asyncio
import logging
import os
import struct
from types import ModuleType
from typing import Any

from twcm.service.config import WebIpcConfig
from twcm.service.control import webipc_commands as commands
from twcm.service.control.requests import Control
from twcm.service.site import SiteLoop

log = logging.getLogger("twcm.webipc")

PROJ_ID = ord("T")  # ftok's project id: the original's and its PHP page's
REQUEST_TYPE, REPLY_TYPE = 2, 1
HEADER = struct.Struct("=LH")  # time stamp, request id; native byte order as PHP's "LS"
MAX_TEXT = 290  # the original's reply size: the PHP page receives at most 300 bytes
MAX_PACKETS = 40  # dumpState: 11,600 bytes, well inside the default 16 KB queue
MODE = 0o600
POLL_S = 0.1
BATCH = 20  # messages handled per poll: a flood cannot hold up the event loop
MSGMAX = "/proc/sys/kernel/msgmax"


class WebIpcError(Exception):
    """The queue cannot be made; str() names the key and the fix."""


def _sysv() -> ModuleType:
    try:
        import sysv_ipc
    except ImportError:
        raise WebIpcError("webipc.enabled: the sysv_ipc package is missing (fix: pip install "
                          "sysv_ipc; System V message queues need Linux or another Unix), "
                          "or set enabled = false") from None
    return sysv_ipc


def _largest_message() -> int:
    """The system's largest message: a receive buffer this big takes any message, so that
    none can stay stuck at the head of the queue for being too long."""
    try:
        with open(MSGMAX, encoding="ascii") as f:
            return max(8192, int(f.read()))
    except (OSError, ValueError):
        return 8192


def fit(text: str, size: int = MAX_TEXT) -> bytes:
    """`text` in UTF-8, cut to `size` bytes at a character boundary."""
    return text.encode()[:size].decode(errors="ignore").encode()


def shown(command: str) -> str:
    """A command as the log shows it: arguments after "=" only for our own commands (a
    carApiEmailPassword holds a password), newlines escaped, at most 120 characters."""
    name = commands.verb(command)
    if name in commands.REFUSED or len(name) > 40:
        return name[:40] + ("=[hidden]" if "=" in command else "")
    return command[:120].encode("unicode_escape").decode("ascii")


class WebIpc:
    """The bridge for one site: open() makes the queue, run() serves it until cancelled
    and then removes it."""

    def __init__(self, site: SiteLoop, path: str) -> None:
        self.site = site
        self.path = path
        self.key: int | None = None
        self.queue: Any = None
        self._sysv: Any = None

    @classmethod
    def start(cls, config: WebIpcConfig, control: Control) -> WebIpc | None:
        """The bridge, its queue made, if enabled; a queue that cannot be made is logged,
        and the service goes on without it."""
        if not config.enabled:
            return None
        site = control.site(config.site) if config.site else next(iter(control.sites.values()))
        bridge = cls(site, config.path)
        try:
            bridge.open()
        except WebIpcError as e:
            log.error("WebIPC: %s; going on without it", e)
            return None
        log.info("WebIPC for site %s on the message queue 0x%08x (ftok %s, 'T'), mode 0600",
                 site.config.name, bridge.key, config.path)
        return bridge

    def open(self) -> None:
        """Make the queue, exclusively; one this user left behind (a twcm that was killed)
        is removed first. WebIpcError if another user's queue holds the key."""
        sysv = self._sysv = _sysv()
        try:
            self.key = sysv.ftok(self.path, PROJ_ID, True)
        except OSError as e:
            raise WebIpcError(f"webipc.path: {self.path}: {e.strerror or e} (fix: give an "
                              "existing directory, the one your legacy client's ftok uses)")
        try:
            try:
                self.queue = self._create()
            except sysv.ExistentialError:
                self._remove_leftover()
                self.queue = self._create()
        except sysv.Error as e:  # too many queues (ipcs -q), a key just taken ...
            raise WebIpcError(f"cannot make the message queue 0x{self.key:08x}: {e} (fix: "
                              "see ipcs -q, or set webipc.path to another directory)") from None

    def _create(self) -> Any:
        return self._sysv.MessageQueue(self.key, self._sysv.IPC_CREX, MODE, _largest_message())

    def _remove_leftover(self) -> None:
        sysv = self._sysv
        where = f"a message queue with key 0x{self.key:08x} (ftok {self.path}, 'T')"
        try:
            old = sysv.MessageQueue(self.key)
            owner, mode = old.uid, old.mode
        except sysv.Error as e:
            raise WebIpcError(f"{where} exists and is not this user's ({e}) (fix: stop the "
                              "program that made it, remove it with ipcrm -Q "
                              f"0x{self.key:08x}, start twcm before the web page)") from None
        if owner != os.geteuid():
            raise WebIpcError(f"{where} exists, made by uid {owner} with mode {mode:o} (a "
                              "legacy page opened it before twcm ran, or TWCManager runs) "
                              f"(fix: stop that program, ipcrm -Q 0x{self.key:08x}, start "
                              "twcm before the web page)")
        log.warning("WebIPC: removing %s left behind (by a twcm that was killed, or another "
                    "program of this user on the same path)", where)
        old.remove()

    async def run(self) -> None:
        """Answer requests until cancelled; then remove the queue."""
        try:
            while True:
                for _ in range(BATCH):
                    body = self._receive()
                    if body is None:
                        break
                    self.answer(body)
                await asyncio.sleep(POLL_S)
        finally:
            self.close()

    def close(self) -> None:
        """Remove the queue (the clients see it gone, not a bridge that does not answer)."""
        if self.queue is None:
            return
        try:
            self.queue.remove()
        except self._sysv.Error as e:
            log.warning("WebIPC: cannot remove the message queue 0x%08x: %s", self.key, e)
        self.queue = None
        log.info("WebIPC: message queue 0x%08x removed", self.key)

    def _receive(self) -> bytes | None:
        """The next request, if one waits; a queue removed under us (ipcrm) is made again."""
        sysv = self._sysv
        try:
            body, _ = self.queue.receive(False, REQUEST_TYPE)
            return bytes(body)
        except sysv.BusyError:
            return None
        except sysv.ExistentialError:
            log.warning("WebIPC: the message queue 0x%08x was removed; making it again",
                        self.key)
            try:
                self.queue = self._create()
            except sysv.Error as e:
                log.error("WebIPC: cannot make the message queue again: %s", e)
        except (sysv.Error, OSError) as e:  # e.g. its mode changed under us (ipcs)
            log.error("WebIPC: cannot receive: %s", e)
        return None

    def answer(self, body: bytes) -> None:
        """Carry out one request and send its reply (if one is due); any failure is logged
        and the bridge goes on."""
        if len(body) < HEADER.size:
            log.warning("WebIPC: a message of %d bytes has no header (time stamp, id): "
                        "ignored", len(body))
            return
        stamp, ident = HEADER.unpack_from(body)
        command = body[HEADER.size:].decode("utf-8", "replace").rstrip("\x00")
        log.info("WebIPC request %d: %s", ident, shown(command))
        try:
            text = commands.handle(self.site, command)
        except ValueError as e:  # Refused, the site's ConfigError and ValueError
            reason = "; ".join(str(e).splitlines())
            log.warning("WebIPC request %d refused: %s", ident, reason)
            text = "ERROR: " + reason
        except Exception:
            log.exception("WebIPC request %d (%s) failed", ident, shown(command))
            text = "ERROR: twcm failed to carry it out, see its log"
        name = commands.verb(command)
        if ident == 0 and name not in commands.QUERIES:
            return  # a command of the original's clients: nobody reads a reply
        if name == "dumpState" and not text.startswith("ERROR: "):
            self._send_packets(stamp, ident, text)
        else:
            self._send(stamp, ident, fit(text))

    def _send(self, stamp: int, ident: int, payload: bytes) -> bool:
        try:
            self.queue.send(HEADER.pack(stamp, ident) + payload, False, REPLY_TYPE)
            return True
        except self._sysv.BusyError:
            log.error("WebIPC: the message queue is full: reply %d dropped (is a client "
                      "reading its replies?)", ident)
        except self._sysv.Error as e:
            log.error("WebIPC: cannot send reply %d: %s", ident, e)
        return False

    def _send_packets(self, stamp: int, ident: int, text: str) -> None:
        """The original's packet framing: a count byte, then the packets."""
        data = text.encode()[:MAX_PACKETS * MAX_TEXT]
        packets = [data[i:i + MAX_TEXT] for i in range(0, len(data), MAX_TEXT)] or [b" "]
        if self._send(stamp, ident, bytes([len(packets)])):
            for p in packets:
                if not self._send(stamp, ident, p):
                    return
