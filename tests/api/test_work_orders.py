"""Work orders through the HTTP API, on SQLite and the real PostgreSQL."""

from __future__ import annotations

from tests.api.conftest import auth

PROBLEM = "application/problem+json"


def test_without_a_token_the_api_answers_401_but_health_and_metrics_are_open(harness, client):
    r = client.get("/api/v1/work-orders")
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["instance"] == "/api/v1/work-orders"
    bad = client.get("/api/v1/work-orders", headers={"Authorization": "Bearer gw_not-a-real-token"})
    assert bad.status_code == 401 and "unknown or revoked" in bad.json()["detail"]
    assert client.get("/health").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_a_worker_sees_only_its_own_orders(harness, client):
    mine = harness.red_order("wb-0001")
    other = harness.red_order("sm-0003")
    assert mine["assignee"] == "w-001" and other["assignee"] != "w-001"
    listed = client.get("/api/v1/work-orders", headers=auth(harness, "worker")).json()["items"]
    assert {o["assignee"] for o in listed} == {"w-001"}
    assert mine["id"] in {o["id"] for o in listed} and other["id"] not in {o["id"] for o in listed}
    r = client.get(f"/api/v1/work-orders/{other['id']}", headers=auth(harness, "worker"))
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert client.post(f"/api/v1/work-orders/{other['id']}/accept", headers=auth(harness, "worker")).status_code == 403
    assert client.get("/api/v1/work-orders/999999", headers=auth(harness, "admin")).status_code == 404


