"""Simulated workers: accept after a delay, travel at their speed, report, resolve; or do not answer."""

import orjson

from simulators.api_client import ApiError
from simulators.scenario import WorkersSpec
from simulators.workers import WorkerSim, haversine_m


class FakeApi:
    def __init__(self, conflict: bool = False):
        self.calls: list[tuple] = []
        self.conflict = conflict

    def act(self, worker_id, order_id, action, note=""):
        if action == "accept" and self.conflict:
            raise ApiError(409, "w-002 accepted first")
        self.calls.append((action, worker_id, order_id))

    def location(self, worker_id, lat, lon):
        self.calls.append(("location", worker_id, round(lat, 5), round(lon, 5)))


def _order(status="dispatched", assignee="w-001", lat=29.5700, lon=106.5520):
    return orjson.dumps({"event": "dispatched", "order": {"id": 7, "status": status, "assignee": assignee,
                                                          "device_id": "wb-0001", "lat": lat, "lon": lon}})


def _run(sim, until, step=1.0, t=0.0):
    while t <= until:
        sim.tick(t)
        t += step


def test_worker_accepts_travels_arrives_and_resolves(small_city):
    spec = WorkersSpec(accept_delay=(10, 10), travel_speed_kmh=18, no_answer_probability=0, on_site_time=(60, 60),
                       location_every=15)
    api = FakeApi()
    sim = WorkerSim(small_city, spec, api, seed=1)
    sim.on_message("workers/w-001/orders", _order())
    sim.on_message("workers/w-001/orders", _order())  # a re-notification is not a second trip
    sim.on_message("workers/w-002/orders", _order())  # not the assignee: only the assignee goes
    _run(sim, 1200)
    actions = [c[0] for c in api.calls]
    assert actions[:2] == ["accept", "en-route"] and actions[-2:] == ["on-site", "resolve"]
    assert actions.count("accept") == 1 and all(c[1] == "w-001" for c in api.calls)
    steps = {s["step"]: s["at_ms"] / 1000 for s in sim.timeline}
    assert steps["accepted"] == 10.0
    home = (float(small_city.workers.lat[0]), float(small_city.workers.lon[0]))
    travel = haversine_m(*home, 29.57, 106.552) * 1.3 / 5.0  # 18 km/h = 5 m/s
    assert abs(steps["on_site"] - 10 - travel) <= 1.0
    assert steps["resolved"] - steps["on_site"] == 60
    last = [c for c in api.calls if c[0] == "location"][-1]
    assert last[2:] == (29.57, 106.552)  # the last location report is the destination


def test_worker_who_never_answers_and_a_lost_race(small_city):
    silent = WorkerSim(small_city, WorkersSpec(no_answer_probability=1.0), FakeApi(), seed=1)
    silent.on_message("workers/w-001/orders", _order())
    _run(silent, 300)
    assert silent.api.calls == [] and silent.counts["not_answered"] == 1
    late = WorkerSim(small_city, WorkersSpec(no_answer_probability=0.0), FakeApi(conflict=True), seed=1)
    late.on_message("workers/w-001/orders", _order())
    late.on_message("workers/w-001/orders", b"not json")
    _run(late, 300)
    assert late.counts["accept_conflict"] == 1 and late.counts["bad_order_message"] == 1
    assert late.api.calls == []
