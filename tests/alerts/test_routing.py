"""Routing: the grid's nearest available worker with the right skill, explained; then neighbours."""

from __future__ import annotations

from core.clock import ManualClock
from tests.alerts.helpers import T0, alert, submit


def _dispatch_note(rt, oid: int) -> str:
    return next(e["note"] for e in rt.service.get_order(oid)["timeline"] if e["type"] == "dispatched")


def test_nearest_medical_worker_of_the_grid_wins_and_the_choice_is_explained(make_runtime) -> None:
    rt = make_runtime()
    rt.service.create_worker("w-009", "Tang Jie", "g-001", skills=["medical"])
    rt.service.set_location("w-009", 29.5633, 106.5518)  # right next to wb-0001
    submit(rt, alert("wb-0001"))
    [o] = rt.service.list_orders()["items"]
    assert o["assignee"] == "w-009"
    assert _dispatch_note(rt, o["id"]) == "w-009: same grid, medical, 15 m (~1 min), idle"


def test_off_duty_and_busy_workers_are_passed_over(make_runtime) -> None:
    rt = make_runtime()
    rt.service.set_duty("w-001", False)
    submit(rt, alert("wb-0001"))
    [o] = rt.service.list_orders()["items"]
    assert o["assignee"] == "w-002"  # same grid on duty beats skill
    assert _dispatch_note(rt, o["id"]).startswith("w-002: same grid, no medical skill, ")


def test_neighbouring_grid_when_nobody_in_the_grid_can_go(make_runtime) -> None:
    rt = make_runtime()
    for w in ("w-001", "w-002"):
        rt.service.update_worker(w, available=False)
    submit(rt, alert("wb-0001"))
    [o] = rt.service.list_orders()["items"]
    assert o["assignee"] == "w-003"  # g-002 is the nearest grid centre with a medical worker
    assert _dispatch_note(rt, o["id"]).startswith("w-003: neighbour grid g-002, medical, ")


def test_load_breaks_ties_and_is_counted(make_runtime) -> None:
    rt = make_runtime()
    submit(rt, alert("wb-0001"), alert("wb-0002", rule="wearable.fall"))
    loads = {w["id"]: w["load"] for w in rt.service.list_workers(grid_id="g-001")}
    assert loads["w-001"] == 2 and loads["s-001"] == 0


def test_order_nobody_could_take_is_dispatched_once_someone_can(make_runtime) -> None:
    clock = ManualClock(T0)
    rt = make_runtime(clock)
    for w in rt.service.list_workers():
        if w["role"] == "worker":
            rt.service.update_worker(w["id"], on_duty=False)
    rt.service.create_worker("w-100", "Night Shift", "g-004", skills=["water"])  # on duty, far, unskilled
    rt.service.update_worker("w-100", available=False)
    submit(rt, alert("wb-0004", grid_id="g-004"))
    [o] = rt.service.list_orders()["items"]
    assert o["status"] == "dispatched" and o["assignee"] == "w-005"  # off duty, but the best there is
    note = next(e["note"] for e in rt.service.get_order(o["id"])["timeline"] if e["type"] == "dispatched")
    assert note.endswith("off duty (nobody on duty and available)")
    rt.service.update_worker("w-100", available=True)
    clock.set(T0 + 60)
    rt.scheduler.run_due()
    assert rt.service.get_order(o["id"])["assignee"] == "w-100"
