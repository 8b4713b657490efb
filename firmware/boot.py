# Runs before main.py on every boot. Room for tracebacks raised where no
# memory can be had, and no vendor debug output mixed into the console.
import micropython

micropython.alloc_emergency_exception_buf(100)
try:
    import esp
    esp.osdebug(None)
except ImportError:  # not an ESP32
    pass
