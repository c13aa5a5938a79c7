"""Fixtures for the alerts tests: every DB test runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alerts.config import AlertsConfig
from alerts.db import upgrade
from alerts.models import Base
from alerts.runtime import AlertsRuntime, build
from core.city import City
from core.clock import ManualClock
from core.events import EventBus
from core.metrics import new_registry
from core.settings import Settings
from tests.alerts.helpers import T0

_migrated: set[str] = set()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a fresh SQLite file, or the session's PostgreSQL wiped clean."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gridwatch.db'}"
        upgrade(url)
        return url
    url = request.getfixturevalue("postgres_url")
    if url not in _migrated:
        upgrade(url)
        _migrated.add(url)
    engine = sa.create_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def make_runtime(db_url: str, small_city: City, tmp_path: Path) -> Iterator[Callable[..., AlertsRuntime]]:
    """Build runtimes on the test database; all are stopped at the end of the test."""
    made: list[AlertsRuntime] = []

    def make(clock: ManualClock | None = None, mqtt_url: str | None = None, cfg: AlertsConfig | None = None,
             bus: EventBus | None = None, **settings: Any) -> AlertsRuntime:
        s = Settings.load(overrides={"db": db_url, "data_dir": str(tmp_path), **settings}, env={})
        rt = build(s, small_city, clock or ManualClock(T0), bus or EventBus(), new_registry(),
                   mqtt_url=mqtt_url, config=cfg, migrate=False)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.stop()
