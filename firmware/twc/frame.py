# Framing of the TWC RS-485 bus: checksum, SLIP-style escaping, and a
# reader that assembles frames from a byte stream.
#
# A frame is type, command, sender ID, payload and a checksum byte. On the
# wire it is sent as C0 <escaped frame> C0, where C0 -> DB DC and DB -> DB DD
# (checksum included). Real TWCs add one stray byte after the closing C0;
# the reader drops it. Nothing here allocates after construction.

END = 0xC0
ESC = 0xDB
ESC_END = 0xDC
ESC_ESC = 0xDD

MIN_LEN = 13  # shortest frame seen on real buses (13-byte info requests)
MAX_LEN = 20  # 20-byte data replies (FD EB, FD EE, ...)
# Longest wire form: every byte escaped, plus two delimiters.
MAX_WIRE = 2 * MAX_LEN + 2


def checksum(buf, n):
    """Checksum of a frame whose checksum byte sits at buf[n - 1].

    It is the sum of every byte after the type byte, modulo 256.
    """
    s = 0
    i = 1
    while i < n - 1:
        s += buf[i]
        i += 1
    return s & 0xFF


def seal(buf, n):
    """Write the checksum into the last byte of an n-byte frame; return n."""
    buf[n - 1] = checksum(buf, n)
    return n


def valid(buf, n):
    return MIN_LEN <= n <= MAX_LEN and buf[n - 1] == checksum(buf, n)


def escape_into(frame, n, out):
    """Write the wire form of frame[:n] into out; return its length."""
    out[0] = END
    j = 1
    i = 0
    while i < n:
        b = frame[i]
        if b == END:
            out[j] = ESC
            out[j + 1] = ESC_END
            j += 2
        elif b == ESC:
            out[j] = ESC
            out[j + 1] = ESC_ESC
            j += 2
        else:
            out[j] = b
            j += 1
        i += 1
    out[j] = END
    return j + 1


_OUT = 0  # between frames: waiting for a C0
_IN = 1  # collecting frame bytes
_ESCAPED = 2  # the previous byte was DB


class Reader:
    """Assembles frames from bytes, one byte at a time.

    push() returns the length of a frame that has just completed (its bytes
    are in .buf until the next push) or 0. A C0 that closes a valid frame
    is followed by bytes to ignore up to the next C0 (the trailer). Any
    other C0 ends the candidate in progress and opens a new one, so the
    reader resynchronises on the first C0 after garbage. Candidates of 1-2
    bytes (a trailer read as a frame, the odd 7C 00) are dropped silently;
    longer ones that fail the length or checksum test count in .errors.
    """

    def __init__(self):
        self.buf = bytearray(MAX_LEN)
        self.n = 0
        self.state = _OUT
        self.errors = 0
        self.frames = 0

    def receiving(self):
        """True while part of a frame has been received."""
        return self.n > 0 or self.state == _ESCAPED

    def _close(self):
        n = self.n
        self.n = 0
        if n > 2 and valid(self.buf, n):
            # Between frames now: what comes before the next C0 (the
            # trailer byte) is not a frame.
            self.state = _OUT
            self.frames += 1
            return n
        # Otherwise this C0 may open the next frame.
        self.state = _IN
        if n > 2:
            self.errors += 1
        return 0

    def push(self, b):
        state = self.state
        if b == END:
            return self._close()
        if state == _OUT:
            return 0
        if state == _ESCAPED:
            if b == ESC_END:
                b = END
            elif b == ESC_ESC:
                b = ESC
            else:
                # Not a valid escape: the frame is corrupt. Wait for a C0.
                self.errors += 1
                self.n = 0
                self.state = _OUT
                return 0
            self.state = _IN
        elif b == ESC:
            self.state = _ESCAPED
            return 0
        if self.n >= MAX_LEN:
            self.errors += 1
            self.n = 0
            self.state = _OUT
            return 0
        self.buf[self.n] = b
        self.n += 1
        return 0
