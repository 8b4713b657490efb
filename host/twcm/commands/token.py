"""`twcm token`: the REST API's tokens (docs/api.md#tokens): add, list and revoke them in
the token file of a `twcm run` config (or a given file). A running service sees the
change at once."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

USAGE = """\
The REST API of `twcm run` wants a token in each request's header:
    Authorization: Bearer <token>
An admin token may change things (Charge Now, settings); a read-only one may only look.
The first start of `twcm run` makes an admin token named "admin" and shows it in its log.

    twcm token add NAME [--read-only]   make a token (its secret is shown this once)
    twcm token list                     the tokens: name, kind, created
    twcm token revoke NAME              remove one (a lost token: revoke it, add another)

Each takes --config FILE (default ./twcm.toml: the token file is its [api] tokens, by
default api-tokens.json beside its [database] sqlite) or --file PATH.
Try: curl -H "Authorization: Bearer <token>" http://127.0.0.1:8080/api/status"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("token", help="add, list and revoke the REST API's tokens",
                       description="Add, list and revoke the tokens of the REST API of "
                                   "`twcm run` (docs/api.md).",
                       epilog=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = argparse.ArgumentParser(add_help=False)
    place = where.add_mutually_exclusive_group()
    place.add_argument("--config", type=Path, default=Path("twcm.toml"), metavar="FILE",
                       help="the `twcm run` config whose token file to use (default "
                            "./twcm.toml)")
    place.add_argument("--file", type=Path, metavar="PATH",
                       help="the token file itself, without a config")
    what = p.add_subparsers(dest="action", metavar="ACTION")
    add = what.add_parser("add", parents=[where], help="make a token and show it once")
    add.add_argument("name", help="1-32 letters, digits, - or _ (e.g. phone, grafana)")
    add.add_argument("--read-only", action="store_true",
                     help="may only read (status, settings, history), never change")
    what.add_parser("list", parents=[where], help="the tokens (never their secrets)")
    revoke = what.add_parser("revoke", parents=[where], help="remove a token")
    revoke.add_argument("name")
    p.set_defaults(run=run, action=None)


def token_file(args: argparse.Namespace) -> Path:
    """The token file: --file, or the [api] of --config; SystemExit(2) with the config's
    problems."""
    if getattr(args, "file", None) is not None:
        return args.file
    from twcm.service.config import ConfigError
    from twcm.service.config_load import load_api
    try:
        api, database = load_api(args.config)
    except ConfigError as e:
        for line in e.lines:
            print(line, file=sys.stderr)
        print("twcm token: error: give --config FILE (your `twcm run` config) or --file "
              "PATH", file=sys.stderr)
        raise SystemExit(2) from None
    return api.tokens_path(database)

def run(args: argparse.Namespace) -> int:
    from twcm.service.control.tokens import TokenFile
    if args.action is None:
        print(USAGE)
        return 0
    tokens = TokenFile(token_file(args))
    try:
        if args.action == "add":
            kind = "read_only" if args.read_only else "admin"
            secret = tokens.add(args.name, kind)
            print(f"{secret}\n\n{kind} token {args.name!r} added to {tokens.path}. It is "
                  "shown only now: keep it safe. Use it as the header\n"
                  f"    Authorization: Bearer {secret}")
        elif args.action == "list":
            rows = tokens.tokens()
            if not rows:
                print(f"no tokens in {tokens.path} (`twcm token add NAME` makes one)")
            for t in rows:
                created = datetime.fromtimestamp(t.created).isoformat(" ", "seconds")
                print(f"{t.name:<32} {t.kind:<9} created {created}")
        else:
            tokens.revoke(args.name)
            print(f"token {args.name!r} revoked: it no longer works")
    except (ValueError, KeyError, OSError) as e:
        why = e.args[0] if isinstance(e, KeyError) else e
        print(f"twcm token: error: {why}", file=sys.stderr)
        return 1
    return 0
