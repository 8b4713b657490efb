"""pytest setup shared by all test folders.

tests/core/ holds the MicroPython-compatible core tests: plain `def test_xxx():` with `assert`.
The same files run on the MicroPython unix and wasm ports through tests/core/run.py (see
tools/test). Here they import `twc` from firmware/ (it is also pip-installed in .venv) and
`support` from tests/core/.
"""

import asyncio
import inspect
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_CORE = os.path.join(_HERE, "core")
for _p in (os.path.join(os.path.dirname(_HERE), "firmware"), _CORE):
    if _p not in sys.path:
        sys.path.insert(0, _p)


def pytest_pyfunc_call(pyfuncitem):
    # `async def test_xxx():` in tests/core/ is awaited by run.py on MicroPython; run it here
    # the same way without needing a pytest plugin. Other folders are left to their own plugins.
    fn = pyfuncitem.obj
    if not inspect.iscoroutinefunction(fn):
        return None
    if os.path.dirname(str(pyfuncitem.path)) != _CORE:
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(fn(**{n: pyfuncitem.funcargs[n] for n in names}))
    return True
