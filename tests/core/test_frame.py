# Framing: escaping and the reader's handling of noisy real-world streams.
from twc import frame, proto
from support import read_frames


def _wire(buf, n):
    out = bytearray(frame.MAX_WIRE)
    k = frame.escape_into(buf, n, out)
    return bytes(out[:k])


def _heartbeat(slave_id=0x1234, ca=3200):
    buf = bytearray(frame.MAX_LEN)
    n = proto.master_heartbeat(buf, 0x7777, slave_id, proto.CMD_LIMIT_P2, ca)
    return bytes(buf[:n])


def test_escaping_of_both_special_bytes():
    f = _heartbeat(0xC0DB, 4800)  # 48.00 A is 12 C0
    w = _wire(f, len(f))
    assert w[0] == 0xC0 and w[-1] == 0xC0
    assert 0xC0 not in w[1:-1]
    assert b"\xdb\xdc\xdb\xdd" in w
    got, r = read_frames(w)
    assert got == [f]


def test_every_byte_value_survives_the_round_trip():
    for v in range(256):
        f = bytearray(16)
        f[0] = 0xFB
        for i in range(1, 15):
            f[i] = v
        frame.seal(f, 16)
        got, r = read_frames(_wire(f, 16))
        assert got == [bytes(f)], v


def test_trailer_bytes_and_double_delimiters_are_dropped():
    f = _heartbeat()
    w = _wire(f, len(f))
    stream = w + b"\xfe" + w + b"\xfc" + b"\xc0" + w + b"\xf8" + w
    got, r = read_frames(stream)
    assert got == [f, f, f, f]
    assert r.errors == 0


def test_resync_after_garbage():
    f = _heartbeat()
    w = _wire(f, len(f))
    garbage = b"\x12\x34\xc0\x99\x88\x77\x66\x55\x44\x33\x22\x11\x00\x01\x02\x03\x04\x05"
    got, r = read_frames(garbage + w + garbage[:5] + w)
    assert got == [f, f]
    assert r.errors >= 1


def test_bad_checksum_is_rejected():
    f = bytearray(_heartbeat())
    f[-1] ^= 1
    got, r = read_frames(_wire(f, len(f)))
    assert got == []
    assert r.errors == 1


def test_wrong_lengths_are_rejected():
    for n in (3, 12, 21, 30):
        f = bytearray(n)
        f[0] = 0xFD
        f[1] = 0xE0
        frame.seal(f, n)
        got, r = read_frames(_wire(f, n))
        assert got == [], n


def test_invalid_escape_drops_the_frame_only():
    f = _heartbeat()
    w = _wire(f, len(f))
    bad = b"\xc0\xfd\xe0\xdb\x01\x02\x03\xc0"
    got, r = read_frames(bad + w)
    assert got == [f]
    assert r.errors == 1


def test_overlong_run_without_delimiter():
    f = _heartbeat()
    got, r = read_frames(b"\xc0" + b"\x01" * 100 + _wire(f, len(f)))
    assert got == [f]
    assert r.errors == 1


def test_receiving_tells_a_frame_is_arriving():
    f = _heartbeat()
    w = _wire(f, len(f))
    r = frame.Reader()
    assert not r.receiving()
    for b in w[:5]:
        r.push(b)
    assert r.receiving()
    for b in w[5:]:
        r.push(b)
    assert not r.receiving()
    r.push(0xFE)  # the trailer after a frame is not a frame arriving
    assert not r.receiving()
    r.push(0xC0)
    r.push(0xFD)
    assert r.receiving()


def test_reader_allocates_no_new_buffer():
    r = frame.Reader()
    buf = r.buf
    f = _heartbeat()
    for b in _wire(f, len(f)):
        r.push(b)
    assert r.buf is buf
