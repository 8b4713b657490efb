"""The Powerwall source against a local server that acts as a gateway: it serves the
recorded answers only to a request with the cookie of its current login."""
from __future__ import annotations

import json

import pytest
from meter_server import (EXPECTED, Answer, MeterServer, Reply, Request, assert_expected,
                          recorded, reply_of, run_closing)
from pydantic import ValidationError

from twcm.service.sources import SourceError, kinds
from twcm.service.sources.integrations.powerwall import (AGGREGATES, GRID_STATUS, LOGIN, SOE,
                                                 Powerwall, PowerwallOptions, grid_connected)

PASSWORD = "S3cr3"
REFUSED = recorded("powerwall2/error_403_not_logged_in.json")


class Gateway:
    """A MeterServer that wants a login: POST LOGIN with the password sets a new
    AuthCookie; a route made by route() answers 403 to a request without the current one."""

    def __init__(self, server: MeterServer) -> None:
        self.server = server
        self.session: str | None = None
        self.logins = 0
        server.route(LOGIN, self.login)

    def forget(self) -> None:
        """As after a gateway restart: the current login is no longer valid."""
        self.session = None

    def login(self, request: Request) -> Reply:
        if json.loads(request.body).get("password") != PASSWORD:
            return Reply(b'{"code":401,"error":"bad credentials","message":"Login '
                         b'Error"}', 401)
        self.logins += 1
        self.session = f"session{self.logins}"
        return Reply(recorded("powerwall2/login_basic_response.json"),
                     headers={"Set-Cookie": f"AuthCookie={self.session}; Path=/"})

    def route(self, path: str, reply: Reply | str) -> None:
        self.server.route(path, self.guarded(reply_of(reply)))

    def guarded(self, reply: Reply) -> Answer:
        def answer(request: Request) -> Reply:
            if f"AuthCookie={self.session}" not in (request.header("cookie") or ""):
                return Reply(REFUSED, 403)
            return reply
        return answer


def gateway(server: MeterServer, aggregates="meters_aggregates_export.json") -> Gateway:
    routes = Gateway(server)
    routes.route(AGGREGATES, f"powerwall2/{aggregates}")
    routes.route(SOE, "powerwall2/system_status_soe.json")
    routes.route(GRID_STATUS, "powerwall2/grid_status.json")
    return routes


def reads(source: Powerwall, times: int = 1, between=lambda: None):
    async def body(source: Powerwall):
        got = []
        for _ in range(times):
            got.append(await source.read())
            between()
        return got
    return run_closing(source, body)


def source(server: MeterServer, **kw) -> Powerwall:
    return Powerwall(PowerwallOptions(url=server.url, password=kw.pop("password", PASSWORD),
                                      **kw))


@pytest.mark.parametrize("name", ["meters_aggregates_export.json",
                                  "meters_aggregates_battery_charging.json"])
def test_the_meters_give_the_recorded_readings(name):
    with MeterServer() as server:
        gateway(server, aggregates=name)
        (reading,) = reads(source(server))
    assert_expected(reading, f"powerwall2/{name}")


def test_the_charge_is_the_apps_and_the_grid_status_is_read():
    with MeterServer() as server:
        gateway(server)
        (reading,) = reads(source(server))
    want = EXPECTED["powerwall2/system_status_soe.json"]
    assert reading.battery_soc == pytest.approx(want["battery_soc_app_pct"], abs=0.01)
    assert reading.grid_connected is EXPECTED["powerwall2/grid_status.json"]["grid_connected"]


def test_it_logs_in_once_and_sends_the_cookie_after():
    with MeterServer() as server:
        routes = gateway(server)
        reads(source(server, email="me@example.com"), times=3)
    assert routes.logins == 1
    login = [r for r in server.requests if r.path == LOGIN]
    assert len(login) == 1 and login[0].method == "POST"
    assert json.loads(login[0].body) == {"username": "customer", "email": "me@example.com",
                                         "password": PASSWORD, "force_sm_off": False}
    gets = [r for r in server.requests if r.path != LOGIN]
    assert len(gets) == 9
    assert all("AuthCookie=session1" in (r.header("cookie") or "") for r in gets)


def test_a_forgotten_login_is_renewed_once_and_the_read_succeeds():
    with MeterServer() as server:
        routes = gateway(server)
        first, second = reads(source(server), times=2, between=routes.forget)
    assert routes.logins == 2
    assert second.grid_import_w == first.grid_import_w == -5347.46
    paths = [r.path for r in server.requests]
    # the second read: its first request is refused (403), one login, then all of it
    assert paths[4:] == [AGGREGATES, LOGIN, AGGREGATES, SOE, GRID_STATUS]


