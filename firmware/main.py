# twcm firmware entry: run the device (device/app.py). If it ever stops on
# an error, print it and restart the board, so that it keeps the slaves
# heartbeated; the watchdog does the same if the bus thread stalls.
import sys

from device import app

try:
    app.main()
except Exception as e:
    sys.print_exception(e)
    try:
        from machine import reset
    except ImportError:  # the unix port: let the caller see the failure
        raise SystemExit(1)
    reset()
