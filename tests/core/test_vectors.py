# Every frame captured from real buses (tests/fixtures/twc-vectors.json)
# through the framing, the reader and the field readers.
import json
from binascii import unhexlify

from twc import frame, proto
import support
from support import read_frames

VECTORS = json.loads(support.fixture("twc-vectors.json"))
FRAMES = [v for v in VECTORS if v["form"] == "frame"]
BLOCKS = [v for v in VECTORS if v["form"] == "heartbeat_data_block"]


def _hex_id(s):
    return int(s, 16)


def _amps_ca(a):
    return int(a * 100 + 0.5)


def test_there_are_vectors():
    assert len(FRAMES) >= 30
    assert len(BLOCKS) >= 10
    assert [v for v in FRAMES if not v["checksum_ok"]]


def test_checksums():
    for v in FRAMES:
        buf = unhexlify(v["hex"])
        assert frame.valid(buf, len(buf)) == v["checksum_ok"], v["hex"]
        assert frame.checksum(buf, len(buf)) == int(v["computed_checksum"], 16)


def test_wire_form():
    out = bytearray(frame.MAX_WIRE)
    for v in FRAMES:
        buf = unhexlify(v["hex"])
        k = frame.escape_into(buf, len(buf), out)
        assert bytes(out[:k]) == unhexlify(v["wire_hex"]), v["hex"]


def test_reader_takes_good_frames_and_rejects_the_bad_one():
    for v in FRAMES:
        # Real TWCs send a stray byte after the closing C0.
        wire = unhexlify(v["wire_hex"]) + b"\xfc"
        got, r = read_frames(wire)
        if v["checksum_ok"]:
            assert got == [unhexlify(v["hex"])], v["hex"]
            assert r.errors == 0
        else:
            assert got == []
            assert r.errors == 1


def test_reader_on_the_whole_capture_back_to_back():
    wire = b""
    want = []
    for v in FRAMES:
        wire += unhexlify(v["wire_hex"]) + b"\xfe"
        if v["checksum_ok"]:
            want.append(unhexlify(v["hex"]))
    got, r = read_frames(wire)
    assert got == want
    assert r.errors == 1


def _check_decoded(v, buf, n):
    d = v["decoded"]
    c = proto.code(buf)
    assert c == _hex_id(d["code"].replace(" ", "")), v["hex"]
    assert n == d["length_incl_checksum"]
    if "sender" in d:
        assert proto.sender(buf) == _hex_id(d["sender"])
    if "receiver" in d:
        assert proto.receiver(buf) == _hex_id(d["receiver"])
    if c == proto.SLAVE_LINKREADY:
        assert proto.is_slave_linkready(buf, n)
        assert proto.linkready_sign(buf) == _hex_id(d["sign"])
        assert proto.linkready_max_ca(buf) == _amps_ca(d["max_amps"])
        assert proto.protocol_of(n) == d["protocol"]
    elif c == proto.MASTER_LINKREADY1 or c == proto.MASTER_LINKREADY2:
        assert proto.linkready_sign(buf) == _hex_id(d["sign"])
    elif c == proto.MASTER_HEARTBEAT:
        assert proto.hb_state(buf) == _hex_id(d["command"])
        assert proto.hb_limit_ca(buf) == _amps_ca(d["amps"])
    elif c == proto.SLAVE_HEARTBEAT:
        assert proto.hb_state(buf) == _hex_id(d["state"])
        assert proto.hb_limit_ca(buf) == _amps_ca(d["max_amps"])
        assert proto.hb_actual_ca(buf) == _amps_ca(d["actual_amps"])
        assert proto.protocol_of(n) == d["protocol"]
    elif c == proto.METER_REPLY:
        assert proto.meter_kwh(buf) == d["lifetime_kwh"]
        for p in range(3):
            assert proto.meter_volts(buf, p) == d["volts"][p]
            assert proto.meter_half_amps(buf, p) / 2 == d["phase_amps_from_half_amp_bytes_14_16"][p]


def test_decoded_fields():
    for v in FRAMES:
        if v["checksum_ok"]:
            buf = unhexlify(v["hex"])
            _check_decoded(v, buf, len(buf))


def _encode(buf, v):
    """Build the vector's frame with our encoders; None if we never send it."""
    raw = unhexlify(v["hex"])
    n = len(raw)
    c = proto.code(raw)
    who = proto.sender(raw)
    if c in (proto.MASTER_LINKREADY1, proto.MASTER_LINKREADY2):
        if raw[5]:  # a non-zero current field, as one ESP32 build sent
            return None
        return proto.master_linkready(buf, 1 if c == proto.MASTER_LINKREADY1 else 2,
                                      who, raw[4], n)
    if c == proto.SLAVE_LINKREADY:
        return proto.slave_linkready(buf, who, raw[4], proto.linkready_max_ca(raw),
                                     proto.protocol_of(n))
    if c == proto.MASTER_HEARTBEAT:
        return proto.master_heartbeat(buf, who, proto.receiver(raw), raw[6],
                                      proto.hb_limit_ca(raw))
    if c == proto.SLAVE_HEARTBEAT:
        return proto.slave_heartbeat(buf, who, proto.receiver(raw), raw[6],
                                     proto.hb_limit_ca(raw), proto.hb_actual_ca(raw),
                                     proto.protocol_of(n))
    if c in proto.REQUESTS:
        return proto.request(buf, c, who, proto.receiver(raw), n)
    if c == proto.METER_REPLY:
        return proto.meter_reply(buf, who, proto.meter_kwh(raw),
                                 [proto.meter_volts(raw, p) for p in range(3)],
                                 [proto.meter_half_amps(raw, p) for p in range(3)])
    if c in (proto.START_ACK, proto.STOP_ACK):
        return proto.charge_ack(buf, c, who)
    return None


def test_encoders_rebuild_the_captured_frames():
    buf = bytearray(frame.MAX_LEN)
    built = 0
    for v in FRAMES:
        if not v["checksum_ok"]:
            continue
        n = _encode(buf, v)
        if n is None:
            continue
        assert bytes(buf[:n]) == unhexlify(v["hex"]), v["hex"]
        built += 1
    assert built >= 28


def test_heartbeat_data_blocks():
    for v in BLOCKS:
        raw = unhexlify("FDE012347777" + v["hex"])  # header + block
        d = v["decoded"]
        assert proto.hb_state(raw) == _hex_id(d["byte0"])
        assert proto.hb_limit_ca(raw) == _amps_ca(d["amps_bytes_1_2"])
        assert proto.hb_actual_ca(raw) == _amps_ca(d["amps_bytes_3_4"])