def test_a_gateway_that_refuses_even_after_login_is_not_asked_again_and_again():
    with MeterServer() as server:
        routes = gateway(server)
        server.route(SOE, Reply(REFUSED, 403))
        with pytest.raises(SourceError, match="refuses /api/system_status/soe .*HTTP 403.* "
                                              "after a login"):
            reads(source(server))
    assert routes.logins == 1


def test_a_wrong_password_is_a_clear_auth_error():
    with MeterServer() as server:
        gateway(server)
        with pytest.raises(SourceError, match="refuses the login .*HTTP 401.*password"):
            reads(source(server, password="wrong"))
    assert [r.path for r in server.requests] == [LOGIN]


def test_too_many_logins_say_so():
    with MeterServer() as server:
        server.route(LOGIN, Reply(b'{"message":"Too many requests"}', 429))
        with pytest.raises(SourceError, match="HTTP 429"):
            reads(source(server))


def test_the_token_is_the_cookie_when_the_login_answer_sets_none():
    with MeterServer() as server:
        server.route(LOGIN, "powerwall2/login_basic_response.json")
        for path, name in ((AGGREGATES, "meters_aggregates_export.json"),
                           (SOE, "system_status_soe.json"), (GRID_STATUS, "grid_status.json")):
            server.route(path, f"powerwall2/{name}")
        reads(source(server))
    token = EXPECTED["powerwall2/login_basic_response.json"]["auth_token"]
    cookies = [r.header("cookie") for r in server.requests[1:]]
    assert cookies == [f"AuthCookie={token}"] * 3


@pytest.mark.parametrize("status, connected", [
    ("SystemGridConnected", True), ("SystemIslandedActive", False),
    ("SystemTransitionToGrid", False), ("SomethingNew", None)])
def test_grid_status(status, connected):
    assert grid_connected({"grid_status": status}) is connected


def test_islanded_gateway():
    with MeterServer() as server:
        gateway(server).route(GRID_STATUS, Reply(b'{"grid_status": "SystemIslandedActive", '
                                                 b'"grid_services_active": false}'))
        (reading,) = reads(source(server))
    assert reading.grid_connected is False


def test_a_missing_meter_stays_unknown():
    with MeterServer() as server:
        doc = json.loads(recorded("powerwall2/meters_aggregates_export.json"))
        del doc["solar"]
        gateway(server).route(AGGREGATES, Reply(json.dumps(doc).encode()))
        (reading,) = reads(source(server))
    assert reading.generation_w is None and reading.consumption_w == 734.15


@pytest.mark.parametrize("reply, match", [
    (Reply(b"oops", 500), "HTTP 500"),
    (Reply(b"<html>busy</html>", content_type="text/html"), "not JSON"),
    (Reply(b"{}", delay_s=1.0), "no answer within"),
    (Reply(b'{"site": {"instant_power": "n/a"}}'), "site.instant_power is 'n/a'"),
    (Reply(b'{"site": {}}'), "no site.instant_power"),
    (Reply(b"{}"), "no site, solar, load or battery meter")])
def test_failures_are_reported(reply, match):
    with MeterServer() as server:
        gateway(server).route(AGGREGATES, reply)
        with pytest.raises(SourceError, match=match):
            reads(source(server, timeout_s=0.3))


def test_the_403_body_is_a_recorded_failure():
    assert EXPECTED["powerwall2/error_403_not_logged_in.json"]["valid"] is False


def test_options():
    with pytest.raises(ValidationError):
        PowerwallOptions(url="https://192.168.1.40")  # no password
    o = PowerwallOptions(url="https://192.168.1.40", password="x")
    assert o.verify_tls is False
    assert kinds()["powerwall"].roles(o) == ("generation", "consumption", "grid", "battery")


def test_the_password_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TWCM_PW", "A1B2C")
    o = PowerwallOptions(url="https://10.0.0.4", password_env="TWCM_PW")
    assert o.secret("password") == "A1B2C"
    with pytest.raises(ValueError, match="give either password or password_env, not both"):
        PowerwallOptions(url="https://10.0.0.4", password="x", password_env="TWCM_PW")
    with pytest.raises(ValueError, match="give either password or"):
        PowerwallOptions(url="https://10.0.0.4")
