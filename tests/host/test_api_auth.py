"""Who may use the REST API, over real HTTP (tests/host/api_rig.py): every route in its
OpenAPI document refuses a request without a token (401) and every state-changing one a
read_only token (403); a text/plain POST, a foreign Origin and a foreign Host are refused
and change nothing; bad tokens are answered later and later, without holding up others."""
from __future__ import annotations

import threading

import pytest

from api_rig import Rig
from twcm.service.control.auth import Throttle

OPEN = {("GET", "/api/health"), ("POST", "/api/login"), ("GET", "/api/openapi.json")}
PARAMS = {"{site}": "home", "{twc}": "1A2B", "{name}": "fridge"}


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    with Rig(tmp_path_factory.mktemp("api")) as r:
        r.device()
        r.api.auth.throttle = Throttle(base_s=0.001, max_s=0.001)  # many bad tokens here
        yield r


def routes(rig: Rig) -> list[tuple[str, str]]:
    """(method, path) of every operation in the OpenAPI document, path parameters filled."""
    code, doc = rig.request("GET", "/api/openapi.json")
    assert code == 200
    out = []
    for path, ops in doc["paths"].items():
        for p, v in PARAMS.items():
            path = path.replace(p, v)
        out += [(method.upper(), path) for method in ops]
    assert len(out) >= 25, out
    return out


def state(rig: Rig) -> dict:
    """What a refused request must leave as it was."""
    status = rig.request("GET", "/api/sites/home", token=rig.admin)[1]
    return {"settings": status["settings"], "charge_now": status["charge_now"],
            "runtime": rig.call(lambda: rig.store.settings("home"))}


def test_every_route_but_health_and_login_needs_a_token(rig):
    before = state(rig)
    for method, path in routes(rig):
        if (method, path) in OPEN:
            continue
        body = None if method == "GET" else {}
        for token in (None, "twcm_not-a-token", ""):
            headers = {} if token is None else {"Authorization": f"Bearer {token}"}
            code, answer = rig.request(method, path, body, headers=headers)
            assert code == 401, (method, path, token, answer)
            assert "token" in answer["error"]
    assert rig.request("GET", "/api/health") == (200, {"status": "ok"})
    assert state(rig) == before


def test_every_change_needs_an_admin_token(rig):
    before = state(rig)
    changes = [(m, p) for m, p in routes(rig) if m != "GET" and (m, p) not in OPEN]
    assert {m for m, _ in changes} == {"POST", "PUT", "PATCH", "DELETE"}
    for method, path in changes:
        code, answer = rig.request(method, path, {}, token=rig.reader)
        assert code == 403, (method, path, answer)
        assert "read_only" in answer["error"] and "admin" in answer["error"]
    assert state(rig) == before
    for method, path in routes(rig):  # and a read_only token may read everything
        if method == "GET":
            assert rig.request(method, path, token=rig.reader)[0] in (200, 404), path


CHARGE = b'{"amps": 16, "minutes": 30}'


@pytest.mark.parametrize("headers,code,words", [
    ({"Content-Type": "text/plain"}, 415, "Content-Type: application/json"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
    ({"Content-Type": "multipart/form-data; boundary=x"}, 415, "application/json"),
    ({"Content-Type": "application/json", "Origin": "http://evil.example"}, 403,
     "[api] origins"),
    ({"Content-Type": "application/json", "Origin": "null"}, 403, "[api] origins"),
    ({"Content-Type": "application/json", "Host": "evil.example"}, 421, "[api] hosts"),
    ({"Content-Type": "application/json", "Host": "evil.example:8080"}, 421, "evil.example"),
])
def test_cross_site_requests_are_refused_and_change_nothing(rig, headers, code, words):
    """What a page on another site can make a browser send (a form, a no-cors fetch, a
    rebound DNS name), even with a valid admin token."""
    before = state(rig)
    got, answer = rig.request("POST", "/api/sites/home/charge_now", token=rig.admin,
                              headers=headers, raw=CHARGE)
    assert got == code and words in answer["error"], answer
    assert state(rig) == before and before["charge_now"] is None


def test_a_body_over_64_kb_is_refused(rig):
    big = {"windows": [{"days": ["Mon"], "start": "22:00", "end": "06:00", "amps": 6}] * 1200}
    code, answer = rig.request("PUT", "/api/sites/home/schedule", big, rig.admin)
    assert code == 413 and "65536 bytes" in answer["error"]
    assert rig.request("GET", "/api/sites/home/schedule", token=rig.admin)[1] == {"windows": []}


def test_the_servers_own_origin_and_configured_names_are_accepted(tmp_path):
    with Rig(tmp_path, hosts=("twcm.lan",), origins=("https://twcm.example.org",)) as rig:
        for headers in ({"Origin": rig.url},
                        {"Origin": "https://twcm.example.org"},
                        {"Host": "twcm.lan", "Origin": "http://twcm.lan"},
                        {"Host": "twcm.lan:8443", "Origin": "https://twcm.lan:8443"},
                        {"Host": "localhost"}, {"Host": "[::1]:80"}):
            code, answer = rig.request("POST", "/api/sites/home/charge_now",
                                       {"amps": 6, "minutes": 1}, rig.admin, headers)
            assert code == 200, (headers, answer)
        assert rig.request("GET", "/api/health", headers={"Host": "twcm.lan"})[0] == 200
        assert rig.request("GET", "/api/health", headers={"Host": "other.lan"})[0] == 421
        # A GET from another origin is answered, but without CORS headers a browser keeps
        # the answer from that page (and the token it would need is not the page's).
        assert rig.request("GET", "/api/health", headers={"Origin": "http://x.example"})[0] \
            == 200


def test_login_tells_the_kind_and_bad_tokens_are_answered_later_and_later(rig):
    assert rig.request("POST", "/api/login", {"token": rig.reader}) == (
        200, {"name": "reader", "kind": "read_only"})
    assert rig.request("POST", "/api/login", {"token": rig.admin})[1]["kind"] == "admin"
    throttle = Throttle(base_s=0.05, max_s=0.2)
    rig.api.auth.throttle = throttle
    delays = []
    for n in range(1, 6):
        code, answer = rig.request("POST", "/api/login", {"token": "twcm_guess"})
        assert code == 401 and "not valid" in answer["error"]
        assert throttle.failures("127.0.0.1") == n
        delays.append(throttle.delay(n))
    assert delays == [0.05, 0.1, 0.2, 0.2, 0.2]  # doubling, bounded
    # A bad bearer token on any route counts the same.
    assert rig.request("GET", "/api/status", token="twcm_guess")[0] == 401
    assert throttle.failures("127.0.0.1") == 6
    assert rig.request("GET", "/api/status", token=rig.reader)[0] == 200
    assert throttle.failures("127.0.0.1") == 0  # a success forgets them


def test_the_delay_does_not_hold_up_the_service(rig):
    """While a bad login waits out its delay, other requests are answered."""
    rig.api.auth.throttle = Throttle(base_s=3.0, max_s=3.0)
    waiting = threading.Thread(target=rig.request, args=("POST", "/api/login",
                                                         {"token": "twcm_guess"}))
    waiting.start()
    try:
        for _ in range(3):
            assert rig.request("GET", "/api/health")[0] == 200
        assert waiting.is_alive()  # still in its delay
    finally:
        waiting.join(10)
    assert rig.api.auth.throttle.failures("127.0.0.1") == 1
