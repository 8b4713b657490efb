"""Who may import whom: the two host programs meet only over MQTT, the firmware never needs
the host, and no two modules import each other.

`violations(host, firmware)` reads every module's imports with `ast` (at module level, in
functions, under TYPE_CHECKING alike: an import that only a type checker sees still ties
the code together) and names, for each broken rule, the file, the line and the rule.
"""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (importer's package, imported package, why not): each matches the package and anything in it.
FORBIDDEN = (
    ("twcm.master", "twcm.service", "`twcm master` must not import `twcm run`: they meet "
                                    "only over MQTT (share code through twc/ or twcm.mqtt)"),
    ("twcm.sim", "twcm.service", "the simulator must not import `twcm run`"),
    ("twcm.service", "twcm.master", "`twcm run` must not import `twcm master`: they meet "
                                    "only over MQTT (share code through twc/ or twcm.mqtt)"),
)
FIRMWARE_RULE = "the firmware must not import the host package twcm (it runs on an ESP32)"
CYCLE_RULE = "two modules must not import each other"


@dataclass(frozen=True)
class Import:
    module: str  # the importer, dotted
    path: Path
    line: int
    target: str  # the module imported, dotted and absolute


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under root (root is on sys.path)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and "__pycache__" not in parts:
            found[".".join(parts)] = path
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _imports(module: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """Every import in the file, resolved to the module it loads ("from a import b" is the
    module a.b when there is one, else a)."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(module, path, node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                up = here[:len(here) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            for a in node.names:
                sub = f"{base}.{a.name}" if base else a.name
                found.append(Import(module, path, node.lineno, sub if sub in known else base))
    return found


def violations(host: Path, firmware: Path) -> list[str]:
    """One line per broken rule: "file:line: what imports what: the rule"."""
    host_modules, firmware_modules = _modules(host), _modules(firmware)
    known = {**host_modules, **firmware_modules}
    imports = [i for name, path in sorted(known.items()) for i in _imports(name, path, known)]

    base = Path(os.path.commonpath([host, firmware]))

    def at(i: Import) -> str:
        return f"{i.path.relative_to(base)}:{i.line}"

    problems = []
    for i in imports:
        for importer, imported, why in FORBIDDEN:
            if _within(i.module, importer) and _within(i.target, imported):
                problems.append(f"{at(i)}: {i.module} imports {i.target}: {why}")
        if i.module in firmware_modules and _within(i.target, "twcm"):
            problems.append(f"{at(i)}: {i.module} imports {i.target}: {FIRMWARE_RULE}")
    first: dict[tuple[str, str], Import] = {}
    for i in imports:
        first.setdefault((i.module, i.target), i)
    for (a, b), i in sorted(first.items()):
        back = first.get((b, a))
        if a < b and back is not None:
            problems.append(f"{at(i)}: {a} imports {b}, and {at(back)}: {b} imports {a}: "
                            f"{CYCLE_RULE}")
    return problems


def test_the_real_tree_keeps_the_rules():
    problems = violations(ROOT / "host", ROOT / "firmware")
    assert not problems, "\n".join(problems)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_each_rule_fires_on_a_fabricated_tree(tmp_path):
    host, firmware = tmp_path / "host", tmp_path / "firmware"
    _write(host, {
        "twcm/__init__.py": "",
        "twcm/mqtt.py": "import twc.contract\n",  # allowed: the host uses the core
        "twcm/master/__init__.py": "",
        "twcm/master/link.py": "from typing import TYPE_CHECKING\n"
                               "if TYPE_CHECKING:\n"
                               "    from twcm.service.site import SiteLoop\n",
        "twcm/sim/__init__.py": "",
        "twcm/sim/bus.py": "def f():\n    from twcm import service\n",
        "twcm/service/__init__.py": "",
        "twcm/service/site.py": "from twcm.mqtt import x\n"
                                "from .store import Store\n",
        "twcm/service/store.py": "import json\n"
                                 "from twcm.service import site\n"
                                 "def g():\n    import twcm.master.link\n",
    })
    _write(firmware, {
        "twc/__init__.py": "",
        "twc/contract.py": "from twc import leases\n",
        "twc/leases.py": "def h():\n    from . import contract\n",
        "device/__init__.py": "",
        "device/app.py": "import twc.contract\n\n\nimport twcm.mqtt\n",
    })
    found = violations(host, firmware)
    expected = [
        ("twcm/master/link.py:3: twcm.master.link imports twcm.service.site:",
         "`twcm master` must not"),
        ("twcm/sim/bus.py:2: twcm.sim.bus imports twcm.service:", "the simulator must not"),
        ("twcm/service/store.py:4: twcm.service.store imports twcm.master.link:",
         "`twcm run` must not import `twcm master`"),
        ("device/app.py:4: device.app imports twcm.mqtt:", FIRMWARE_RULE),
        ("twc/contract.py:1: twc.contract imports twc.leases, and", "twc/leases.py:2: "
         "twc.leases imports twc.contract: " + CYCLE_RULE),
        ("twcm/service/site.py:2: twcm.service.site imports twcm.service.store, and",
         "twcm/service/store.py:2: twcm.service.store imports twcm.service.site: " + CYCLE_RULE),
    ]
    for head, rule in expected:
        hits = [p for p in found if head in p and rule in p]
        assert len(hits) == 1, (head, found)
    assert len(found) == len(expected), found
