"""Who may do what: every endpoint against every role (401 without a token, 403 out of scope)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth

ROLES = ("admin", "issued_admin", "dispatcher", "dispatcher2", "worker", "worker2", "department", "department2")
STAFF = {"admin", "issued_admin", "dispatcher", "dispatcher2"}
ALL = set(ROLES)
T01 = {"admin", "issued_admin", "dispatcher"}  # may see town t-01 and its things

# (method, path, json body, roles answered 2xx; every other role gets 403)
MATRIX = [
    ("GET", "/api/v1/work-orders", None, ALL),
    ("GET", "/api/v1/work-orders/{order}", None, T01 | {"worker", "worker2", "department"}),  # worker2: backup
    ("GET", "/api/v1/incidents", None, STAFF),
    ("GET", "/api/v1/incidents/{incident}", None, T01),
    ("GET", "/api/v1/incidents/{incident}/alerts", None, T01),
    ("GET", "/api/v1/devices", None, STAFF),
    ("GET", "/api/v1/devices/wb-0001", None, T01),
    ("GET", "/api/v1/grids", None, STAFF),
    ("GET", "/api/v1/grids/g-001", None, T01),
    ("GET", "/api/v1/towns", None, STAFF),
    ("GET", "/api/v1/towns/t-01", None, T01),
    ("GET", "/api/v1/sla-targets", None, ALL),
    ("GET", "/api/v1/workers", None, STAFF),
    ("GET", "/api/v1/workers/w-001", None, T01 | {"worker"}),
    ("PATCH", "/api/v1/workers/w-001", {"name": "Liu Min"}, T01),
    ("PUT", "/api/v1/workers/w-001/duty", {"on_duty": True}, T01 | {"worker"}),
    ("PUT", "/api/v1/workers/w-001/location", {"lat": 29.564, "lon": 106.552}, T01 | {"worker"}),
    ("GET", "/api/v1/departments", None, STAFF | {"department", "department2"}),
    ("GET", "/api/v1/departments/medical-120/calls", None, STAFF | {"department"}),
    ("GET", "/api/v1/tokens", None, {"admin", "issued_admin"}),
    ("GET", "/api/v1/me", None, ALL),
]
# endpoints with side effects, covered by their own tests (test_work_orders, test_identity, test_events)
ELSEWHERE = {
    ("POST", "/api/v1/work-orders/{order_id}/" + a)
    for a in ("accept", "en-route", "on-site", "resolve", "close", "cancel", "reassign", "escalate")
} | {
    ("POST", "/api/v1/workers"), ("POST", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens/{token_id}"),
    ("POST", "/api/v1/departments/{dept_id}/calls/{call_id}/accept"),
    ("POST", "/api/v1/departments/{dept_id}/calls/{call_id}/return"), ("GET", "/api/v1/events"),
}


@pytest.fixture(scope="module")
def order(harness):
    return harness.red_order("wb-0001")


def _fill(path: str, order: dict) -> str:
    return path.format(order=order["id"], incident=order["incident_id"])


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_every_role_gets_what_its_scope_allows(harness, client: TestClient, order, method, path, body, allowed):
    url = _fill(path, order)
    assert client.request(method, url, json=body).status_code == 401
    for role in ROLES:
        r = client.request(method, url, json=body, headers=auth(harness, role))
        expected = "2xx" if role in allowed else 403
        got = "2xx" if 200 <= r.status_code < 300 else r.status_code
        assert got == expected, f"{role}: {method} {url} -> {r.status_code} {r.text[:200]}"
        if got == 403:
            assert r.headers["content-type"] == "application/problem+json"


def test_the_matrix_covers_every_documented_endpoint(client: TestClient):
    documented = {
        (m.upper(), p) for p, ops in client.get("/openapi.json").json()["paths"].items() for m in ops
        if p.startswith("/api/v1")
    }
    names = {"{order}": "{order_id}", "{incident}": "{incident_id}", "wb-0001": "{device_id}", "g-001": "{grid_id}",
             "t-01": "{town_id}", "w-001": "{worker_id}", "medical-120": "{dept_id}"}
    covered = set()
    for method, path, _, _ in MATRIX:
        for k, v in names.items():
            path = path.replace(k, v)
        covered.add((method, path))
    assert documented - covered - ELSEWHERE == set()
