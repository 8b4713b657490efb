# Messages of the TWC gen-2 load-sharing protocol: codes, encoders and
# field readers. See docs/protocol.md for the layouts and their sources.
#
# Encoders write an unescaped frame (checksum included) into a caller's
# bytearray and return its length. Readers take a frame held in a buffer.
# Currents on the wire are centiamps (0.01 A), big-endian; the core keeps
# them as ints so that no float is ever boxed on the device.
#
# Only the messages listed here can be built. FC 19 and FC 1A (they write
# the TWC's flash and can brick it), FB E8 (crashes it) and heartbeat
# command 02 (error state, may need a power cycle) have no encoder, and
# the generic request encoder refuses any code outside REQUESTS. FC B1 /
# FC B2 (start / stop charging) open or close the contactor without the
# car being told: the master sends them only when the device config allows
# it (twc_start_stop), through start_stop().
from twc.frame import seal

# Message codes: type byte << 8 | command byte.
MASTER_LINKREADY1 = 0xFCE1
MASTER_LINKREADY2 = 0xFBE2
SLAVE_LINKREADY = 0xFDE2
MASTER_HEARTBEAT = 0xFBE0
SLAVE_HEARTBEAT = 0xFDE0
METER_REQUEST = 0xFBEB
METER_REPLY = 0xFDEB
VIN1_REQUEST = 0xFBEE
VIN2_REQUEST = 0xFBEF
VIN3_REQUEST = 0xFBF1
VIN1_REPLY = 0xFDEE
VIN2_REPLY = 0xFDEF
VIN3_REPLY = 0xFDF1
START_CHARGING = 0xFCB1
STOP_CHARGING = 0xFCB2
START_ACK = 0xFDB1
STOP_ACK = 0xFDB2
IDLE_BROADCAST = 0xFC1D

# Requests the master may send with request().
REQUESTS = (METER_REQUEST, VIN1_REQUEST, VIN2_REQUEST, VIN3_REQUEST,
            START_CHARGING, STOP_CHARGING)

# Master heartbeat commands (byte 6).
CMD_NONE = 0x00
CMD_ERROR = 0x02  # decoded, never encoded
CMD_LIMIT_P1 = 0x05  # set limit; protocol 1, or protocol 2 before charging
CMD_RAISE = 0x06  # protocol 2: up 2 A for a while
CMD_LOWER = 0x07  # protocol 2: down 2 A for a while
CMD_ACK = 0x08  # acknowledge a slave that starts or stopped, with a limit
CMD_LIMIT_P2 = 0x09  # protocol 2: set limit, also while charging
COMMANDS = (CMD_NONE, CMD_LIMIT_P1, CMD_RAISE, CMD_LOWER, CMD_ACK, CMD_LIMIT_P2)
_WITH_CURRENT = (CMD_LIMIT_P1, CMD_ACK, CMD_LIMIT_P2)

# Slave states (slave heartbeat byte 6).
STATE_READY = 0x00
STATE_CHARGING = 0x01
STATE_ERROR = 0x02
STATE_PLUGGED = 0x03  # plugged in, not charging (car stopped or 0 A)
STATE_ASKING = 0x04  # plugged in, ready; with limit 0 it asks for one
STATE_BUSY = 0x05
STATE_RAISING = 0x06
STATE_LOWERING = 0x07
STATE_STARTING = 0x08
STATE_SETTING = 0x09
STATE_ADJUSTED = 0x0A
STATE_0F = 0x0F  # reported by a user, meaning unknown

STATE_NAMES = {
    STATE_READY: "ready", STATE_CHARGING: "charging", STATE_ERROR: "error",
    STATE_PLUGGED: "plugged", STATE_ASKING: "asking", STATE_BUSY: "busy",
    STATE_RAISING: "raising", STATE_LOWERING: "lowering",
    STATE_STARTING: "starting", STATE_SETTING: "setting",
    STATE_ADJUSTED: "adjusted", STATE_0F: "unknown-0f",
}

# Frame lengths (type byte through checksum).
LEN_P1 = 14
LEN_P2 = 16
LEN_DATA = 20

# Highest current any encoder accepts, in centiamps: 80 A, the largest
# gen-2 rating. Real slaves obey anything, even 655.35 A.
MAX_CA = 8000


