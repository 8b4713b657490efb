"""The Enlighten cloud source against a local server standing in for api.enphaseenergy.com."""
from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from meter_server import EXPECTED, MeterServer, Reply, assert_expected, run_closing
from pydantic import ValidationError

from twcm.service.sources import SourceError, kinds
from twcm.service.sources.integrations.enphase_cloud import EnphaseCloud, EnphaseCloudOptions

SUMMARY = "/api/v4/systems/67/summary"
FIXTURE = "enphase/enlighten_cloud_summary.json"
REFRESH = {"refresh_token": "r-1", "client_id": "cid", "client_secret": "secret"}


def query(request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.path).query)


def reads(server: MeterServer, times: int = 1, **kw):
    async def body(source: EnphaseCloud):
        return [await source.read() for _ in range(times)]
    return run_closing(EnphaseCloud(EnphaseCloudOptions(system_id=67, api_key="k3y",
                                                        base_url=server.url, **kw)), body)


def token_reply(n: int) -> Reply:
    return Reply(json.dumps({"access_token": f"a-{n}", "refresh_token": f"r-{n + 1}",
                             "token_type": "bearer", "expires_in": 86399}).encode())


def test_the_summary_gives_the_generation_at_its_report_time():
    with MeterServer() as server:
        server.route(SUMMARY, FIXTURE)
        (reading,) = reads(server, access_token="a-0")
    assert_expected(reading, FIXTURE)
    assert reading.at == 1384549672  # last_report_at: the data is minutes old
    (request,) = server.requests
    assert urlsplit(request.path).path == SUMMARY and query(request) == {"key": ["k3y"]}
    assert request.header("Authorization") == "Bearer a-0"


def test_without_an_access_token_one_is_had_for_the_refresh_token(tmp_path):
    kept = tmp_path / "enphase.token"
    with MeterServer() as server:
        server.route(SUMMARY, FIXTURE)
        server.route("/oauth/token", token_reply(1))
        reads(server, times=2, token_file=str(kept), **REFRESH)
    renew, summary, again = server.requests
    assert (renew.method, urlsplit(renew.path).path) == ("POST", "/oauth/token")
    assert query(renew) == {"grant_type": ["refresh_token"], "refresh_token": ["r-1"]}
    basic = base64.b64encode(b"cid:secret").decode()
    assert renew.header("Authorization") == f"Basic {basic}"
    assert summary.header("Authorization") == again.header("Authorization") == "Bearer a-1"
    assert json.loads(kept.read_text()) == {"configured": "r-1", "latest": "r-2"}

    # after a restart the newest refresh token is used, not the configured (spent) one
    with MeterServer() as server:
        server.route(SUMMARY, FIXTURE)
        server.route("/oauth/token", token_reply(2))
        reads(server, token_file=str(kept), **REFRESH)
    assert query(server.requests[0])["refresh_token"] == ["r-2"]
    # a refresh token set anew in the config wins over the file
    with MeterServer() as server:
        server.route(SUMMARY, FIXTURE)
        server.route("/oauth/token", token_reply(7))
        reads(server, token_file=str(kept), **{**REFRESH, "refresh_token": "r-new"})
    assert query(server.requests[0])["refresh_token"] == ["r-new"]


def test_an_expired_access_token_is_renewed_once():
    with MeterServer() as server:
        server.route(SUMMARY, Reply(b'{"message": "Not Authorized"}', 401))
        server.route("/oauth/token", token_reply(1))
        with pytest.raises(SourceError, match="refuses the access token it has just given"):
            reads(server, access_token="a-0", **REFRESH)
    assert [urlsplit(r.path).path for r in server.requests] == [SUMMARY, "/oauth/token",
                                                                 SUMMARY]
    assert server.requests[2].header("Authorization") == "Bearer a-1"


def test_an_expired_access_token_without_a_refresh_token_says_what_to_give():
    with MeterServer() as server:
        server.route(SUMMARY, Reply(b'{"message": "Not Authorized"}', 401))
        with pytest.raises(SourceError, match="HTTP 401.*give refresh_token"):
            reads(server, access_token="a-0")


def test_a_refused_refresh_says_to_authorize_again():
    with MeterServer() as server:
        server.route("/oauth/token", Reply(b'{"error": "invalid_grant"}', 400))
        with pytest.raises(SourceError, match="HTTP 400.*refresh token has expired"):
            reads(server, **REFRESH)


@pytest.mark.parametrize("reply, match", [
    (Reply(b'{"message": "Too Many Requests"}', 429), "HTTP 429"),
    (Reply(b"oops", 500), "HTTP 500"),
    (Reply(b"<html>", content_type="text/html"), "not JSON"),
    (Reply(b"{}", delay_s=1.0), "no answer within"),
    (Reply(b'{"system_id": 67}'), "no current_power"),
    (Reply(b'{"current_power": null}'), "no current_power")])
def test_failures_are_reported(reply, match):
    with MeterServer() as server:
        server.route(SUMMARY, reply)
        with pytest.raises(SourceError, match=match):
            reads(server, access_token="a-0", timeout_s=0.3)


def test_options_and_the_quota():
    with pytest.raises(ValidationError, match="give access_token, or refresh_token"):
        EnphaseCloudOptions(system_id=67, api_key="k")
    with pytest.raises(ValidationError, match="together"):
        EnphaseCloudOptions(system_id=67, api_key="k", refresh_token="r")
    kind = kinds()["enphase_cloud"]
    # the free plan's 1000 requests a month last a 31-day month
    assert kind.min_interval_s == kind.interval_s >= 31 * 86400 / 1000
    o = EnphaseCloudOptions(system_id=67, api_key="k", access_token="a")
    assert kind.roles(o) == ("generation",)
    assert EXPECTED[FIXTURE]["consumption_w"] is None


def test_a_token_renewed_for_this_read_is_not_renewed_twice():
    with MeterServer() as server:
        server.route(SUMMARY, Reply(b'{"message": "Not Authorized"}', 401))
        server.route("/oauth/token", token_reply(1))
        with pytest.raises(SourceError, match="just given"):
            reads(server, **REFRESH)
    assert [urlsplit(r.path).path for r in server.requests] == ["/oauth/token", SUMMARY]
