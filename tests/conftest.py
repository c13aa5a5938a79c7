"""Shared fixtures: real servers on private loopback ports, the small test city.

Integration tests use these and never skip: a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.city import City, load_city
from tests.support.servers import InfluxDB1, Mosquitto, start_influxdb, start_mosquitto

SMALL_CITY = Path(__file__).parent / "data" / "city-small"
POSTGRES_ADMIN_URL = os.environ.get("GRIDWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def small_city_dir() -> Path:
    return SMALL_CITY


@pytest.fixture(scope="session")
def small_city() -> City:
    return load_city(SMALL_CITY)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A private Mosquitto per test (persistence on, queues unbounded)."""
    server = start_mosquitto(tmp_path / "mosquitto")
    yield server
    server.stop()


@pytest.fixture
def influxdb(tmp_path: Path) -> Iterator[InfluxDB1]:
    """A private InfluxDB 1.x per test with database ``gridwatch`` created."""
    server = start_influxdb(tmp_path / "influxdb")
    server.create_database("gridwatch")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on 127.0.0.1:5432 for this test session, dropped after."""
    import sqlalchemy as sa

    name = f"gridwatch_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
