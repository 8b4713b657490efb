"""Fixtures for tests that need real services: a mosquitto broker."""
from __future__ import annotations

import pytest

from mqtt_helpers import Mosquitto


@pytest.fixture
def mosquitto(tmp_path):
    broker = Mosquitto(tmp_path)
    yield broker
    broker.kill()
