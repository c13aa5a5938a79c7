"""A red alert becomes one dispatched order; the lifecycle runs to closed; bad moves are refused."""

from __future__ import annotations

import pytest

from alerts.errors import IllegalTransition, NotFound
from tests.alerts.helpers import alert, one_order, submit


def test_red_wearable_alert_dispatches_one_order_to_nearest_medical_worker(make_runtime) -> None:
    rt = make_runtime()
    submit(rt, alert("wb-0001"))
    orders = rt.service.list_orders()["items"]
    assert len(orders) == 1
    o = rt.service.get_order(orders[0]["id"])
    assert (o["severity"], o["status"], o["assignee"], o["grid_id"]) == ("red", "dispatched", "w-001", "g-001")
    dispatched = next(e for e in o["timeline"] if e["type"] == "dispatched")
    assert dispatched["note"].startswith("w-001: same grid, medical, ")
    assert dispatched["note"].endswith("idle")
    assert o["backup"] and o["backup"] != "w-001"
    assert {c["dept_id"] for c in o["departments"]} == {"medical-120", "traffic-police"}
    assert [a["device_id"] for a in o["alerts"]] == ["wb-0001"]


def test_repeated_red_alerts_attach_evidence_instead_of_new_orders(make_runtime) -> None:
    rt = make_runtime()
    submit(rt, alert("wb-0001"), alert("wb-0001", at=1_732_233_610.0))
    items = rt.service.list_orders()["items"]
    assert len(items) == 1
    assert len(rt.service.get_order(items[0]["id"])["alerts"]) == 2
    assert rt.service.get_incident(items[0]["incident_id"])["alert_count"] == 2


def test_full_lifecycle_to_closed_with_evaluation(make_runtime) -> None:
    rt, _clock, oid = one_order(make_runtime)
    s = rt.service
    s.accept(oid, "w-001", "on my way soon")
    s.en_route(oid, "w-001")
    s.on_site(oid, "w-001", "with the community doctor")
    s.resolve(oid, "w-001", "ambulance took him")
    o = s.close(oid, "dispatcher", 5, "true_event", "resident thanked the team")
    assert (o["status"], o["evaluation"], o["closure_code"]) == ("closed", 5, "true_event")
    for stamp in ("dispatched_at", "accepted_at", "en_route_at", "on_site_at", "resolved_at", "closed_at"):
        assert o[stamp] is not None
    timeline = s.get_order(oid)["timeline"]
    assert [e["type"] for e in timeline if e["actor"] in ("w-001", "dispatcher")] == [
        "accept", "en_route", "on_site", "resolve", "close"]
    assert timeline[-1]["note"] == "resident thanked the team"


def test_illegal_transition_is_refused_with_a_clear_message(make_runtime) -> None:
    rt, _clock, oid = one_order(make_runtime)
    with pytest.raises(IllegalTransition, match=f"order {oid} is dispatched; resolve needs on_site"):
        rt.service.resolve(oid, "w-001")
    with pytest.raises(IllegalTransition, match="evaluation must be an integer 1-5"):
        rt.service.close(oid, "w-001", 9, "true_event")
    with pytest.raises(NotFound, match="order 999 not found"):
        rt.service.accept(999, "w-001")
    assert rt.service.get_order(oid)["status"] == "dispatched"


def test_reassign_gives_the_order_to_another_worker_and_tells_both(make_runtime) -> None:
    rt, _clock, oid = one_order(make_runtime)
    rt.service.accept(oid, "w-001")
    o = rt.service.reassign(oid, "dispatcher", "w-003", "w-001 is sick")
    assert (o["status"], o["assignee"], o["accepted_at"]) == ("dispatched", "w-003", None)
    assert rt.service.get_worker("w-003")["load"] == 1
    assert rt.service.get_worker("w-001")["load"] == 0


def test_cancel_stops_deadlines(make_runtime) -> None:
    rt, _clock, oid = one_order(make_runtime)
    rt.service.cancel(oid, "dispatcher", "test alarm")
    assert rt.scheduler.run_due(1_732_233_600.0 + 3600) == 0
    assert rt.service.get_order(oid)["status"] == "cancelled"
