"""Runner for the core tests: one file for CPython, the MicroPython unix port and the wasm port.

Test modules are tests/core/test_*.py with plain `def test_xxx():` functions and plain
`assert`; `async def test_xxx():` also works (awaited here; run with asyncio.run under pytest
by tests/conftest.py). pytest collects the same files under CPython.

    micropython tests/core/run.py [-v] [-k SUBSTR] [test_module ...]     # unix port
    micropython tests/core/run.py tests/device [...]    # the tests of another folder
    python tests/core/run.py ...                                         # CPython
    node tools/mpy-wasm/run.mjs --lib firmware --lib tests/core \\
        --lib tests/fixtures:/fixtures -c 'import run; await run.amain()'  # wasm port

`twc` (firmware/) must be importable: tools/test sets MICROPYPATH; failing that, the runner
adds <repo>/firmware to sys.path itself when it can find it. Modules are found with
os.listdir in the directory of support.py (or in the folder given on the command line, which
is then put first on sys.path), or named on the command line / in `names`.

Ends with exactly one line `<folder> (<impl>[ wasm]): N passed, N failed` (`core (...)` for
tests/core) and exits 1 (sys.exit) if any test failed, a module did not import, or no test ran
at all.
"""

import sys

try:
    import os
except ImportError:  # a port without os: modules must be named
    os = None

import support

WASM = sys.platform in ("webassembly", "emscripten")
TAG = sys.implementation.name + (" wasm" if WASM else "")


def _dirname(path):
    i = path.rfind("/")
    if i < 0:
        return "."
    return path[:i] if i > 0 else "/"


def _isdir(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0
    except (OSError, AttributeError, TypeError):
        return False


_HERE = _dirname(getattr(support, "__file__", "./support.py").replace("\\", "/"))
_SUITE = [_HERE, "core"]  # the folder whose tests run, and its name in the closing line

if os is not None:
    _fw = _HERE + "/../../firmware"
    if _isdir(_fw + "/twc") and _fw not in sys.path:
        sys.path.append(_fw)


def _print_exc(e):
    if hasattr(sys, "print_exception"):
        sys.print_exception(e)
    else:
        import traceback

        traceback.print_exception(type(e), e, e.__traceback__, file=sys.stdout)


def _discover():
    if os is None or not hasattr(os, "listdir"):
        raise RuntimeError("no os.listdir here: name the test modules")
    names = []
    for f in os.listdir(_SUITE[0]):
        if f.startswith("test_") and f.endswith(".py"):
            names.append(f[:-3])
    names.sort()
    return names


def _parse_args(argv):
    names = []
    pattern = None
    verbose = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-k":
            i += 1
            pattern = argv[i]
        elif a == "-v":
            verbose = True
        elif _isdir(a):  # another folder of tests
            a = a.rstrip("/")
            _SUITE[0] = a
            _SUITE[1] = a[a.rfind("/") + 1 :]
            sys.path.insert(0, a)
        else:
            if a.endswith(".py"):
                a = a[:-3]
            names.append(a[a.rfind("/") + 1 :])
        i += 1
    return names or None, pattern, verbose


async def _run(names, pattern, verbose, can_await, counts, failures):
    # A coroutine so that the wasm port can await async tests; under CPython and the unix
    # port it is driven by send() and never suspends (async tests go through asyncio.run).
    for mod_name in names:
        try:
            mod = __import__(mod_name)
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # noqa: B036 - a broken module is one failure, not the end
            print("FAIL %s (import)" % mod_name)
            _print_exc(e)
            counts[1] += 1
            failures.append(mod_name + " (import)")
            continue
        tests = []
        for attr in dir(mod):
            if attr.startswith("test_") and (pattern is None or pattern in attr):
                fn = getattr(mod, attr)
                if callable(fn):
                    tests.append(attr)
        tests.sort()
        ok = 0
        for attr in tests:
            label = mod_name + "." + attr
            try:
                r = getattr(mod, attr)()
                if r is not None and hasattr(r, "send"):  # async def (or a generator)
                    if can_await:
                        await r
                    else:
                        import asyncio

                        asyncio.run(r)
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # noqa: B036 - SystemExit in a test is a failure too
                print("FAIL %s" % label)
                _print_exc(e)
                counts[1] += 1
                failures.append(label)
            else:
                ok += 1
                counts[0] += 1
                if verbose:
                    print("ok   %s" % label)
        print("  %-28s %d ok, %d failing" % (mod_name, ok, len(tests) - ok))
        del mod
        try:
            import gc

            gc.collect()
        except ImportError:
            pass


def _start(names):
    argn, pattern, verbose = _parse_args(sys.argv[1:])
    if names is None:
        names = argn
    if names is None:
        names = _discover()
    return names, pattern, verbose


def _finish(names, counts, failures):
    passed, failed = counts
    if failures:
        print("failed:")
        for f in failures:
            print("  " + f)
    if passed + failed == 0:
        print("no tests found in %s (modules: %s)" % (_SUITE[0], ", ".join(names) or "none"))
    print("%s (%s): %d passed, %d failed" % (_SUITE[1], TAG, passed, failed))
    if failed or passed == 0:
        sys.exit(1)


def main(names=None):
    """Run the tests synchronously (CPython, unix port); async tests via asyncio.run."""
    names, pattern, verbose = _start(names)
    counts = [0, 0]
    failures = []
    c = _run(names, pattern, verbose, False, counts, failures)
    try:
        c.send(None)
    except StopIteration:
        pass
    else:
        raise RuntimeError("runner suspended in synchronous mode")
    _finish(names, counts, failures)


async def amain(names=None):
    """Run the tests on a running event loop (wasm port: `await run.amain()`)."""
    names, pattern, verbose = _start(names)
    counts = [0, 0]
    failures = []
    await _run(names, pattern, verbose, True, counts, failures)
    _finish(names, counts, failures)


if __name__ == "__main__":
    main()
