"""`twcm import-twcmanager`: write a twcm.toml from TWCManager's config.json (and
settings.json), listing what cannot be carried over (docs/import-twcmanager.md)."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from twc.contract import SITE_RULE, site_ok


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-twcmanager", help="write a twcm.toml from TWCManager's config.json",
        description="Write an equivalent twcm.toml from TWCManager's config.json and, if "
                    "given, its settings.json (schedule, non-scheduled action, offsets). "
                    "What cannot be carried over is listed on stderr and at the top of the "
                    "file; passwords and tokens go into environment variables it names.")
    p.add_argument("config", type=Path, help="TWCManager's config.json")
    p.add_argument("settings", type=Path, nargs="?",
                   help="TWCManager's settings.json (in its config.settingsPath)")
    p.add_argument("-o", "--output", default="twcm.toml", metavar="FILE",
                   help="where to write it (default twcm.toml; - for stdout)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--site", default="home",
                   help="the site's name, as in the device's config (default home)")
    p.add_argument("--timezone", metavar="ZONE",
                   help='IANA time zone of the schedule, e.g. "Europe/Amsterdam" (default: '
                        "this computer's, as TWCManager used)")
    p.set_defaults(run=run)


@contextmanager
def _placeholders(names: list[str]) -> Iterator[None]:
    """The named environment variables set (to a placeholder where unset) meanwhile: the
    check of the written file must not fail only because the user has not exported the
    secrets yet."""
    saved = {n: os.environ.get(n) for n in names}
    try:
        for n in names:
            os.environ.setdefault(n, "placeholder")
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)


def _check(text: str, secrets: list[str]) -> list[str]:
    """Problems `twcm run`'s loader finds in `text` (none: it loads)."""
    from twcm.service.config import ConfigError
    from twcm.service.config_load import load

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "twcm.toml"
        path.write_text(text, encoding="utf-8")
        with _placeholders(secrets):
            try:
                load(path)
            except ConfigError as e:
                return e.lines
    return []


def run(args: argparse.Namespace) -> int:
    from twcm.twcmanager_import import InputError, convert

    err = sys.stderr
    if not site_ok(args.site):
        print(f"twcm import-twcmanager: --site {args.site!r}: give {SITE_RULE}", file=err)
        return 2
    if args.timezone:
        try:
            ZoneInfo(args.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            print(f"twcm import-twcmanager: --timezone {args.timezone!r}: no such time zone "
                  '(fix: give an IANA name such as "Europe/Amsterdam")', file=err)
            return 2
    out = None if args.output == "-" else Path(args.output)
    if out is not None and out.exists() and not args.force:
        print(f"twcm import-twcmanager: {out} exists: not overwritten (fix: --force, or "
              "another -o FILE)", file=err)
        return 2
    try:
        imported = convert(args.config, args.settings, args.site, args.timezone)
    except InputError as e:
        print(f"twcm import-twcmanager: {e}", file=err)
        return 2
    problems = _check(imported.text, list(imported.report.secrets))
    if problems:  # a mapping bug: never write a file `twcm run` refuses
        print("twcm import-twcmanager: the result does not load, please report this:",
              *problems, sep="\n", file=err)
        return 1
    for line in imported.report.lines():
        print(line, file=err)
    if out is None:
        sys.stdout.write(imported.text)
    else:
        try:
            out.write_text(imported.text, encoding="utf-8")
        except OSError as e:
            print(f"twcm import-twcmanager: cannot write {out}: {e.strerror or e}", file=err)
            return 2
        print(f"wrote {out}; check it with: twcm run --config {out} --check", file=err)
    return 0
