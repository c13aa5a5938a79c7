"""Alerts group into incidents: one building, one river, one device+rule; storms fold."""

from __future__ import annotations

from tests.alerts.helpers import T0, alert, submit


def test_two_smoke_sensors_in_one_building_make_one_incident_and_one_order(make_runtime) -> None:
    rt = make_runtime()
    submit(rt, alert("sm-0001", kind="smoke", rule="smoke.high"), alert("sm-0002", kind="smoke", rule="smoke.high"))
    [order] = rt.service.list_orders()["items"]
    incident = rt.service.get_incident(order["incident_id"])
    assert sorted(a["device_id"] for a in incident["alerts"]) == ["sm-0001", "sm-0002"]
    assert len(incident["orders"]) == 1
    assert order["assignee"] == "w-002"  # g-001's fire-skilled worker


def test_smoke_in_another_grid_is_another_incident(make_runtime) -> None:
    rt = make_runtime()
    submit(rt, alert("sm-0001", kind="smoke", rule="smoke.high"),
           alert("sm-0003", kind="smoke", grid_id="g-002", rule="smoke.high"))
    assert rt.service.list_orders()["total"] == 2


def test_gauges_along_one_river_make_one_incident(make_runtime) -> None:
    rt = make_runtime()
    submit(rt, alert("rg-0001", kind="river_gauge", grid_id="g-003", rule="river.level", severity="orange"))
    submit(rt, alert("rg-0002", kind="river_gauge", grid_id="g-003", rule="river.level", severity="red",
                     at=T0 + 60))
    [order] = rt.service.list_orders()["items"]
    assert order["severity"] == "red"  # raised by the second gauge
    o = rt.service.get_order(order["id"])
    assert "severity_raised" in [e["type"] for e in o["timeline"]]
    assert [c["dept_id"] for c in o["departments"]] == ["water-authority"]  # river red -> water authority


def test_resolved_alerts_are_recorded_and_resolve_the_incident(make_runtime) -> None:
    rt = make_runtime()
    submit(rt, alert("wb-0002", severity="orange", rule="wearable.spo2_low"))
    assert len(rt.service.open_alerts(device_id="wb-0002")) == 1
    submit(rt, alert("wb-0002", severity="orange", rule="wearable.spo2_low", state="resolved", at=T0 + 300))
    assert rt.service.open_alerts(device_id="wb-0002") == []
    [order] = rt.service.list_orders()["items"]
    incident = rt.service.get_incident(order["incident_id"])
    assert incident["status"] == "resolved"
    assert [a["state"] for a in incident["alerts"]] == ["firing", "resolved"]
    assert order["status"] == "dispatched"  # the order stays for the worker to close


def test_blue_alerts_are_evidence_only(make_runtime) -> None:
    rt = make_runtime()
    submit(rt, alert("mt-0001", kind="meter", grid_id="g-002", rule="meter.load", severity="blue"))
    assert rt.service.list_orders()["total"] == 0
    assert rt.service.list_incidents()["items"][0]["device_id"] == "mt-0001"


def test_storm_folds_non_red_and_still_dispatches_every_red(make_runtime) -> None:
    rt = make_runtime()
    storm = [alert("mt-0001", kind="meter", grid_id="g-002", rule="meter.load", severity="yellow", at=T0 + i)
             for i in range(300)]
    reds = [alert(d, grid_id=g) for d, g in (("wb-0001", "g-001"), ("wb-0003", "g-002"), ("wb-0004", "g-004"))]
    rt.intake.submit(storm[:150] + reds[:1] + storm[150:] + reds[1:])
    rt.intake.drain()
    orders = rt.service.list_orders()["items"]
    assert [o["severity"] for o in orders] == ["red", "red", "red", "yellow"]
    assert all(o["status"] == "dispatched" for o in orders)
    meter = rt.service.get_incident(orders[-1]["incident_id"])
    assert meter["alert_count"] == 300


def test_red_alert_survives_a_database_hiccup(make_runtime) -> None:
    rt = make_runtime()
    handle, calls = rt.intake.correlator.handle, []

    def flaky(tx, ev):
        calls.append(ev)
        if len(calls) <= 2:
            raise ConnectionError("server closed the connection unexpectedly")
        return handle(tx, ev)

    rt.intake.correlator.handle = flaky
    submit(rt, alert("wb-0001"))
    [order] = rt.service.list_orders()["items"]
    assert (order["severity"], order["status"], order["assignee"]) == ("red", "dispatched", "w-001")
    assert rt.intake.failed._value.get() == 0
