"""`twcm charge`: Charge Now and the status of a running `twcm run`, through its REST API
(docs/api.md).

It needs a token: --token, or $TWCM_TOKEN, or --config FILE on the service's machine (the
API's address from its [api]; a one-off admin token added to its token file for this
call and revoked after it, so whoever may write that file may use it)."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

API = "http://127.0.0.1:8080"
NO_TOKEN = ("no token: give --token, set TWCM_TOKEN, or on the service's machine --config "
            "FILE (its twcm.toml); `twcm token add NAME` makes a token")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "charge", help="Charge Now, or show what a running `twcm run` does",
        description="Start or end Charge Now on a site of a running `twcm run`, or show its "
                    "status (the limit, the reason, the meters and the device).")
    p.add_argument("--site", help="the site (default: the only one, else required)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--amps", type=int, metavar="A",
                      help="charge at A amps (the site total) now, for --minutes")
    what.add_argument("--cancel", action="store_true", help="end Charge Now")
    p.add_argument("--minutes", type=int, default=60, metavar="M",
                   help="how long Charge Now lasts (default 60)")
    p.add_argument("--api", metavar="URL",
                   help=f"the service's REST API (default: [api] of --config, else {API})")
    p.add_argument("--token", metavar="TOKEN",
                   help="an admin token (read_only for the status); default $TWCM_TOKEN")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="the service's twcm.toml, on its machine: its [api] address, and a "
                        "one-off token from its token file")
    p.set_defaults(run=run)


@contextlib.contextmanager
def access(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """(API URL, token) from the arguments; RuntimeError if there is no token."""
    token = args.token or os.environ.get("TWCM_TOKEN")
    if args.config is None:
        if not token:
            raise RuntimeError(NO_TOKEN)
        yield args.api or API, token
        return
    from twcm.service.config import ConfigError
    from twcm.service.config_load import load_api
    from twcm.service.control.tokens import TokenFile
    try:
        a, database = load_api(args.config)
    except ConfigError as e:
        raise RuntimeError("\n".join(e.lines)) from None
    host = "127.0.0.1" if a.host in ("0.0.0.0", "::", "") else a.host
    host = f"[{host}]" if ":" in host else host
    url = args.api or f"{'https' if a.tls_cert else 'http'}://{host}:{a.port}"
    if token:
        yield url, token
        return
    tokens = TokenFile(a.tokens_path(database))
    name = f"twcm-charge-{secrets.token_hex(4)}"
    try:
        token = tokens.add(name, "admin")
    except (OSError, ValueError) as e:
        raise RuntimeError(f"cannot add a token to {tokens.path}: {e} ({NO_TOKEN})") from None
    try:
        yield url, token
    finally:
        with contextlib.suppress(KeyError, OSError, ValueError):
            tokens.revoke(name)


def call(api: str, method: str, path: str, body: Any = None, token: str = "") -> Any:
    """The answer's JSON; RuntimeError with the service's reason or the connection's."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(api.rstrip("/") + path, data=data, method=method,
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        try:
            reason = json.loads(e.read()).get("error", e.reason)
        except ValueError:
            reason = e.reason
        raise RuntimeError(str(reason)) from None
    except (urllib.error.URLError, OSError) as e:
        why = getattr(e, "reason", e)
        raise RuntimeError(f"cannot reach {api} ({why}): is `twcm run` running, with its "
                           "[api] on that address?") from None


def show(status: dict[str, Any]) -> str:
    d = status.get("decision") or {}
    lines = [f"site {status['site']}: lease "
             + ("none (the device is on its own)" if status.get("lease_amps") is None
                else f"{status['lease_amps']} A") + f": {d.get('reason', 'no decision yet')}"]
    now = status.get("charge_now")
    if now:
        lines.append(f"  Charge Now {now['amps']} A until {now['until']}")
    r = status.get("readings") or {}
    lines.append("  meters: " + (", ".join(f"{k} {v:g}" for k, v in r.items()
                                           if k != "at" and isinstance(v, (int, float)))
                                 or "unknown"))
    for s in status.get("sources", []):
        lines.append(f"  source {s['name']} ({s['type']}): "
                     + ("ok" if s["ok"] else f"not used: {s['stale']}"))
    dev = status.get("device") or {}
    lines.append(f"  device: {dev.get('health', 'unknown')}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        with access(args) as (api, token):
            status = _do(args, api, token)
    except RuntimeError as e:
        print(f"twcm charge: error: {e}", file=sys.stderr)
        return 1
    if status is None:
        return 2
    print(show(status))
    return 0


def _do(args: argparse.Namespace, api: str, token: str) -> dict[str, Any] | None:
    """The site's status after what was asked; None (after saying why) without a site."""
    site = args.site
    if site is None:
        sites = [s["site"] for s in call(api, "GET", "/api/status", token=token)["sites"]]
        if len(sites) != 1:
            print(f"twcm charge: error: give --site: the sites are {', '.join(sites)}",
                  file=sys.stderr)
            return None
        site = sites[0]
    path = f"/api/sites/{site}"
    if args.amps is not None:
        return call(api, "POST", path + "/charge_now",
                    {"amps": args.amps, "minutes": args.minutes}, token)
    if args.cancel:
        return call(api, "DELETE", path + "/charge_now", token=token)
    return call(api, "GET", path, token=token)
