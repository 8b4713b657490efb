"""The REST API against its own OpenAPI document (schemathesis, over real HTTP to the
server of tests/host/api_rig.py, with an admin token): for inputs made from the schema,
valid and not, no answer is a 5xx, every answer has a documented status and matches its
schema, and a refused change leaves the site's settings as they were.

Not checked: that every schema-valid body is accepted (positive_data_acceptance). Some
limits are the site's own (amps up to its max_amps, a window's amps), known only at run
time; those answer 422 with the field and the site's range."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api_rig import Rig
from twcm.service.control.auth import Auth, Throttle
from twcm.service.control.requests import Control
from twcm.service.control.rest_api import build_app
from twcm.service.control.tokens import MemoryTokens


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    with Rig(tmp_path_factory.mktemp("schema")) as r:
        r.device()
        r.api.auth.throttle = Throttle(base_s=0.001, max_s=0.001)  # it tries bad tokens too
        TOKEN["admin"] = r.admin
        yield r


def _document() -> dict:
    """The OpenAPI document as the server makes it (it does not depend on the sites);
    test_the_document_is_the_one_served checks that."""
    app = build_app(Control([]), Auth(MemoryTokens()))
    return app.app.openapi()


schema = schemathesis.openapi.from_dict(_document())
TOKEN: dict[str, str] = {}  # the rig's admin token, for the auth below


@schema.auth(refresh_interval=None)
class Bearer:
    """Every case carries the admin token (schemathesis then makes no broken ones of it:
    test_api_auth.py covers those)."""

    def get(self, case, ctx) -> str:
        return TOKEN.get("admin", "not yet")  # asked at collection too

    def set(self, case, data: str, ctx) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def test_the_document_is_the_one_served(rig):
    assert rig.request("GET", "/api/openapi.json") == (200, _document())


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_the_api_keeps_to_its_schema(case, rig):
    before = rig.call(lambda: {n: s.settings.runtime.copy() for n, s in rig.sites.items()})
    response = case.call_and_validate(base_url=rig.url,
                                      excluded_checks=[positive_data_acceptance])
    if response.status_code >= 400 and case.method != "GET":
        after = rig.call(lambda: {n: s.settings.runtime.copy() for n, s in rig.sites.items()})
        assert after == before, "a refused change changed the settings"
