"""`twcm charge`: Charge Now and the status of a running `twcm run`, through its REST API
(docs/api.md)."""
from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any

API = "http://127.0.0.1:8080"


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
    p.add_argument("--api", default=API, metavar="URL",
                   help=f"the service's REST API (default {API}; [api] in its config)")
    p.set_defaults(run=run)


def call(api: str, method: str, path: str, body: Any = None) -> Any:
    """The answer's JSON; RuntimeError with the service's reason or the connection's."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(api.rstrip("/") + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
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
        site = args.site
        if site is None:
            sites = [s["site"] for s in call(args.api, "GET", "/api/status")["sites"]]
            if len(sites) != 1:
                print(f"twcm charge: error: give --site: the sites are {', '.join(sites)}",
                      file=sys.stderr)
                return 2
            site = sites[0]
        path = f"/api/sites/{site}"
        if args.amps is not None:
            status = call(args.api, "POST", path + "/charge_now",
                          {"amps": args.amps, "minutes": args.minutes})
        elif args.cancel:
            status = call(args.api, "DELETE", path + "/charge_now")
        else:
            status = call(args.api, "GET", path)
    except RuntimeError as e:
        print(f"twcm charge: error: {e}", file=sys.stderr)
        return 1
    print(show(status))
    return 0
