"""Property tests: every frame we can build survives the wire and decodes back."""
from hypothesis import given, strategies as st

from twc import frame, proto

ids = st.integers(0, 0xFFFF)
bytes8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
protocols = st.sampled_from([1, 2])


def through_wire(buf: bytearray, n: int, trailer: int | None = 0xFE) -> bytes:
    """Escape, send (with a trailer byte), read back; return the one frame."""
    out = bytearray(frame.MAX_WIRE)
    k = frame.escape_into(buf, n, out)
    wire = bytes(out[:k]) + (bytes([trailer]) if trailer is not None else b"")
    r = frame.Reader()
    got = []
    for b in wire:
        m = r.push(b)
        if m:
            got.append(bytes(r.buf[:m]))
    assert got == [bytes(buf[:n])]
    assert r.errors == 0
    return got[0]


@given(ids, ids, st.sampled_from(proto.COMMANDS), st.integers(0, proto.MAX_CA), bytes8)
def test_master_heartbeat(master_id, slave_id, cmd, ca, trailer):
    if cmd not in (proto.CMD_LIMIT_P1, proto.CMD_LIMIT_P2, proto.CMD_ACK):
        ca = 0
    buf = bytearray(frame.MAX_LEN)
    n = proto.master_heartbeat(buf, master_id, slave_id, cmd, ca)
    f = through_wire(buf, n, trailer if trailer != frame.END else None)
    assert proto.code(f) == proto.MASTER_HEARTBEAT
    assert (proto.sender(f), proto.receiver(f)) == (master_id, slave_id)
    assert proto.hb_state(f) == cmd and proto.hb_limit_ca(f) == ca


@given(ids, ids, bytes8, u16, u16, protocols)
def test_slave_heartbeat(slave_id, master_id, state, limit, actual, p):
    buf = bytearray(frame.MAX_LEN)
    n = proto.slave_heartbeat(buf, slave_id, master_id, state, limit, actual, p)
    f = through_wire(buf, n)
    assert proto.protocol_of(len(f)) == p
    assert (proto.sender(f), proto.receiver(f)) == (slave_id, master_id)
    assert (proto.hb_state(f), proto.hb_limit_ca(f), proto.hb_actual_ca(f)) == (state, limit, actual)


@given(ids, bytes8, u16, protocols)
def test_slave_linkready(slave_id, sign, max_ca, p):
    buf = bytearray(frame.MAX_LEN)
    f = through_wire(buf, proto.slave_linkready(buf, slave_id, sign, max_ca, p))
    assert proto.is_slave_linkready(f, len(f))
    assert proto.protocol_of(len(f)) == p
    assert (proto.sender(f), proto.linkready_sign(f), proto.linkready_max_ca(f)) == (slave_id, sign, max_ca)


@given(st.sampled_from([1, 2]), ids, bytes8, st.sampled_from([14, 16]))
def test_master_linkready(which, master_id, sign, n):
    buf = bytearray(frame.MAX_LEN)
    f = through_wire(buf, proto.master_linkready(buf, which, master_id, sign, n))
    assert proto.code(f) == (proto.MASTER_LINKREADY1 if which == 1 else proto.MASTER_LINKREADY2)
    assert (proto.sender(f), proto.linkready_sign(f), len(f)) == (master_id, sign, n)


@given(st.sampled_from(proto.REQUESTS), ids, ids, st.integers(13, 16))
def test_requests(code, master_id, slave_id, n):
    buf = bytearray(frame.MAX_LEN)
    f = through_wire(buf, proto.request(buf, code, master_id, slave_id, n))
    assert (proto.code(f), proto.sender(f), proto.receiver(f), len(f)) == (code, master_id, slave_id, n)


@given(ids, st.integers(0, 0xFFFFFFFF), st.lists(u16, min_size=3, max_size=3),
       st.lists(bytes8, min_size=3, max_size=3))
def test_meter_reply(slave_id, kwh, volts, half):
    buf = bytearray(frame.MAX_LEN)
    f = through_wire(buf, proto.meter_reply(buf, slave_id, kwh, volts, half))
    assert proto.meter_kwh(f) == kwh
    assert [proto.meter_volts(f, p) for p in range(3)] == volts
    assert [proto.meter_half_amps(f, p) for p in range(3)] == half


@given(ids, st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=17, max_size=17))
def test_vin_replies(slave_id, vin):
    buf = bytearray(frame.MAX_LEN)
    got = bytearray(17)
    for part in range(3):
        f = through_wire(buf, proto.vin_reply(buf, part, slave_id, vin.encode()))
        assert proto.vin_part(proto.code(f)) == part
        start, count = proto.VIN_START[part], proto.VIN_COUNT[part]
        got[start:start + count] = f[4:4 + count]
    assert got.decode() == vin


@given(st.binary(max_size=300), st.binary(max_size=40))
def test_reader_finds_a_frame_after_any_garbage(noise, tail_noise):
    """Whatever came before, a frame sent after a quiet C0 is read intact."""
    buf = bytearray(frame.MAX_LEN)
    n = proto.master_heartbeat(buf, 0x7777, 0x1234, proto.CMD_LIMIT_P2, 1600)
    out = bytearray(frame.MAX_WIRE)
    k = frame.escape_into(buf, n, out)
    r = frame.Reader()
    got = []
    for b in noise + bytes(out[:k]) + tail_noise:
        m = r.push(b)
        if m:
            got.append(bytes(r.buf[:m]))
    assert bytes(buf[:n]) in got
    # Nothing that fails the checksum ever comes out.
    assert all(frame.valid(g, len(g)) for g in got)
