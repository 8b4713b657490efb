# Encoders: what they build, and what they refuse to build.
from twc import frame, proto

FORBIDDEN = (0xFC19, 0xFC1A, 0xFBE8)


def _raises(f, *args):
    try:
        f(*args)
    except ValueError:
        return True
    return False


def test_request_accepts_only_the_listed_codes():
    buf = bytearray(frame.MAX_LEN)
    accepted = []
    for c in range(0x10000):
        if c >> 8 not in (0xFB, 0xFC, 0xFD):
            continue
        if not _raises(proto.request, buf, c, 0x7777, 0x1234):
            accepted.append(c)
    assert sorted(accepted) == sorted(proto.REQUESTS)
    for c in FORBIDDEN:
        assert c not in accepted


def test_heartbeat_never_carries_command_02():
    buf = bytearray(frame.MAX_LEN)
    ok = []
    for cmd in range(256):
        if not _raises(proto.master_heartbeat, buf, 0x7777, 0x1234, cmd, 0):
            ok.append(cmd)
    assert proto.CMD_ERROR not in ok
    assert sorted(ok) == sorted(proto.COMMANDS)


def test_heartbeat_current_bounds():
    buf = bytearray(frame.MAX_LEN)
    assert not _raises(proto.master_heartbeat, buf, 0x7777, 1, proto.CMD_LIMIT_P2, 8000)
    assert _raises(proto.master_heartbeat, buf, 0x7777, 1, proto.CMD_LIMIT_P2, 8001)
    assert _raises(proto.master_heartbeat, buf, 0x7777, 1, proto.CMD_LIMIT_P2, -1)
    assert _raises(proto.master_heartbeat, buf, 0x7777, 1, proto.CMD_NONE, 600)
    assert _raises(proto.master_heartbeat, buf, 0x10000, 1, proto.CMD_NONE, 0)


def test_no_encoder_builds_a_forbidden_code():
    buf = bytearray(frame.MAX_LEN)
    made = []
    for which in (1, 2):
        for n in (14, 16):
            made.append(proto.code(buf[:proto.master_linkready(buf, which, 0x7777, 0x77, n)]))
    for p in (1, 2):
        proto.slave_linkready(buf, 1, 2, 3200, p)
        made.append(proto.code(buf))
        proto.slave_heartbeat(buf, 1, 2, 1, 600, 500, p)
        made.append(proto.code(buf))
    for part in range(3):
        proto.vin_reply(buf, part, 1, b"5YJ3E1EA7KF317000")
        made.append(proto.code(buf))
    proto.meter_reply(buf, 1, 5, (230, 230, 230), (0, 0, 0))
    made.append(proto.code(buf))
    for c in (proto.START_ACK, proto.STOP_ACK):
        proto.charge_ack(buf, c, 1)
        made.append(proto.code(buf))
    for c in FORBIDDEN:
        assert c not in made
    assert _raises(proto.master_linkready, buf, 3, 0x7777, 0x77)
    assert _raises(proto.charge_ack, buf, 0xFC19, 1)


def test_linkready_lengths_give_the_protocol():
    buf = bytearray(frame.MAX_LEN)
    n = proto.slave_linkready(buf, 0xABCD, 0x42, 8000, 1)
    assert n == 14 and proto.protocol_of(n) == 1
    assert proto.is_slave_linkready(buf, n)
    n = proto.slave_linkready(buf, 0xABCD, 0x42, 3200, 2)
    assert n == 16 and proto.protocol_of(n) == 2
    assert proto.linkready_max_ca(buf) == 3200
    assert proto.sender(buf) == 0xABCD
    buf[9] = 1  # reserved bytes must be zero
    assert not proto.is_slave_linkready(buf, n)


def test_slave_heartbeat_fields():
    buf = bytearray(frame.MAX_LEN)
    n = proto.slave_heartbeat(buf, 0x2019, 0x7777, proto.STATE_STARTING, 600, 528, 2)
    assert bytes(buf[:n]) == bytes([0xFD, 0xE0, 0x20, 0x19, 0x77, 0x77, 0x08, 0x02,
                                    0x58, 0x02, 0x10, 0, 0, 0, 0, 0x7B])


def test_meter_reply_fields():
    buf = bytearray(frame.MAX_LEN)
    n = proto.meter_reply(buf, 0x6061, 0x00A320EC, (241, 0, 0), (3, 4, 5))
    assert n == 20 and frame.valid(buf, n)
    assert proto.meter_kwh(buf) == 0x00A320EC
    assert proto.meter_volts(buf, 0) == 241
    assert proto.meter_half_amps(buf, 2) == 5


def test_vin_parts():
    vin = b"5YJ3E1EA7KF317000"
    buf = bytearray(frame.MAX_LEN)
    got = bytearray(17)
    for part in range(3):
        n = proto.vin_reply(buf, part, 0x1234, vin)
        assert n == 20 and frame.valid(buf, n)
        assert proto.vin_part(proto.code(buf)) == part
        for i in range(proto.VIN_COUNT[part]):
            got[proto.VIN_START[part] + i] = buf[4 + i]
        for i in range(4 + proto.VIN_COUNT[part], 19):
            assert buf[i] == 0
    assert bytes(got) == vin
    proto.vin_reply(buf, 0, 0x1234, b"")
    assert bytes(buf[4:19]) == bytes(15)


def test_vin_check_digit():
    assert proto.vin_valid(b"1M8GDM9AXKP042788")
    assert proto.vin_valid(b"11111111111111111")
    assert not proto.vin_valid(b"1M8GDM9A1KP042788")  # wrong check digit
    assert not proto.vin_valid(b"1M8GDM9AXKP04278")  # too short
    assert not proto.vin_valid(b"1M8GDM9AXKP04278I")  # I is never used
    assert not proto.vin_valid(bytes(17))
