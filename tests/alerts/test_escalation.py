"""Deadlines escalate unaccepted orders along the ladder, on time, also across a restart."""

from __future__ import annotations

import threading
import time

from alerts.errors import Conflict
from core.clock import ManualClock
from tests.alerts.helpers import T0, alert, one_order, submit


def _escalations(rt, oid: int) -> list[dict]:
    return [e for e in rt.service.get_order(oid)["timeline"] if e["type"] == "escalated"]


def test_unaccepted_red_order_escalates_after_60_s(make_runtime) -> None:
    rt, clock, oid = one_order(make_runtime)
    clock.set(T0 + 59)
    rt.scheduler.run_due()
    assert _escalations(rt, oid) == []  # not yet: red accept-by is 60 s
    clock.set(T0 + 60)
    rt.scheduler.run_due()
    [first] = _escalations(rt, oid)
    assert first["data"]["step"] == "next_worker" and first["at"].startswith("2024-11-22T00:01:00.000")
    o = rt.service.get_order(oid)
    assert o["assignee"] == first["data"]["to"] != "w-001" and o["status"] == "dispatched"
    assert any(e["type"] == "renotified" for e in o["timeline"]), "unaccepted orders are notified again"


def test_unaccepted_orange_order_climbs_the_whole_ladder(make_runtime) -> None:
    smoke = alert("sm-0003", kind="smoke", grid_id="g-002", rule="smoke.high", severity="orange")
    rt, clock, oid = one_order(make_runtime, smoke)
    assert rt.service.list_department_calls(order_id=oid) == []  # rules call fire-119 for red only
    steps = []
    for t in (300, 600, 900, 1200, 1500):
        clock.set(T0 + t)
        rt.scheduler.run_due()
        steps.append(_escalations(rt, oid)[-1]["data"]["step"])
    assert steps == ["next_worker", "supervisor", "command_center", "departments", "renotify"]
    assert [c["dept_id"] for c in rt.service.list_department_calls(order_id=oid)] == ["fire-119"]


def test_accepting_stops_the_accept_clock(make_runtime) -> None:
    rt, clock, oid = one_order(make_runtime)
    clock.set(T0 + 20)
    rt.service.accept(oid, "w-001")
    clock.set(T0 + 200)
    rt.scheduler.run_due()
    o = rt.service.get_order(oid)
    assert _escalations(rt, oid) == []
    assert o["assignee"] == "w-001"
    clock.set(T0 + 301)
    rt.scheduler.run_due()
    overdue = [e for e in rt.service.get_order(oid)["timeline"] if e["type"] == "overdue"]
    assert overdue and "not on site within 300 s" in overdue[0]["note"]


def test_restart_in_the_middle_of_an_escalation_resumes_on_time(make_runtime) -> None:
    clock = ManualClock(T0)
    first = make_runtime(clock)
    submit(first, alert())
    oid = first.service.list_orders()["items"][0]["id"]
    clock.set(T0 + 61)
    first.scheduler.run_due()  # step 1 (next worker) happened before the crash
    first.stop()
    clock.set(T0 + 121.5)  # the process was down when step 2 fell due (T0 + 121)
    second = make_runtime(clock)
    second.start()
    deadline = time.monotonic() + 10
    while len(_escalations(second, oid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    steps = _escalations(second, oid)
    assert [e["data"]["step"] for e in steps] == ["next_worker", "supervisor"]
    assert steps[1]["at"].startswith("2024-11-22T00:02:01.5")  # due at 00:02:01, fired within a second


def test_two_workers_accepting_at_once_one_wins_the_other_is_told(make_runtime) -> None:
    rt, _clock, oid = one_order(make_runtime)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def accept(worker: str) -> None:
        barrier.wait()
        try:
            results[worker] = rt.service.accept(oid, worker, worker_id=worker)
        except Conflict as exc:
            results[worker] = exc

    threads = [threading.Thread(target=accept, args=(w,)) for w in ("w-001", "w-002")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [w for w, r in results.items() if isinstance(r, dict)]
    losers = [r for r in results.values() if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1
    assert f"already accepted by {winners[0]}" in str(losers[0])
    assert rt.service.get_order(oid)["assignee"] == winners[0]


def test_department_must_answer_within_its_deadline(make_runtime) -> None:
    rt, clock, oid = one_order(make_runtime)
    calls = {c["dept_id"]: c for c in rt.service.list_department_calls(order_id=oid)}
    rt.service.department_accept(calls["medical-120"]["id"], "dept:medical-120", "ambulance 12 dispatched")
    rt.service.department_return(calls["traffic-police"]["id"], "dept:traffic-police", "no unit nearby")
    rt.service.accept(oid, "w-001")
    clock.set(T0 + 500)
    rt.scheduler.run_due()
    statuses = {c["dept_id"]: c["status"] for c in rt.service.list_department_calls(order_id=oid)}
    assert statuses == {"medical-120": "accepted", "traffic-police": "returned"}
    types = [e["type"] for e in rt.service.get_order(oid)["timeline"]]
    assert "department_accepted" in types and "department_returned" in types
    assert "department_overdue" not in types


def test_silent_department_becomes_overdue(make_runtime) -> None:
    rt, clock, oid = one_order(make_runtime, alert("sm-0003", kind="smoke", grid_id="g-002", rule="smoke.high"))
    rt.service.accept(oid, "w-003")
    clock.set(T0 + 121)
    rt.scheduler.run_due()
    [call] = rt.service.list_department_calls(order_id=oid)
    assert (call["dept_id"], call["status"]) == ("fire-119", "overdue")
