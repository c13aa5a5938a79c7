"""``WorkOrderService``: the only code that changes a work order.

The pipeline (via intake and escalation) and the API both call it. Each action is
checked against the pure table in ``alerts.lifecycle``, applied with a conditional
UPDATE on the order's ``version`` (optimistic locking: of two workers accepting at
once exactly one wins, the other gets ``Conflict`` naming the winner), written to
the order's timeline with actor, time and note, published on the EventBus and queued
for MQTT/webhook delivery in the same transaction.

Every method returns JSON-ready dicts (``alerts.serialize``) and raises
``NotFound``, ``IllegalTransition`` or ``Conflict``.
"""

from __future__ import annotations

from typing import Any

from alerts import escalation, queries
from alerts.errors import Conflict, IllegalTransition, NotFound
from alerts.lifecycle import CLOSURE_CODES, OPEN, STAMP, TERMINAL, next_status
from alerts.models import DepartmentCall, Worker, WorkOrder
from alerts.orders import bump, record, refresh_load
from alerts.serialize import call_dict, order_dict, worker_dict
from alerts.unit import Deps, Tx

# the deadlines an action makes moot
_CANCELS: dict[str, tuple[str, ...]] = {
    "accept": ("accept", "renotify"),
    "on_site": ("arrive",),
}


