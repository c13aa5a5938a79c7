"""Property tests of the work-order state machine: random actions never reach an illegal state."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts import lifecycle
from alerts.errors import AlertsError, IllegalTransition
from alerts.lifecycle import ACTIONS, STATUSES, TERMINAL, allowed, next_status
from tests.alerts.helpers import alert, submit

ACTION = st.sampled_from(ACTIONS)


@given(st.lists(ACTION, max_size=30))
def test_pure_table_never_leaves_the_known_states(actions: list[str]) -> None:
    status = "created"
    for action in actions:
        if allowed(action, status):
            status = next_status(action, status)
        else:
            try:
                next_status(action, status, 7)
            except IllegalTransition as exc:
                assert str(exc).startswith(f"order 7 is {status}; {action} needs ")
            else:
                raise AssertionError("an illegal move was allowed")
        assert status in STATUSES
    if status in TERMINAL:
        assert not any(allowed(a, status) for a in ACTIONS), "closed and cancelled are final"


def _apply(service, action: str, oid: int) -> dict:
    calls = {
        "dispatch": lambda: service.reassign(oid, "dispatcher", "w-001"),
        "accept": lambda: service.accept(oid, "w-003", worker_id="w-003"),
        "en_route": lambda: service.en_route(oid, "w-003"),
        "on_site": lambda: service.on_site(oid, "w-003"),
        "resolve": lambda: service.resolve(oid, "w-003"),
        "close": lambda: service.close(oid, "resident", 4, "true_event"),
        "cancel": lambda: service.cancel(oid, "dispatcher"),
        "reassign": lambda: service.reassign(oid, "dispatcher", "w-001"),
        "escalate": lambda: service.escalate(oid, "dispatcher"),
    }
    return calls[action]()


def test_random_action_sequences_on_real_orders(make_runtime) -> None:
    rt = make_runtime()
    counter = itertools.count()

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(ACTION, max_size=10))
    def run(actions: list[str]) -> None:
        submit(rt, alert(rule=f"wearable.case{next(counter)}"))
        oid = rt.service.list_orders(limit=1)["items"][0]["id"]
        status = rt.service.get_order(oid)["status"]
        for action in actions:
            effective = "reassign" if action == "dispatch" else action
            try:
                status_after = _apply(rt.service, action, oid)["status"]
            except AlertsError:
                assert not allowed(effective, status) or effective == "accept", (action, status)
                continue
            assert allowed(effective, status), f"{action} from {status} should have been refused"
            assert status_after == next_status(effective, status)
            status = status_after
        o = rt.service.get_order(oid)
        assert o["status"] == status
        assert all(e["actor"] and e["at"] for e in o["timeline"])

    run()
    listed = rt.service.list_orders(limit=1000)
    assert listed["total"] == len(listed["items"]) == next(counter)
    assert all(o["status"] in lifecycle.STATUSES for o in listed["items"])
