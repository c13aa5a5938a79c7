"""API fixtures: one harness per test module and database (SQLite and real PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.api.harness import Harness, LiveServer


@pytest.fixture(scope="module")
def pg_api_url(postgres_url: str) -> Iterator[str]:
    """A database of our own on the test PostgreSQL (others' tests share ``postgres_url``)."""
    name = f"gridwatch_api_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield postgres_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _harness(url: str, city) -> Harness:
    h = Harness(url, city)
    h.issue_tokens()
    return h


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def harness(request, small_city, tmp_path_factory) -> Iterator[Harness]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'gw.db'}"
    else:
        url = request.getfixturevalue("pg_api_url")
    h = _harness(url, small_city)
    yield h
    h.close()


@pytest.fixture(scope="module")
def sqlite_harness(small_city, tmp_path_factory) -> Iterator[Harness]:
    h = _harness(f"sqlite:///{tmp_path_factory.mktemp('api') / 'gw.db'}", small_city)
    yield h
    h.close()


@pytest.fixture(scope="module")
def client(harness: Harness) -> Iterator[TestClient]:
    with TestClient(harness.app) as c:
        yield c


@pytest.fixture(scope="module")
def live(sqlite_harness: Harness) -> Iterator[LiveServer]:
    server = LiveServer(sqlite_harness.app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def auth(harness: Harness, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {harness.tokens[role]}"}