def test_the_worker_carries_an_order_through_and_the_dispatcher_closes_it(harness, client):
    order = harness.red_order("wb-0001")
    url, worker = f"/api/v1/work-orders/{order['id']}", auth(harness, "worker")
    for action, status in (("accept", "accepted"), ("en-route", "en_route"), ("on-site", "on_site"),
                           ("resolve", "resolved")):
        r = client.post(f"{url}/{action}", headers=worker, json={"note": f"{action} from the phone"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
    assert client.post(f"{url}/close", headers=worker, json={"evaluation": 5, "closure_code": "true_event"}
                       ).status_code == 403
    r = client.post(f"{url}/close", headers=auth(harness, "dispatcher"),
                    json={"evaluation": 5, "closure_code": "true_event", "note": "resident thanked the team"})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["evaluation"] == 5
    detail = client.get(url, headers=auth(harness, "admin")).json()
    types = [e["type"] for e in detail["timeline"]]
    assert types[0] == "created" and types[-1] == "close"
    assert {"accept", "en_route", "on_site", "resolve"} <= set(types)
    assert any(e["actor"] == "worker:w-001" and e["note"] == "accept from the phone" for e in detail["timeline"])
    assert detail["place"] == "Wang Jianguo (69)"


def test_illegal_and_conflicting_transitions_are_409_problems(harness, client):
    order = harness.red_order("wb-0001")
    url, worker = f"/api/v1/work-orders/{order['id']}", auth(harness, "worker")
    r = client.post(f"{url}/resolve", headers=worker)
    assert r.status_code == 409 and r.json()["type"].endswith("/illegal-transition")
    assert client.post(f"{url}/accept", headers=worker).status_code == 200
    again = client.post(f"{url}/accept", headers=worker)
    assert again.status_code == 409 and "already accepted by w-001" in again.json()["detail"]


def test_reassign_escalate_and_cancel_are_for_dispatchers(harness, client):
    order = harness.red_order("wb-0001")
    url = f"/api/v1/work-orders/{order['id']}"
    assert client.post(f"{url}/reassign", headers=auth(harness, "worker"), json={"worker_id": "w-002"}
                       ).status_code == 403
    body = {"worker_id": "w-002", "note": "nearer"}
    r = client.post(f"{url}/reassign", headers=auth(harness, "dispatcher"), json=body)
    assert r.status_code == 200 and r.json()["assignee"] == "w-002"
    assert client.get(url, headers=auth(harness, "worker")).status_code == 403  # no longer w-001's
    assert client.get(url, headers=auth(harness, "worker2")).status_code == 200
    assert client.post(f"{url}/reassign", headers=auth(harness, "admin"), json={"worker_id": "nobody"}
                       ).status_code == 404
    assert client.post(f"{url}/escalate", headers=auth(harness, "dispatcher")).status_code == 200
    assert client.post(f"{url}/cancel", headers=auth(harness, "dispatcher2")).status_code == 403  # other town
    r = client.post(f"{url}/cancel", headers=auth(harness, "dispatcher"), json={"note": "raised in error"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_filters_and_paging(harness, client):
    harness.red_order("rg-0001")
    admin = auth(harness, "admin")
    reds = client.get("/api/v1/work-orders?severity=red&status=open&limit=2", headers=admin).json()
    assert len(reds["items"]) <= 2 and reds["limit"] == 2
    assert all(o["severity"] == "red" and o["status"] in ("dispatched", "accepted") for o in reds["items"])
    second = client.get("/api/v1/work-orders?severity=red&status=open&limit=2&offset=2", headers=admin).json()
    assert not {o["id"] for o in reds["items"]} & {o["id"] for o in second["items"]}
    by_device = client.get("/api/v1/work-orders?device_id=rg-0001", headers=admin).json()["items"]
    assert by_device and {o["device_id"] for o in by_device} == {"rg-0001"}
    assert {o["grid_id"] for o in client.get("/api/v1/work-orders?grid_id=g-003", headers=admin).json()["items"]} == {
        "g-003"}
    bad = client.get("/api/v1/work-orders?severity=purple", headers=admin)
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert bad.json()["errors"][0]["loc"] == ["query", "severity"]


def test_dispatchers_see_their_town_and_departments_what_they_were_pulled_into(harness, client):
    t01 = harness.red_order("wb-0001")  # medical-120 and traffic-police are called
    t02 = harness.red_order("wb-0004")
    d1 = client.get("/api/v1/work-orders?limit=1000", headers=auth(harness, "dispatcher")).json()["items"]
    assert t01["id"] in {o["id"] for o in d1} and {o["town_id"] for o in d1} == {"t-01"}
    assert client.get(f"/api/v1/work-orders/{t02['id']}", headers=auth(harness, "dispatcher")).status_code == 403
    assert client.get(f"/api/v1/work-orders/{t01['id']}", headers=auth(harness, "department")).status_code == 200
    assert client.get(f"/api/v1/work-orders/{t01['id']}", headers=auth(harness, "department2")).status_code == 403
    dept = auth(harness, "department")
    assert client.post(f"/api/v1/work-orders/{t01['id']}/accept", headers=dept).status_code == 403
    calls = client.get("/api/v1/departments/medical-120/calls?status=called", headers=auth(harness, "department"))
    call = next(c for c in calls.json() if c["order_id"] == t01["id"])
    assert client.get("/api/v1/departments/medical-120/calls", headers=auth(harness, "department2")).status_code == 403
    r = client.post(f"/api/v1/departments/medical-120/calls/{call['id']}/accept",
                    headers=auth(harness, "department"), json={"note": "ambulance 7 on its way"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    again = client.post(f"/api/v1/departments/medical-120/calls/{call['id']}/return", headers=dept)
    assert again.status_code == 409
    timeline = client.get(f"/api/v1/work-orders/{t01['id']}", headers=auth(harness, "admin")).json()["timeline"]
    assert any(e["type"] == "department_accepted" and e["actor"] == "department:medical-120" for e in timeline)


def test_a_worker_may_escalate_its_own_order_only(harness, client):
    order = harness.red_order("wb-0001")
    url = f"/api/v1/work-orders/{order['id']}/escalate"
    for role in ("worker2", "department", "dispatcher2"):
        assert client.post(url, headers=auth(harness, role)).status_code == 403
    r = client.post(url, headers=auth(harness, "worker"), json={"note": "need a second pair of hands"})
    assert r.status_code == 200
    timeline = client.get(f"/api/v1/work-orders/{order['id']}", headers=auth(harness, "admin")).json()["timeline"]
    assert any(e["type"] == "escalated" and e["actor"] == "worker:w-001" for e in timeline)


def test_staff_add_workers_and_a_phone_reports_duty_and_place(harness, client):
    body = {"id": f"w-new-{harness.url[:4]}", "name": "Tang Yu", "grid_id": "g-002", "skills": ["medical"],
            "lat": 29.566, "lon": 106.556}
    assert client.post("/api/v1/workers", headers=auth(harness, "worker"), json=body).status_code == 403
    assert client.post("/api/v1/workers", headers=auth(harness, "dispatcher2"), json=body).status_code == 403
    r = client.post("/api/v1/workers", headers=auth(harness, "dispatcher"), json=body)
    assert r.status_code == 201 and r.json()["town_id"] == "t-01" and r.json()["lat"] == 29.566
    assert client.post("/api/v1/workers", headers=auth(harness, "admin"), json=body).status_code == 409
    unknown_grid = {**body, "id": "w-x", "grid_id": "g-999"}
    assert client.post("/api/v1/workers", headers=auth(harness, "admin"), json=unknown_grid).status_code == 404
    r = client.patch(f"/api/v1/workers/{body['id']}", headers=auth(harness, "admin"), json={"skills": ["fire"]})
    assert r.json()["skills"] == ["fire"]
    worker = auth(harness, "worker")
    assert client.put("/api/v1/workers/w-001/duty", headers=worker, json={"on_duty": False}).json()["on_duty"] is False
    assert client.put("/api/v1/workers/w-001/duty", headers=worker, json={"on_duty": True}).json()["on_duty"] is True
    moved = client.put("/api/v1/workers/w-001/location", headers=worker, json={"lat": 29.5641, "lon": 106.5521})
    assert moved.status_code == 200 and moved.json()["lat"] == 29.5641
    assert client.put("/api/v1/workers/w-002/location", headers=worker, json={"lat": 1, "lon": 1}).status_code == 403
    assert client.put("/api/v1/workers/w-001/location", headers=worker, json={"lat": 91, "lon": 1}).status_code == 422


def test_towns_and_grids_show_open_orders_by_severity_and_sla(harness, client):
    order = harness.red_order("wb-0001")
    client.post(f"/api/v1/work-orders/{order['id']}/accept", headers=auth(harness, "worker"))
    town = client.get("/api/v1/towns/t-01", headers=auth(harness, "dispatcher")).json()
    assert town["grids"] == ["g-001", "g-002", "g-003"] and town["open_orders"]["red"] >= 1
    stages = {s["stage"]: s for s in town["sla"]}
    assert stages["dispatch_accept"]["count"] >= 1 and stages["dispatch_accept"]["p50_s"] >= 0
    grids = client.get("/api/v1/grids", headers=auth(harness, "dispatcher")).json()
    assert {g["id"] for g in grids} == {"g-001", "g-002", "g-003"}  # the dispatcher's town only
    device = client.get("/api/v1/devices/wb-0001", headers=auth(harness, "dispatcher")).json()
    assert device["place"] == "Wang Jianguo (69)" and device["open_alerts"][0]["severity"] == "red"


def test_a_red_orders_backup_sees_it_and_can_take_it_but_not_act_for_the_assignee(harness, client):
    order = harness.red_order("wb-0001")
    assert (order["assignee"], order["backup"]) == ("w-001", "w-002")
    url, backup = f"/api/v1/work-orders/{order['id']}", auth(harness, "worker2")
    listed = client.get("/api/v1/work-orders", headers=backup).json()["items"]
    assert order["id"] in {o["id"] for o in listed}
    assert client.post(f"{url}/en-route", headers=backup).status_code == 403  # not the assignee's step to take
    r = client.post(f"{url}/accept", headers=backup, json={"note": "w-001 is not answering, I am close"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["assignee"]) == ("accepted", "w-002")
    assert client.post(f"{url}/en-route", headers=backup).status_code == 200
    assert client.post(f"{url}/on-site", headers=auth(harness, "worker")).status_code == 403  # w-001 lost it


def test_a_dispatcher_sees_and_answers_department_calls_of_its_own_town_only(harness, client):
    t01 = harness.red_order("wb-0001")  # town t-01: medical-120 called
    t02 = harness.red_order("wb-0004")  # town t-02: medical-120 called too
    d1 = auth(harness, "dispatcher")  # dispatches t-01
    seen = {c["order_id"] for c in client.get("/api/v1/departments/medical-120/calls", headers=d1).json()}
    assert t01["id"] in seen and t02["id"] not in seen
    every = client.get("/api/v1/departments/medical-120/calls", headers=auth(harness, "admin")).json()
    other_town = next(c for c in every if c["order_id"] == t02["id"])
    r = client.post(f"/api/v1/departments/medical-120/calls/{other_town['id']}/accept", headers=d1)
    assert r.status_code == 403 and "outside this dispatcher's town" in r.json()["detail"]
    mine = next(c for c in every if c["order_id"] == t01["id"])
    r = client.post(f"/api/v1/departments/medical-120/calls/{mine['id']}/accept", headers=d1,
                    json={"note": "120 confirmed by phone"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"


def test_a_dispatchers_incident_pages_are_full_pages_of_its_own_town(harness, client):
    mine = harness.red_order("wb-0001")  # t-01
    harness.red_order("wb-0004")  # t-02, newer: first in an unfiltered list
    page = client.get("/api/v1/incidents?limit=1", headers=auth(harness, "dispatcher")).json()
    assert [i["id"] for i in page["items"]] == [mine["incident_id"]]
