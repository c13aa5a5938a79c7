"""What the API reads: filtered, paged, red-first lists; open counts; SLA percentiles; schema."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from alerts.models import Base
from tests.alerts.helpers import T0, alert, one_order, submit


def _mixed(rt) -> None:
    submit(rt, alert("mt-0001", kind="meter", grid_id="g-002", rule="meter.load", severity="yellow"))
    submit(rt, alert("wb-0003", grid_id="g-002", severity="orange", rule="wearable.spo2_low"))
    submit(rt, alert("wb-0001"), alert("wb-0004", grid_id="g-004"))


def test_list_orders_filters_and_pages_red_first(make_runtime) -> None:
    rt = make_runtime()
    _mixed(rt)
    s = rt.service
    assert [o["severity"] for o in s.list_orders()["items"]] == ["red", "red", "orange", "yellow"]
    assert [o["device_id"] for o in s.list_orders(grid_id="g-002")["items"]] == ["wb-0003", "mt-0001"]
    assert s.list_orders(severity="red", town_id="t-02")["items"][0]["device_id"] == "wb-0004"
    assert s.list_orders(status="open")["total"] == 4
    assert s.list_orders(assignee="w-001")["total"] == 1
    assert s.list_orders(department="medical-120")["total"] == 2
    page = s.list_orders(limit=2, offset=2)
    assert (page["total"], [o["severity"] for o in page["items"]]) == (4, ["orange", "yellow"])
    with pytest.raises(ValueError, match="unknown status 'done'"):
        s.list_orders(status="done")


def test_open_counts_per_grid_and_town(make_runtime) -> None:
    rt = make_runtime()
    _mixed(rt)
    towns = {c["town_id"]: c for c in rt.service.open_counts("town")}
    assert (towns["t-01"]["red"], towns["t-01"]["orange"], towns["t-01"]["total"]) == (1, 1, 3)
    grids = rt.service.open_counts("grid")
    assert grids[0]["grid_id"] in ("g-001", "g-004") and grids[0]["red"] == 1


def test_sla_percentiles_per_stage(make_runtime) -> None:
    rt, clock, oid = one_order(make_runtime)
    clock.set(T0 + 30)
    rt.service.accept(oid, "w-001")
    clock.set(T0 + 270)
    rt.service.on_site(oid, "w-001")
    [row] = rt.service.sla("grid")
    assert row["grid_id"] == "g-001"
    stages = row["stages"]
    assert (stages["detect_dispatch"]["p50"], stages["dispatch_accept"]["p99"]) == (0.0, 30.0)
    assert stages["accept_on_site"]["p50"] == 240.0 and stages["on_site_resolved"]["count"] == 0


def test_migrations_create_exactly_the_models(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_incidents_filter_by_town(make_runtime) -> None:
    rt = make_runtime()
    _mixed(rt)
    assert {i["device_id"] for i in rt.service.list_incidents(town_id="t-02")["items"]} == {"wb-0004"}
    assert len(rt.service.list_incidents(town_id="t-01", status="open")["items"]) == 3
