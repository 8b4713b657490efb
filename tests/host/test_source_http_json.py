"""The generic JSON source against a local server with a made-up device's answer."""
from __future__ import annotations

import json

import pytest
from meter_server import MeterServer, Reply, read_once
from pydantic import ValidationError

from twcm.service.sources import SourceError
from twcm.service.sources.integrations.http_json import HttpJson, HttpJsonOptions

DEVICE = {"site": {"meters": [{"id": "grid", "power_kw": -1.25, "label": "3.2 kW"},
                              {"id": "pv", "power": "4100.5", "off": None}]}}


def read(server: MeterServer, path: str, reply: Reply | None = None, **kw):
    server.route("/api/status", reply or Reply(json.dumps(DEVICE).encode()))
    options = {"url": f"{server.url}/api/status?all=1", "path": path, "role": "grid", **kw}
    return read_once(HttpJson(HttpJsonOptions(**options)))


def test_a_number_scaled_to_watts_with_twcms_sign():
    with MeterServer() as server:
        reading = read(server, "site.meters[0].power_kw", scale=-1000.0)
        assert server.requests[0].path == "/api/status?all=1"
    assert reading.grid_import_w == 1250.0 and reading.generation_w is None


def test_numeric_strings_and_strings_with_units():
    with MeterServer() as server:
        assert read(server, "site.meters[1].power",
                    role="generation").generation_w == 4100.5
        assert read(server, "site.meters[0].label").grid_import_w == 3200.0


def test_headers_are_sent():
    with MeterServer() as server:
        read(server, "site.meters[1].power", headers={"X-Api-Key": "k1"})
        assert server.requests[0].headers["X-Api-Key"] == "k1"


def test_missing_null_and_odd_values_are_errors_not_zero():
    with MeterServer() as server:
        with pytest.raises(SourceError, match="no site.meters\\[2\\]"):
            read(server, "site.meters[2].power")
        with pytest.raises(SourceError, match="is null"):
            read(server, "site.meters[1].off")
        with pytest.raises(SourceError, match="not a number"):
            read(server, "site.meters[0].id")


def test_http_failures_are_errors():
    with MeterServer() as server:
        with pytest.raises(SourceError, match="HTTP 500"):
            read(server, "a", Reply(b"", 500))
        with pytest.raises(SourceError, match="not JSON"):
            read(server, "a", Reply(b"not json", content_type="text/plain"))
        with pytest.raises(SourceError, match="no answer within"):
            read(server, "a", Reply(b"{}", delay_s=1.0), timeout_s=0.2)


def test_options_are_checked():
    with pytest.raises(ValidationError, match="cannot read the path"):
        HttpJsonOptions(url="http://x", path="a..b", role="grid")
    with pytest.raises(ValidationError, match="0 would turn"):
        HttpJsonOptions(url="http://x", path="a", role="grid", scale=0.0)
    assert HttpJsonOptions(url="http://x", path="a", role="grid", scale=1000).scale == 1000