def _head(buf, code, sender, n):
    buf[0] = code >> 8
    buf[1] = code & 0xFF
    buf[2] = sender >> 8
    buf[3] = sender & 0xFF
    i = 4
    while i < n:
        buf[i] = 0
        i += 1


def _u16(buf, i, v):
    buf[i] = (v >> 8) & 0xFF
    buf[i + 1] = v & 0xFF


def _check_id(v):
    if not 0 <= v <= 0xFFFF:
        raise ValueError("TWC id out of range")


def _check_ca(v):
    if not 0 <= v <= MAX_CA:
        raise ValueError("current out of range")


def _length(protocol):
    if protocol == 1:
        return LEN_P1
    if protocol == 2:
        return LEN_P2
    raise ValueError("protocol must be 1 or 2")


# -- encoders --------------------------------------------------------------

def master_linkready(buf, which, master_id, sign, n=LEN_P1):
    """Master linkready 1 (FC E1) or 2 (FB E2): sender, sign, zeros."""
    if which != 1 and which != 2:
        raise ValueError("linkready is 1 or 2")
    if n != LEN_P1 and n != LEN_P2:
        raise ValueError("linkready is 14 or 16 bytes")
    _check_id(master_id)
    _head(buf, MASTER_LINKREADY1 if which == 1 else MASTER_LINKREADY2, master_id, n)
    buf[4] = sign & 0xFF
    return seal(buf, n)


def master_heartbeat(buf, master_id, slave_id, command, ca):
    """Master heartbeat (FB E0), 16 bytes for both protocols.

    ca is the limit in centiamps for the limit commands (05, 08, 09) and
    must be 0 for the others.
    """
    if command not in COMMANDS:
        raise ValueError("heartbeat command not allowed")
    _check_id(master_id)
    _check_id(slave_id)
    _check_ca(ca)
    if ca and command not in _WITH_CURRENT:
        raise ValueError("only limit commands carry a current")
    _head(buf, MASTER_HEARTBEAT, master_id, LEN_P2)
    _u16(buf, 4, slave_id)
    buf[6] = command
    _u16(buf, 7, ca)
    return seal(buf, LEN_P2)


def request(buf, code, master_id, slave_id, n=LEN_P2):
    """A request addressed to one slave: code, master, slave, zeros."""
    if code not in REQUESTS:
        raise ValueError("request code not allowed")
    if not 13 <= n <= LEN_P2:
        raise ValueError("request is 13 to 16 bytes")
    _check_id(master_id)
    _check_id(slave_id)
    _head(buf, code, master_id, n)
    _u16(buf, 4, slave_id)
    return seal(buf, n)


def start_stop(buf, start, master_id, slave_id):
    """FC B1 (start charging) if start, else FC B2 (stop charging): code,
    master, slave, 9 zero bytes; 16 bytes with the checksum, as the TWCs'
    firmware 4.5.3 answers them (docs/protocol.md)."""
    return request(buf, START_CHARGING if start else STOP_CHARGING, master_id,
                   slave_id, LEN_P2)


def slave_linkready(buf, slave_id, sign, max_ca, protocol):
    """Slave linkready (FD E2); its length tells the protocol."""
    n = _length(protocol)
    _check_id(slave_id)
    if not 0 <= max_ca <= 0xFFFF:
        raise ValueError("max current out of range")
    _head(buf, SLAVE_LINKREADY, slave_id, n)
    buf[4] = sign & 0xFF
    _u16(buf, 5, max_ca)
    return seal(buf, n)


def slave_heartbeat(buf, slave_id, master_id, state, limit_ca, actual_ca, protocol):
    """Slave heartbeat (FD E0): state, echoed limit, actual current."""
    n = _length(protocol)
    _check_id(slave_id)
    _check_id(master_id)
    if not 0 <= state <= 0xFF:
        raise ValueError("state out of range")
    if not (0 <= limit_ca <= 0xFFFF and 0 <= actual_ca <= 0xFFFF):
        raise ValueError("current out of range")
    _head(buf, SLAVE_HEARTBEAT, slave_id, n)
    _u16(buf, 4, master_id)
    buf[6] = state
    _u16(buf, 7, limit_ca)
    _u16(buf, 9, actual_ca)
    return seal(buf, n)


