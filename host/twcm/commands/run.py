"""`twcm run`: the host service (twcm.service.serve), configured by a TOML file (docs/config.md)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

LEVELS = ("debug", "info", "warning", "error")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run", help="run the host service: meters, policy, leases, records",
        description="Run the host service: for each site in the config, read the meters, "
                    "decide the site limit and lease it to the device over MQTT; record "
                    "samples, Wall Connector status and charge sessions in SQLite.")
    p.add_argument("--config", type=Path, default=Path("twcm.toml"), metavar="FILE",
                   help="the configuration (default ./twcm.toml; see docs/config.md)")
    p.add_argument("--log-level", choices=LEVELS,
                   help="console log level (default: [log] level in the config, else info)")
    p.add_argument("--check", action="store_true",
                   help="check the configuration, print a summary and exit")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from twcm.service.config import ConfigError
    from twcm.service.config_load import load
    path: Path = args.config
    if not path.is_file():
        print(f"twcm run: error: {path}: no such file (fix: write one, see docs/config.md; "
              "examples/twcm.toml is a complete example)", file=sys.stderr)
        return 2
    try:
        config = load(path)
    except ConfigError as e:
        for line in e.lines:
            print(line, file=sys.stderr)
        return 2
    if args.check:
        broker = (str(config.broker.url) if config.broker else
                  f"embedded on 127.0.0.1:{config.embedded_broker.port}")
        sites = ", ".join(f"{s.name} ({'+'.join(x.label() for x in s.sources())}, "
                          f"{s.max_amps} A)" for s in config.site)
        print(f"{path}: OK: sites {sites}; broker {broker}; "
              f"database {config.database.path()}")
        return 0
    level = (args.log_level or config.log.level).upper()
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    if level != "DEBUG":  # amqtt and aiomqtt are chatty at INFO
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        logging.getLogger("transitions").setLevel(logging.WARNING)
    from twcm.service.serve import serve
    return asyncio.run(serve(config))
