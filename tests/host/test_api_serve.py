"""How `twcm run` starts the REST API (serve._start_api): the first start makes an admin
token (shown once, a hash kept in a 0600 file), a later start makes none; a port in use or
a bad TLS file is logged and the service goes on without the API; HTTPS from [api]
tls_cert and tls_key; the [api] keys are checked as the rest of the config."""
from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
import stat
import subprocess
import urllib.request
from pathlib import Path

import pytest

from api_rig import Rig
from twcm.service.config import Config, ConfigError
from twcm.service.config_load import load
from twcm.service.control.requests import Control
from twcm.service.serve import _start_api
from twcm.service.store import Store

SITE = {"name": "home", "max_amps": 24, "source": {"type": "static"}}


def config(tmp_path: Path, **api) -> Config:
    return Config.model_validate({"site": [SITE], "database": {"sqlite": str(tmp_path / "db")},
                                  "api": {"port": 0, **api}})


def start(cfg: Config, tmp_path: Path) -> tuple[object, str]:
    """_start_api in a fresh loop: (the Api or None, the log)."""
    async def go():
        store = Store(tmp_path / "db")
        api = await _start_api(cfg, Control([]), store)
        if api is not None:
            await api.stop()
        store.close()
        return api
    return asyncio.run(go())


def test_the_first_start_makes_an_admin_token_and_shows_it_once(tmp_path, caplog):
    caplog.set_level(logging.INFO, "twcm.service")
    assert start(config(tmp_path), tmp_path) is not None
    made = [r.getMessage() for r in caplog.records if "made the admin token" in r.getMessage()]
    assert len(made) == 1 and "twcm token add" in made[0]
    secret = made[0].split("made the admin token ")[1].split()[0]
    path = tmp_path / "api-tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert secret not in text  # only its hash
    assert [t["name"] for t in json.loads(text)["tokens"]] == ["admin"]
    caplog.clear()
    assert start(config(tmp_path), tmp_path) is not None  # a restart: no new token
    assert not any("made the admin token" in r.getMessage() for r in caplog.records)


def test_a_port_in_use_or_bad_tls_files_leave_the_service_without_the_api(tmp_path, caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert start(config(tmp_path, port=port), tmp_path) is None
    assert f"cannot serve the REST API on 127.0.0.1:{port}" in caplog.text
    (tmp_path / "bad.pem").write_text("not a certificate")
    cfg = config(tmp_path, tls_cert=str(tmp_path / "bad.pem"), tls_key=str(tmp_path / "bad.pem"))
    assert start(cfg, tmp_path) is None
    assert "tls_cert" in caplog.text


def test_https_from_the_tls_files(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    with Rig(tmp_path, tls=(str(cert), str(key))) as rig:
        assert rig.api.url.startswith("https://")
        context = ssl.create_default_context(cafile=str(cert))
        req = urllib.request.Request(f"https://127.0.0.1:{rig.api.port}/api/status",
                                     headers={"Authorization": f"Bearer {rig.reader}"})
        with urllib.request.urlopen(req, timeout=10, context=context) as r:
            assert r.status == 200 and len(json.loads(r.read())["sites"]) == 2
        with pytest.raises(Exception):  # plain HTTP gets no answer
            urllib.request.urlopen(f"http://127.0.0.1:{rig.api.port}/api/health", timeout=5)


@pytest.mark.parametrize("api,words", [
    ({"hosts": ["twcm.lan:8080"]}, "api.hosts[0]"),
    ({"hosts": ["TWCM.lan"]}, "lower case"),
    ({"origins": ["https://twcm.lan/page"]}, "api.origins[0]"),
    ({"origins": ["twcm.lan"]}, "not an origin"),
    ({"tls_cert": "c.pem"}, "api.tls_key: missing"),
    ({"token": "x"}, 'unknown key "token"'),
])
def test_api_keys_are_checked_with_the_key_and_the_fix(tmp_path, api, words):
    path = tmp_path / "twcm.toml"
    lines = [f"{k} = {json.dumps(v)}" for k, v in api.items()]
    path.write_text('[[site]]\nname = "home"\nmax_amps = 24\n[site.source]\ntype = "static"\n'
                    "[api]\n" + "\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as e:
        load(path)
    assert words in str(e.value), e.value.lines
