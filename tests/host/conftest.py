"""Fixtures for tests that need real services: a mosquitto broker, a MariaDB server."""
from __future__ import annotations

import pytest

import mariadb
from mqtt_helpers import Mosquitto


@pytest.fixture
def mosquitto(tmp_path):
    broker = Mosquitto(tmp_path)
    yield broker
    broker.kill()


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory):
    """One MariaDB server for the session (each test gets its own database: db_url)."""
    if not mariadb.available():
        pytest.fail("mariadbd is not installed: run tools/setup --test (Debian's "
                    "mariadb-server)")
    server = mariadb.MariaDb(tmp_path_factory.mktemp("mariadb"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "mariadb"])
def db_url(request, tmp_path):
    """Where the database is: a SQLite file's Path, or a fresh MariaDB database's URL."""
    if request.param == "sqlite":
        return tmp_path / "twcm.db"
    server = request.getfixturevalue("mariadb_server")
    if server.proc is None:  # a test stopped it and failed before starting it again
        server.start()
    return server.url()
