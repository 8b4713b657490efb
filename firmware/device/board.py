# Board descriptions: the pins an ESP32 board uses for the RS-485 bus, its network
# hardware and its LED, one JSON file per board in boards/ (the schema is in
# boards/README.md). The device config names the board ("board": "<name>"); on the device
# its file is /boards/<name>.json (twcm flash puts it there).
#
#     b, errors = load("esp32-devkitc-max3485")        # boards/<name>.json
#     b, errors = load_file("/path/to/my-board.json")   # a board file anywhere
#     b, errors = validate(obj)                        # a parsed JSON object
#
# errors is a list of strings, each naming the field and the fix; b is None unless errors is
# empty. A valid board comes back with every optional field filled in:
#
#     {"name": str, "mcu": "esp32" | "unix", "notes": str,
#      "uart": {"id": 1 | 2, "tx": int, "rx": int, "de": int | None,
#               "hold": [{"pin": int, "value": 0 | 1}, ...]}     # esp32
#            | {"path": str | None},                              # unix (the sim board)
#      "net": {"kind": "wifi"} | {"kind": "host"}
#           | {"kind": "lan", "phy_type": str, "phy_addr": int, "mdc": int, "mdio": int,
#              "power": int | None, "ref_clk": int, "ref_clk_mode": "out" | "in"},
#      "led": {"pin": int, "kind": "gpio" | "ws2812"} | None}
#
# device/rs485.py opens the bus from it. Runs on the ESP32, the unix port and CPython
# (twcm flash checks the board before flashing).
import json

MCUS = ("esp32", "unix")
NET_KINDS = {"esp32": ("wifi", "lan"), "unix": ("host",)}
LED_KINDS = ("gpio", "ws2812")
# RMII PHYs that MicroPython's esp32 network.LAN knows as network.PHY_<name>.
PHY_TYPES = ("LAN8710", "LAN8720", "IP101", "RTL8201", "DP83848", "KSZ8041", "KSZ8081")

# ESP32 (the original chip) GPIOs. 6-11 drive the flash; 34-39 are inputs without pulls.
OUTPUT_PINS = (0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 25, 26, 27,
               32, 33)
INPUT_ONLY_PINS = (34, 35, 36, 37, 38, 39)
CONSOLE_PINS = (1, 3)  # UART0: the USB console that mpremote talks to
RMII_PINS = (19, 21, 22, 25, 26, 27)  # fixed by the ESP32's Ethernet MAC
REF_CLK_PINS = (0, 16, 17)  # where the ESP32 can take or give the 50 MHz RMII clock


def load(name, root="boards"):
    """(board, errors) from <root>/<name>.json."""
    return load_file(root + "/" + name + ".json")


