"""Board files (boards/*.json) and their checks (device/board.py), on the MicroPython unix port."""
import os

from device import board

_here = __file__[: __file__.rfind("/")] if "/" in __file__ else "."
BOARDS = _here + "/../../boards"


def _devkitc():
    return {
        "name": "t", "mcu": "esp32", "notes": "test",
        "uart": {"id": 2, "tx": 17, "rx": 16, "de": 4},
        "net": {"kind": "wifi"},
    }


def _poe():
    b = _devkitc()
    b["uart"] = {"id": 2, "tx": 4, "rx": 36, "de": 14}
    b["net"] = {"kind": "lan", "phy_type": "LAN8720", "phy_addr": 0, "mdc": 23, "mdio": 18,
                "power": 12, "ref_clk": 17, "ref_clk_mode": "out"}
    return b


def _errors(obj):
    b, errors = board.validate(obj)
    assert b is None and errors, (b, errors)
    return errors


def _has(errors, *parts):
    for e in errors:
        if all(p in e for p in parts):
            return True
    assert False, "no error with %r in %r" % (parts, errors)


def test_every_board_file_is_valid():
    names = [f[:-5] for f in os.listdir(BOARDS) if f.endswith(".json")]
    assert len(names) >= 5, names
    for name in names:
        b, errors = board.load(name, BOARDS)
        assert errors == [], errors
        assert b["name"] == name
        assert len(b["notes"]) > 40, name


def test_the_shipped_pin_maps():
    b = board.load("esp32-devkitc-max3485", BOARDS)[0]
    assert b["uart"] == {"id": 2, "tx": 17, "rx": 16, "de": 4, "hold": []}
    b = board.load("lilygo-t-can485", BOARDS)[0]
    assert (b["uart"]["tx"], b["uart"]["rx"], b["uart"]["de"]) == (22, 21, None)
    assert b["uart"]["hold"] == [{"pin": 16, "value": 1}, {"pin": 19, "value": 1},
                                 {"pin": 17, "value": 1}]
    b = board.load("olimex-esp32-poe-iso", BOARDS)[0]
    assert b["net"]["kind"] == "lan" and b["net"]["ref_clk"] == 17
    assert (b["net"]["mdc"], b["net"]["mdio"], b["net"]["power"]) == (23, 18, 12)
    b = board.load("m5stack-atom-lite-rs485", BOARDS)[0]
    assert (b["uart"]["tx"], b["uart"]["rx"], b["uart"]["de"]) == (19, 22, None)
    b = board.load("sim", BOARDS)[0]
    assert b["uart"] == {"path": None} and b["net"] == {"kind": "host"} and b["led"] is None


def test_optional_fields_are_filled_in():
    b, errors = board.validate(_devkitc())
    assert errors == []
    assert b["uart"]["hold"] == [] and b["led"] is None


def test_pin_errors_name_the_field_and_the_fix():
    b = _devkitc()
    del b["uart"]["tx"]
    _has(_errors(b), "uart.tx: missing", "DI")
    b = _devkitc()
    b["uart"]["tx"] = 34
    _has(_errors(b), "uart.tx: GPIO 34 is input-only", "output-capable")
    b = _devkitc()
    b["uart"]["rx"] = 7
    _has(_errors(b), "uart.rx: 7 is not a usable ESP32 GPIO", "flash")
    b = _devkitc()
    b["uart"]["de"] = 17
    _has(_errors(b), "uart.de: GPIO 17 is already taken by uart.tx")
    b = _devkitc()
    b["uart"]["tx"] = 1
    _has(_errors(b), "uart.tx: GPIO 1 carries the USB console")
    b = _devkitc()
    del b["uart"]["de"]
    _has(_errors(b), "uart.de: missing", "null for an auto-direction")
    b = _devkitc()
    b["uart"]["id"] = 0
    _has(_errors(b), "uart.id: must be 1 or 2")
    b = _devkitc()
    b["uart"]["hold"] = [{"pin": 16, "value": 2}]
    errors = _errors(b)
    _has(errors, "uart.hold[0].value: must be 0 or 1")
    _has(errors, "uart.rx: GPIO 16 is already taken by uart.hold[0].pin")


def test_ethernet_pins_are_reserved():
    b = _poe()
    assert board.validate(b)[1] == []
    b["uart"]["tx"] = 22
    _has(_errors(b), "uart.tx: GPIO 22 is already taken by the Ethernet PHY (RMII)")
    b = _poe()
    b["uart"]["de"] = 17
    _has(_errors(b), "uart.de: GPIO 17 is already taken by net.ref_clk")
    b = _poe()
    b["net"]["ref_clk_mode"] = "in"
    _has(_errors(b), "net.ref_clk: an incoming clock can only enter on GPIO 0")
    b = _poe()
    b["net"]["phy_type"] = "LAN9999"
    _has(_errors(b), "net.phy_type: must be one of", "LAN8720")


def test_other_errors():
    _has(board.validate([])[1], "must be a JSON object")
    b = _devkitc()
    b["uart"]["De"] = 4
    _has(_errors(b), "uart.De: unknown field")
    b = _devkitc()
    b["mcu"] = "esp8266"
    _has(_errors(b), 'mcu: must be "esp32"')
    b = _devkitc()
    b["notes"] = " "
    _has(_errors(b), "notes: missing")
    b = _devkitc()
    b["net"] = {"kind": "host"}
    _has(_errors(b), 'net.kind: must be "wifi" or "lan" on an ESP32 board')
    sim = {"name": "s", "mcu": "unix", "notes": "n", "uart": {"path": None},
           "net": {"kind": "host"}}
    assert board.validate(sim)[1] == []
    sim["led"] = {"pin": 2, "kind": "gpio"}
    _has(_errors(sim), "led: must be null on the unix port")
    sim["led"] = None
    sim["uart"] = {"path": None, "tx": 17}
    _has(_errors(sim), "uart.tx: unknown field")


def test_load_file_errors():
    _has(board.load("no-such-board", BOARDS)[1], "no-such-board.json: not found")
    path = "/tmp/twcm-test-board-%d.json" % (os.urandom(1)[0])
    try:
        with open(path, "w") as f:
            f.write("{")
        _has(board.load_file(path)[1], path + ": not valid JSON")
        with open(path, "w") as f:
            f.write('{"name": "other", "mcu": "unix", "notes": "n", "uart": {"path": null},'
                    ' "net": {"kind": "host"}}')
        b, errors = board.load_file(path)
        assert b is None
        _has(errors, path + ": name: is 'other' but the file is twcm-test-board-")
    finally:
        os.remove(path)