class WorkOrderService:
    """Transitions, worker state, department answers and the read queries the API needs."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # ------------------------------------------------------------ transitions

    def accept(self, order_id: int, actor: str, note: str = "", *, worker_id: str | None = None) -> dict[str, Any]:
        """The worker (``worker_id``, default the assignee) takes the order; first one wins."""
        return self._act(order_id, "accept", actor, note, worker_id=worker_id)

    def en_route(self, order_id: int, actor: str, note: str = "") -> dict[str, Any]:
        """The assignee is on the way."""
        return self._act(order_id, "en_route", actor, note)

    def on_site(self, order_id: int, actor: str, note: str = "") -> dict[str, Any]:
        """The assignee has arrived (stops the arrive-by clock)."""
        return self._act(order_id, "on_site", actor, note)

    def resolve(self, order_id: int, actor: str, note: str = "") -> dict[str, Any]:
        """The situation is handled on site."""
        return self._act(order_id, "resolve", actor, note)

    def close(
        self, order_id: int, actor: str, evaluation: int, closure_code: str, note: str = ""
    ) -> dict[str, Any]:
        """Close with the resident's evaluation (1-5) and a closure code."""
        if not isinstance(evaluation, int) or not 1 <= evaluation <= 5:
            raise IllegalTransition(f"evaluation must be an integer 1-5, got {evaluation!r}")
        if closure_code not in CLOSURE_CODES:
            raise IllegalTransition(f"closure_code must be one of {', '.join(CLOSURE_CODES)}, got {closure_code!r}")
        values = {"evaluation": evaluation, "closure_code": closure_code}
        return self._act(order_id, "close", actor, note, values=values)

    def cancel(self, order_id: int, actor: str, note: str = "") -> dict[str, Any]:
        """Withdraw an open order (e.g. raised in error)."""
        return self._act(order_id, "cancel", actor, note)

    def reassign(self, order_id: int, actor: str, worker_id: str, note: str = "") -> dict[str, Any]:
        """Give the order to another worker; it is dispatched to them afresh."""
        return self._act(order_id, "reassign", actor, note, worker_id=worker_id)

    def escalate(self, order_id: int, actor: str, note: str = "") -> dict[str, Any]:
        """Take the next step of the escalation ladder now (as a missed deadline would)."""
        with self.deps.tx() as tx:
            order = self._get(tx, order_id)
            next_status("escalate", order.status, order.id)
            escalation.ladder_step(self.deps, tx, order, actor, note)
            return order_dict(order)

    def _act(
        self, order_id: int, action: str, actor: str, note: str, *,
        worker_id: str | None = None, values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self.deps.tx() as tx:
            order = self._get(tx, order_id)
            if action == "accept" and order.status in OPEN - {"created", "dispatched"}:
                raise Conflict(f"order {order.id} was already accepted by {order.assignee}", by=order.assignee)
            new = next_status(action, order.status, order.id)
            vals: dict[str, Any] = dict(values or {})
            previous = order.assignee
            if worker_id is not None:
                self._worker(tx, worker_id)
                vals["assignee"] = worker_id
            if action == "reassign":
                vals.update(accepted_at=None, en_route_at=None, escalation_level=0)
            if STAMP.get(new) and (new != order.status or action == "reassign"):
                vals[STAMP[new]] = tx.now
            bump(tx, order, {"status": new, **vals}, action)
            data = {"from": previous, "to": worker_id} if action == "reassign" else None
            record(tx, order, action, actor, note, data)
            self._after(tx, order, action, previous)
            return order_dict(order)

    def _after(self, tx: Tx, order: WorkOrder, action: str, previous: str | None) -> None:
        if order.status in TERMINAL:
            escalation.cancel_deadlines(tx, order.id)
        elif action in _CANCELS:
            escalation.cancel_deadlines(tx, order.id, _CANCELS[action])
        if action == "reassign":
            escalation.cancel_deadlines(tx, order.id, ("accept", "renotify", "arrive"))
            escalation.plan(self.deps, tx, order)
        refresh_load(tx, {previous, order.assignee})
        if action == "reassign":  # the new assignee gets the order; the previous one is told it went
            self.deps.fanout.order(tx, order, "dispatched")
            if previous and previous != order.assignee:
                self.deps.fanout.worker(tx, order, previous, "reassigned")
            return
        event = "cancelled" if action == "cancel" else "updated"
        self.deps.fanout.order(tx, order, event, extra=[previous] if previous != order.assignee else [])

    def _get(self, tx: Tx, order_id: int) -> WorkOrder:
        order = tx.s.get(WorkOrder, order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order

    def _worker(self, tx: Tx, worker_id: str) -> Worker:
        w = tx.s.get(Worker, worker_id)
        if w is None:
            raise NotFound(f"worker {worker_id} not found")
        return w

    # ------------------------------------------------------------ departments

    def department_accept(self, call_id: int, actor: str, note: str = "") -> dict[str, Any]:
        """The department takes the call (stops its deadline)."""
        return self._answer(call_id, "accepted", actor, note)

    def department_return(self, call_id: int, actor: str, note: str = "") -> dict[str, Any]:
        """The department sends the call back (not theirs, or no capacity); the timeline says why."""
        return self._answer(call_id, "returned", actor, note)

    def _answer(self, call_id: int, status: str, actor: str, note: str) -> dict[str, Any]:
        with self.deps.tx() as tx:
            call = tx.s.get(DepartmentCall, call_id)
            if call is None:
                raise NotFound(f"department call {call_id} not found")
            if call.status not in ("called", "overdue"):
                raise IllegalTransition(f"department call {call_id} is {call.status}; it can no longer be answered")
            call.status, call.note = status, note
            setattr(call, f"{status}_at", tx.now)
            order = self._get(tx, call.order_id)
            escalation.cancel_deadlines(tx, order.id, ("department",), ref=str(call.id))
            record(tx, order, f"department_{status}", actor, note, {"dept_id": call.dept_id, "call_id": call.id})
            self.deps.fanout.order(tx, order, "updated")
            tx.s.flush()
            return call_dict(call)

    # ------------------------------------------------------------ workers

    def set_duty(self, worker_id: str, on_duty: bool, actor: str = "system") -> dict[str, Any]:
        """A worker goes on or off duty (off-duty workers are ranked last)."""
        return self.update_worker(worker_id, actor, on_duty=on_duty)

    def set_location(self, worker_id: str, lat: float, lon: float, actor: str = "system") -> dict[str, Any]:
        """The worker's last known position (their phone reports it)."""
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise IllegalTransition(f"location {lat},{lon} is not a WGS84 lat/lon")
        with self.deps.tx() as tx:
            w = self._worker(tx, worker_id)
            w.lat, w.lon, w.located_at, w.updated_at = lat, lon, tx.now, tx.now
            tx.s.flush()
            tx.publish("worker", worker_dict(w))
            return worker_dict(w)

    def update_worker(self, worker_id: str, actor: str = "system", **fields: Any) -> dict[str, Any]:
        """Change ``on_duty``, ``available``, ``name``, ``skills`` (list), ``grid_id`` or ``role``."""
        allowed = {"on_duty", "available", "name", "skills", "grid_id", "role"}
        unknown = set(fields) - allowed
        if unknown:
            raise IllegalTransition(f"cannot change {', '.join(sorted(unknown))} of a worker")
        with self.deps.tx() as tx:
            w = self._worker(tx, worker_id)
            _apply_worker_fields(self.deps, w, fields)
            w.updated_at = tx.now
            tx.s.flush()
            tx.publish("worker", worker_dict(w))
            return worker_dict(w)

    def create_worker(
        self, worker_id: str, name: str, grid_id: str, role: str = "worker",
        skills: list[str] | None = None, actor: str = "system",
    ) -> dict[str, Any]:
        """Add a worker who is not in workers.csv (``Conflict`` if the id exists)."""
        with self.deps.tx() as tx:
            if tx.s.get(Worker, worker_id) is not None:
                raise Conflict(f"worker {worker_id} already exists")
            w = Worker(id=worker_id, name=name, grid_id=grid_id, role=role, skills="",
                       on_duty=True, available=True, load=0, updated_at=tx.now)
            _apply_worker_fields(self.deps, w, {"skills": skills or [], "grid_id": grid_id, "role": role})
            tx.s.add(w)
            tx.s.flush()
            tx.publish("worker", worker_dict(w))
            return worker_dict(w)

    # ------------------------------------------------------------ reads (see alerts.queries)

    def list_orders(self, **filters: Any) -> dict[str, Any]:
        """``{"items": [...], "total": n}``; filters as ``alerts.queries.list_orders``."""
        with self.deps.reader() as s:
            return queries.list_orders(s, **filters)

    def get_order(self, order_id: int) -> dict[str, Any]:
        """One order with its ``timeline``, ``departments`` and ``alerts``; ``NotFound`` if absent."""
        with self.deps.reader() as s:
            return queries.get_order(s, order_id)

    def list_incidents(self, **filters: Any) -> dict[str, Any]:
        with self.deps.reader() as s:
            return queries.list_incidents(s, **filters)

    def get_incident(self, incident_id: int) -> dict[str, Any]:
        with self.deps.reader() as s:
            return queries.get_incident(s, incident_id)

    def open_alerts(self, device_id: str | None = None, grid_id: str | None = None) -> list[dict[str, Any]]:
        with self.deps.reader() as s:
            return queries.open_alerts(s, device_id=device_id, grid_id=grid_id)

    def open_counts(self, by: str = "grid") -> list[dict[str, Any]]:
        with self.deps.reader() as s:
            return queries.open_counts(s, by)

    def list_workers(self, **filters: Any) -> list[dict[str, Any]]:
        with self.deps.reader() as s:
            return queries.list_workers(s, **filters)

    def get_worker(self, worker_id: str) -> dict[str, Any]:
        with self.deps.reader() as s:
            w = s.get(Worker, worker_id)
            if w is None:
                raise NotFound(f"worker {worker_id} not found")
            return worker_dict(w)

    def list_department_calls(self, **filters: Any) -> list[dict[str, Any]]:
        with self.deps.reader() as s:
            return queries.list_department_calls(s, **filters)

    def sla(self, by: str = "grid") -> list[dict[str, Any]]:
        """Per-stage p50/p90/p99 seconds per grid or town (see ``alerts.sla``)."""
        from alerts.sla import stage_percentiles

        with self.deps.reader() as s:
            return stage_percentiles(s, by)


def _apply_worker_fields(deps: Deps, w: Worker, fields: dict[str, Any]) -> None:
    if "grid_id" in fields:
        slot = deps.city.grids.slot(fields["grid_id"])
        if slot < 0:
            raise NotFound(f"grid {fields['grid_id']} not found")
        w.grid_id, w.town_id = fields["grid_id"], str(deps.city.grids.town[slot])
    if "role" in fields and fields["role"] not in ("worker", "supervisor"):
        raise IllegalTransition(f"role must be worker or supervisor, got {fields['role']!r}")
    if "skills" in fields:
        fields = {**fields, "skills": ";".join(sorted(fields["skills"]))}
    for key in ("on_duty", "available", "name", "skills", "role"):
        if key in fields:
            setattr(w, key, fields[key])
