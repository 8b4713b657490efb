"""Helpers for the core tests (tests/core/test_*.py).

Runs unchanged on CPython (pytest), the MicroPython unix port and the MicroPython
WebAssembly port, so: no CPython-only modules, no typing, no pathlib.

    from support import fixture, fixture_bytes
    vectors = json.loads(fixture("twc-vectors.json"))

Fixtures live in tests/fixtures/. They are looked up next to this file
(<dir of support.py>/../fixtures), then in ./tests/fixtures, then in /fixtures
(where tools/mpy-wasm/run.mjs copies them for the wasm port).
"""


def _dirname(path):
    i = path.rfind("/")
    if i < 0:
        return "."
    return path[:i] if i > 0 else "/"


def _fixture_dirs():
    dirs = []
    try:
        here = __file__
    except NameError:  # a module without __file__ (frozen, or run from a string)
        here = None
    if here:
        dirs.append(_dirname(here.replace("\\", "/")) + "/../fixtures")
    dirs.append("tests/fixtures")
    dirs.append("/fixtures")
    return dirs


FIXTURE_DIRS = _fixture_dirs()


def _read(name, mode):
    for d in FIXTURE_DIRS:
        try:
            f = open(d + "/" + name, mode)
        except OSError:  # ENOENT; the wasm port reports errno 44 instead of 2
            continue
        try:
            return f.read()
        finally:
            f.close()
    raise OSError("fixture %r not found in %s" % (name, ", ".join(FIXTURE_DIRS)))


def fixture(name):
    """Text of tests/fixtures/<name>."""
    return _read(name, "r")


def fixture_bytes(name):
    """Bytes of tests/fixtures/<name>."""
    return _read(name, "rb")


def read_frames(data):
    """Feed bytes to a fresh twc.frame.Reader: (frames it found, the reader)."""
    from twc import frame
    r = frame.Reader()
    got = []
    for b in data:
        k = r.push(b)
        if k:
            got.append(bytes(r.buf[:k]))
    return got, r