def meter_reply(buf, slave_id, kwh, volts, half_amps):
    """FD EB: lifetime kWh (u32), volts per phase (u16 x3), 0.5 A units (u8 x3)."""
    _check_id(slave_id)
    if not 0 <= kwh <= 0xFFFFFFFF:
        raise ValueError("kWh out of range")
    _head(buf, METER_REPLY, slave_id, LEN_DATA)
    _u16(buf, 4, kwh >> 16)
    _u16(buf, 6, kwh & 0xFFFF)
    for p in range(3):
        _u16(buf, 8 + 2 * p, volts[p])
        buf[14 + p] = half_amps[p] & 0xFF
    return seal(buf, LEN_DATA)


def vin_reply(buf, part, slave_id, vin):
    """FD EE/EF/F1: characters 1-7, 8-14 or 15-17 of vin (bytes, 17 long).

    An empty vin gives the all-zero reply of a car that does not tell.
    """
    _check_id(slave_id)
    _head(buf, VIN_REPLIES[part], slave_id, LEN_DATA)
    start = VIN_START[part]
    i = 0
    while i < VIN_COUNT[part] and start + i < len(vin):
        buf[4 + i] = vin[start + i]
        i += 1
    return seal(buf, LEN_DATA)


def charge_ack(buf, code, slave_id):
    """FD B1 / FD B2: a slave acknowledges start / stop charging."""
    if code != START_ACK and code != STOP_ACK:
        raise ValueError("not an acknowledgement code")
    _check_id(slave_id)
    _head(buf, code, slave_id, LEN_P2)
    return seal(buf, LEN_P2)


VIN_REQUESTS = (VIN1_REQUEST, VIN2_REQUEST, VIN3_REQUEST)
VIN_REPLIES = (VIN1_REPLY, VIN2_REPLY, VIN3_REPLY)
VIN_START = (0, 7, 14)
VIN_COUNT = (7, 7, 3)


# -- readers ---------------------------------------------------------------

def code(buf):
    return (buf[0] << 8) | buf[1]


def sender(buf):
    return (buf[2] << 8) | buf[3]


def receiver(buf):
    """Receiver ID of heartbeats and requests (bytes 4-5)."""
    return (buf[4] << 8) | buf[5]


def u16(buf, i):
    return (buf[i] << 8) | buf[i + 1]


def is_slave_linkready(buf, n):
    """FD E2 of 14 or 16 bytes whose reserved bytes 7-12 are zero."""
    if code(buf) != SLAVE_LINKREADY or (n != LEN_P1 and n != LEN_P2):
        return False
    i = 7
    while i < 13:
        if buf[i]:
            return False
        i += 1
    return True


def protocol_of(n):
    """Protocol version from the length of a slave linkready frame."""
    return 1 if n == LEN_P1 else 2


def linkready_sign(buf):
    return buf[4]


def linkready_max_ca(buf):
    return u16(buf, 5)


def hb_state(buf):
    """Slave state, or master command, of a heartbeat."""
    return buf[6]


def hb_limit_ca(buf):
    """Slave: the limit it applies. Master: the limit it sets."""
    return u16(buf, 7)


def hb_actual_ca(buf):
    """Slave heartbeat: the current the car draws."""
    return u16(buf, 9)


def meter_kwh(buf):
    return (u16(buf, 4) << 16) | u16(buf, 6)


def meter_volts(buf, phase):
    return u16(buf, 8 + 2 * phase)


def meter_half_amps(buf, phase):
    return buf[14 + phase]


def vin_part(c):
    """0, 1 or 2 for a VIN reply code, else -1."""
    if c == VIN1_REPLY:
        return 0
    if c == VIN2_REPLY:
        return 1
    if c == VIN3_REPLY:
        return 2
    return -1


_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def _vin_value(ch):
    """Value of a VIN character for the check digit, -1 if not allowed."""
    if 48 <= ch <= 57:
        return ch - 48
    if ch < 65 or ch > 90 or ch in (73, 79, 81):  # I, O and Q are not used
        return -1
    if ch <= 72:  # A-H: 1-8
        return ch - 64
    if ch <= 82:  # J-R: 1-9
        return ch - 73
    return ch - 81  # S-Z: 2-9


def vin_valid(vin):
    """True for 17 VIN characters with a correct check digit (position 9)."""
    if len(vin) != 17:
        return False
    total = 0
    for i in range(17):
        v = _vin_value(vin[i])
        if v < 0:
            return False
        total += v * _VIN_WEIGHTS[i]
    r = total % 11
    return vin[8] == (88 if r == 10 else 48 + r)  # 'X' or the digit