def load_file(path):
    """(board, errors) from a board file; its name must be the file name without .json."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None, [path + ": not found; board files live in boards/ (see boards/README.md)"]
    try:
        obj = json.loads(text)
    except ValueError as e:
        return None, [path + ": not valid JSON (" + str(e) + ")"]
    board, errors = validate(obj)
    stem = path[path.rfind("/") + 1:]
    if stem.endswith(".json"):
        stem = stem[:-5]
    if board is not None and board["name"] != stem:
        board = None
        errors.append("name: is %r but the file is %s.json; make them the same" %
                      (obj["name"], stem))
    return board, [path + ": " + e for e in errors]


def validate(obj):
    """(board, errors) from a parsed board file."""
    if not isinstance(obj, dict):
        return None, ["the board file must be a JSON object (see boards/README.md)"]
    errors = []
    _unknown(obj, "", ("name", "mcu", "uart", "net", "led", "notes"), errors)
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        errors.append("name: missing; give the board's name, its file name without .json")
    notes = obj.get("notes")
    if not isinstance(notes, str) or not notes.strip():
        errors.append("notes: missing; say how the transceiver is wired and where the pin "
                      "numbers come from")
    mcu = obj.get("mcu")
    if mcu not in MCUS:
        errors.append('mcu: must be "esp32" (a board to flash) or "unix" (the sim board)')
        return None, errors
    used = {}  # GPIO -> the field that took it
    board = {
        "name": name,
        "mcu": mcu,
        "notes": notes,
        "net": _net(obj.get("net"), mcu, used, errors),  # first: it reserves the RMII pins
        "uart": _uart(obj.get("uart"), mcu, used, errors),
        "led": _led(obj.get("led"), mcu, used, errors),
    }
    if errors:
        return None, errors
    return board, errors


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _unknown(obj, prefix, known, errors):
    for k in obj:
        if k not in known:
            errors.append("%s%s: unknown field; the fields are %s" %
                          (prefix, k, ", ".join(known)))


def _pin(v, field, what, output, used, errors):
    """Check one GPIO number; what says what it is wired to (for the fix)."""
    if v is None:
        errors.append("%s: missing; give the GPIO number wired to %s" % (field, what))
        return None
    if not _is_int(v) or (v not in OUTPUT_PINS and v not in INPUT_ONLY_PINS):
        errors.append("%s: %r is not a usable ESP32 GPIO; give 0-5, 12-19, 21-23, 25-27 or "
                      "32-39 (6-11 drive the flash)" % (field, v))
        return None
    if output and v in INPUT_ONLY_PINS:
        errors.append("%s: GPIO %d is input-only; wire %s to an output-capable GPIO "
                      "(0-33)" % (field, v, what))
    elif v in CONSOLE_PINS:
        errors.append("%s: GPIO %d carries the USB console (UART0); use another GPIO" %
                      (field, v))
    elif v in used:
        errors.append("%s: GPIO %d is already taken by %s; use another GPIO" %
                      (field, v, used[v]))
    else:
        used[v] = field
    return v


def _uart(u, mcu, used, errors):
    if mcu == "unix":
        if not isinstance(u, dict):
            errors.append('uart: missing; give {"path": null} (then TWCM_BUS names the '
                          'serial device) or {"path": "/dev/pts/3"}')
            return None
        _unknown(u, "uart.", ("path",), errors)
        path = u.get("path")
        if path is not None and (not isinstance(path, str) or not path):
            errors.append("uart.path: must be a serial device path such as /dev/pts/3, or "
                          "null (then TWCM_BUS names it)")
        return {"path": path}
    if not isinstance(u, dict):
        errors.append('uart: missing; give e.g. {"id": 2, "tx": 17, "rx": 16, "de": 4}')
        return None
    _unknown(u, "uart.", ("id", "tx", "rx", "de", "hold"), errors)
    uid = u.get("id")
    if not _is_int(uid) or uid not in (1, 2):
        errors.append("uart.id: must be 1 or 2 (UART0 is the USB console)")
    hold = []
    h = u.get("hold", [])
    if not isinstance(h, list):
        errors.append('uart.hold: must be a list such as [{"pin": 16, "value": 1}], or []')
        h = []
    for i in range(len(h)):
        field = "uart.hold[%d]" % i
        e = h[i]
        if not isinstance(e, dict):
            errors.append('%s: must be {"pin": <GPIO>, "value": 0 or 1}' % field)
            continue
        _unknown(e, field + ".", ("pin", "value"), errors)
        pin = _pin(e.get("pin"), field + ".pin", "the line to hold", True, used, errors)
        value = e.get("value")
        if value not in (0, 1) or not _is_int(value):
            errors.append("%s.value: must be 0 or 1, the level to hold the pin at" % field)
        hold.append({"pin": pin, "value": value})
    tx = _pin(u.get("tx"), "uart.tx", "the transceiver's DI (driver input)", True, used, errors)
    rx = _pin(u.get("rx"), "uart.rx", "the transceiver's RO (receiver output)", False, used,
              errors)
    if "de" not in u:
        errors.append("uart.de: missing; give the GPIO wired to DE and /RE (tied together), "
                      "or null for an auto-direction transceiver")
        de = None
    elif u["de"] is None:
        de = None
    else:
        de = _pin(u["de"], "uart.de", "DE and /RE", True, used, errors)
    return {"id": uid, "tx": tx, "rx": rx, "de": de, "hold": hold}


def _net(n, mcu, used, errors):
    kinds = NET_KINDS[mcu]
    if not isinstance(n, dict) or n.get("kind") not in kinds:
        errors.append("net.kind: must be %s on %s" %
                      (" or ".join(['"%s"' % k for k in kinds]),
                       "an ESP32 board" if mcu == "esp32" else "the unix port"))
        return None
    kind = n["kind"]
    if kind != "lan":
        _unknown(n, "net.", ("kind",), errors)
        return {"kind": kind}
    _unknown(n, "net.", ("kind", "phy_type", "phy_addr", "mdc", "mdio", "power", "ref_clk",
                         "ref_clk_mode"), errors)
    for p in RMII_PINS:
        used[p] = "the Ethernet PHY (RMII)"
    phy_type = n.get("phy_type")
    if phy_type not in PHY_TYPES:
        errors.append("net.phy_type: must be one of %s (the PHY chip on the board)" %
                      ", ".join(PHY_TYPES))
    phy_addr = n.get("phy_addr")
    if not _is_int(phy_addr) or phy_addr not in range(32):
        errors.append("net.phy_addr: must be the PHY's address, 0-31 (see the board's "
                      "documentation)")
    mode = n.get("ref_clk_mode")
    if mode not in ("out", "in"):
        errors.append('net.ref_clk_mode: must be "out" (the ESP32 drives the 50 MHz clock) '
                      'or "in" (the PHY or an oscillator does)')
    ref_clk = n.get("ref_clk")
    if ref_clk not in REF_CLK_PINS or not _is_int(ref_clk):
        errors.append("net.ref_clk: must be 0, 16 or 17, the GPIO of the 50 MHz RMII clock")
    elif mode == "in" and ref_clk != 0:
        errors.append("net.ref_clk: an incoming clock can only enter on GPIO 0")
    else:
        used[ref_clk] = "net.ref_clk"
    mdc = _pin(n.get("mdc"), "net.mdc", "the PHY's MDC", True, used, errors)
    mdio = _pin(n.get("mdio"), "net.mdio", "the PHY's MDIO", True, used, errors)
    power = n.get("power")
    if power is not None:
        power = _pin(power, "net.power", "the PHY's power enable", True, used, errors)
    return {"kind": "lan", "phy_type": phy_type, "phy_addr": phy_addr, "mdc": mdc,
            "mdio": mdio, "power": power, "ref_clk": ref_clk, "ref_clk_mode": mode}


def _led(led, mcu, used, errors):
    if led is None:
        return None
    if mcu == "unix":
        errors.append("led: must be null on the unix port")
        return None
    if not isinstance(led, dict):
        errors.append('led: must be {"pin": <GPIO>, "kind": "gpio" or "ws2812"}, or null')
        return None
    _unknown(led, "led.", ("pin", "kind"), errors)
    kind = led.get("kind")
    if kind not in LED_KINDS:
        errors.append('led.kind: must be "gpio" (a plain LED, lit when high) or "ws2812" '
                      '(an addressable RGB LED)')
    pin = _pin(led.get("pin"), "led.pin", "the LED", True, used, errors)
    return {"pin": pin, "kind": kind}
