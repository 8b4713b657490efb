"""`twcm run`: the host service. One SiteLoop per site (site.py), one MQTT link to the
devices for all of them, and the control surfaces (control/) on top; without a configured
broker an embedded one runs on 127.0.0.1.

What goes wrong is logged and the service goes on: an unreachable broker (DeviceLink
retries), a REST port in use (the service runs without the API).
"""
from __future__ import annotations

import asyncio
import logging
import signal

from twcm.service.config import Config
from twcm.service.control import Api, Control, MqttControl
from twcm.service.control.webipc import WebIpc
from twcm.service.control.tokens import TokenFile
from twcm.service.devicelink import DeviceLink, EmbeddedBroker
from twcm.service.ocpp import Session as OcppSession
from twcm.service.history import configured
from twcm.service.history.site_records import SiteRecords
from twcm.service.history.sql import SqlBackend
from twcm.service.history.writer import Writer
from twcm.service.site import SiteLoop
from twcm.service.status import outputs as status_outputs
from twcm.service.store import Store

log = logging.getLogger("twcm.service")


async def serve(config: Config, stop: asyncio.Event | None = None) -> int:
    """Run the service until `stop` is set, SIGINT or SIGTERM; the exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await _serve(config, stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _start_api(config: Config, control: Control, store: Store) -> Api | None:
    """The REST API, if enabled; a port in use is logged, and the service goes on. The
    first start makes an admin token and shows it once (docs/api.md#tokens)."""
    if not config.api.enabled:
        return None
    a = config.api
    tokens = TokenFile(a.tokens_path(config.database))
    try:
        first = tokens.first_admin()
        tokens.tokens()
    except (OSError, ValueError) as e:
        log.error("cannot use the REST API's token file %s: %s (fix: set [api] tokens to a "
                  "writable path); going on without the API", tokens.path, e)
        return None
    if first is not None:
        log.warning("REST API: made the admin token %s (shown this once; kept as a hash in "
                    "%s). Send it as 'Authorization: Bearer <token>'; `twcm token add NAME "
                    "[--read-only]` makes more, `twcm token list` shows them", first,
                    tokens.path)
    api = Api(control, tokens, a.host, a.port, store, tuple(a.hosts), tuple(a.origins),
              (a.tls_cert, a.tls_key) if a.tls_cert and a.tls_key else None)
    try:
        await api.start()
    except OSError as e:
        log.error("cannot serve the REST API on %s:%s: %s (fix: set [api] port to a free "
                  "port, check [api] tls_cert and tls_key, or set enabled = false); going on "
                  "without it", api.host, api.port, e.strerror or e)
        return None
    log.info("web page on %s/ (REST API: /api/status, docs/api.md)", api.url)
    return api


def _open_database(config: Config) -> tuple[Store, Writer] | None:
    """The store and the history writer, whose backends are the same database and the
    [[logging]] tables' (docs/logging.md); None (logged, with the fix) if the database or
    a logging table cannot be opened."""
    db = config.database
    store: Store | None = None
    try:
        store = Store(db.where())
        try:
            logs = configured.build(config)
        except (OSError, ValueError) as e:
            log.error("cannot open %s (fix: see docs/logging.md for the table's keys)", e)
            store.close()
            return None
        return store, Writer([("database", SqlBackend(db.where(), db.keep_days,
                                                      db.keep_sessions_days))]
                             + [(f"logging[{i}]", b) for i, b in enumerate(logs)])
    except Exception as e:  # OSError, a database error, a newer schema, no MySQL driver
        if store is not None:
            store.close()
        fix = ("install the MySQL driver: pip install 'twcm[mysql]'"
               if isinstance(e, ModuleNotFoundError) else
               "check [database] url and that the server is up" if db.url else
               "set [database] sqlite to a writable path")
        log.error("cannot open the database %s: %s (fix: %s)", db.url or db.path(), e, fix)
        return None


async def _serve(config: Config, stop: asyncio.Event) -> int:
    db = config.database
    opened = _open_database(config)
    if opened is None:
        return 1
    store, writer = opened
    log.info("recording to %s", store.path)
    broker: EmbeddedBroker | None = None
    try:
        if config.broker is None:
            broker = EmbeddedBroker(config.embedded_broker.port)
            try:
                await broker.start()
            except Exception as e:
                log.error("cannot start the embedded MQTT broker on %s: %s (fix: free the "
                          "port, or set [embedded_broker] port or [broker] url)", broker.url, e)
                return 1
            url = broker.url
        else:
            url = config.broker.full_url()
        sites = [SiteLoop(s, store, records=SiteRecords(s.name, writer, db.status_every_s))
                 for s in config.site]
        link = DeviceLink(url, [s.link for s in sites])
        control = Control(sites)
        tasks = [asyncio.create_task(link.run(), name="device link"),
                 asyncio.create_task(MqttControl(url, control).run(), name="mqtt control")]
        tasks += [asyncio.create_task(s.run(), name=f"site {s.config.name}") for s in sites]
        tasks += status_outputs.start(url, sites, config.home_assistant,  # HA, TWCManager
                                      config.home_assistant_rest, config.twcmanager_mqtt)
        # [site.ocpp]: the site as an OCPP 1.6J charge point (docs/ocpp.md); its state file
        # (connectors, profiles, queued transactions) lives beside the database.
        tasks += [asyncio.create_task(OcppSession(s, s.config.ocpp, db.parent / (
            f"ocpp-{s.config.name}.json")).run(), name=f"ocpp {s.config.name}")
            for s in sites if s.config.ocpp is not None]
        api = await _start_api(config, control, store)
        webipc = WebIpc.start(config.webipc, control)  # off by default; stopping removes it
        if webipc is not None:
            tasks.append(asyncio.create_task(webipc.run(), name="webipc"))
        log.info("serving sites %s via %s", ", ".join(s.config.name for s in sites),
                 link.broker)
        await stop.wait()
        if api is not None:
            await api.stop()
        log.info("stopping: the devices follow their schedule or fallback when the leases "
                 "run out")
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if webipc is not None:
            webipc.close()  # done already, unless its task never got to run
        return 0
    finally:
        if broker is not None:
            await broker.stop()
        await asyncio.to_thread(writer.close)  # writes what it holds
        store.close()
