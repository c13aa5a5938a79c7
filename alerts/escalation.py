"""Durable deadlines and the escalation ladder.

Deadlines are rows (``deadlines``), not timers in memory: ``run_due(now)`` fires every
pending deadline whose time has come, each in its own transaction, marking it fired
with a conditional UPDATE so two schedulers never fire one twice. A restart simply
finds the rows again. Per severity (``[escalation.<severity>]``):

* ``accept``: not accepted in time -> the next ladder step (next worker, grid
  supervisor, town command center, departments), then again ``accept_s`` later;
* ``renotify``: while unaccepted, the assignee (and backup) are told again;
* ``arrive``: not on site in time -> overdue: supervisor and command center told;
* ``department``: a department has not answered its call -> overdue, told again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update

from alerts.models import Deadline, DepartmentCall, WorkOrder
from alerts.orders import bump, record, refresh_load, tried_workers
from alerts.unit import Deps, Tx
from core.severity import Severity

log = logging.getLogger(__name__)
UNACCEPTED = ("created", "dispatched")
NOT_ARRIVED = ("created", "dispatched", "accepted", "en_route")


def add_deadline(tx: Tx, order_id: int, kind: str, due: datetime, ref: str | None = None) -> None:
    tx.add_row(Deadline, order_id=order_id, kind=kind, ref=ref, due_at=due, status="pending", created_at=tx.now)
    tx.deadlines = True


def cancel_deadlines(tx: Tx, order_id: int, kinds: tuple[str, ...] | None = None, ref: str | None = None) -> None:
    """Cancel this order's pending deadlines (of ``kinds``; of one ``ref`` if given)."""
    tx.flush()
    stmt = update(Deadline).where(Deadline.order_id == order_id, Deadline.status == "pending")
    if kinds:
        stmt = stmt.where(Deadline.kind.in_(kinds))
    if ref is not None:
        stmt = stmt.where(Deadline.ref == ref)
    tx.s.execute(stmt.values(status="cancelled").execution_options(synchronize_session=False))


def plan(deps: Deps, tx: Tx, order: WorkOrder) -> None:
    """Set the accept and re-notify (while unaccepted) and arrive deadlines of an order.

    Re-planning (reassign, severity raised) cancels the old ones first.
    """
    d = deps.config.deadlines(Severity(order.severity))
    base = tx.now
    if order.status in UNACCEPTED:
        add_deadline(tx, order.id, "accept", base + timedelta(seconds=d.accept_s))
        add_deadline(tx, order.id, "renotify", base + timedelta(seconds=d.renotify_s))
    if order.on_site_at is None:
        add_deadline(tx, order.id, "arrive", (order.dispatched_at or base) + timedelta(seconds=d.arrive_s))


def ladder_step(deps: Deps, tx: Tx, order: WorkOrder, actor: str, note: str = "") -> str:
    """Take the next step of the ladder that applies; past the last step, re-notify."""
    steps = deps.config.escalation_ladder.steps
    level = order.escalation_level
    done = None
    while done is None and level < len(steps):
        step = steps[level]
        level += 1
        if step == "next_worker" and order.status not in UNACCEPTED:
            continue
        done = _STEPS[step](deps, tx, order)
    if done is None:
        step, done = "renotify", "re-notified: the ladder is exhausted"
        deps.fanout.order(tx, order, "escalated")
    if level != order.escalation_level:
        bump(tx, order, {"escalation_level": level})
    to = done[1] if isinstance(done, tuple) else None
    text = done[0] if isinstance(done, tuple) else done
    record(tx, order, "escalated", actor, note or text, {"step": step, "level": level, "to": to, "why": text})
    return text


def _next_worker(deps: Deps, tx: Tx, order: WorkOrder) -> tuple[str, str] | None:
    tried = tried_workers(tx, order.id) | {order.assignee or ""}
    ranked = deps.router.rank(tx.s, order.grid_id, order.kind, order.lat, order.lon, exclude=frozenset(tried))
    best = next((c for c in ranked if c.eligible), None)
    if best is None:
        return None
    previous = order.assignee
    values: dict = {"assignee": best.worker_id}
    if order.status == "created":  # nobody could be routed at first: now someone can
        values.update(status="dispatched", dispatched_at=tx.now)
    bump(tx, order, values)
    refresh_load(tx, {previous, best.worker_id})
    deps.fanout.order(tx, order, "escalated", extra=[previous])
    return f"next worker {best.explanation}", best.worker_id


def _supervisor(deps: Deps, tx: Tx, order: WorkOrder) -> str | None:
    sup = deps.router.supervisor(tx.s, order.grid_id)
    if sup is None:
        return None
    deps.fanout.worker(tx, order, sup.id, "escalated")
    return f"grid supervisor {sup.id} ({sup.name}) notified"


def _command_center(deps: Deps, tx: Tx, order: WorkOrder) -> str | None:
    if not order.town_id:
        return None
    deps.fanout.town(tx, order, "escalated")
    return f"town {order.town_id} command center notified"


def _departments(deps: Deps, tx: Tx, order: WorkOrder) -> str | None:
    from alerts import departments

    made = departments.call(deps, tx, order, departments.handling(deps, order.kind), actor="escalation")
    return f"departments called: {', '.join(c.dept_id for c in made)}" if made else None


_STEPS = {
    "next_worker": _next_worker, "supervisor": _supervisor,
    "command_center": _command_center, "departments": _departments,
}


def fire(deps: Deps, tx: Tx, dl: Deadline) -> None:
    """Act on one due deadline (already claimed)."""
    order = tx.s.get(WorkOrder, dl.order_id)
    if order is None:
        return
    d = deps.config.deadlines(Severity(order.severity))
    late = (tx.now - dl.due_at).total_seconds()
    if dl.kind == "accept" and order.status in UNACCEPTED:
        ladder_step(deps, tx, order, "escalation", f"not accepted within {d.accept_s:.0f} s")
        add_deadline(tx, order.id, "accept", tx.now + timedelta(seconds=d.accept_s))
    elif dl.kind == "renotify" and order.status in UNACCEPTED:
        deps.fanout.order(tx, order, "dispatched")
        record(tx, order, "renotified", "escalation", f"still not accepted; told {order.assignee} again")
        add_deadline(tx, order.id, "renotify", tx.now + timedelta(seconds=d.renotify_s))
    elif dl.kind == "arrive" and order.status in NOT_ARRIVED:
        record(tx, order, "overdue", "escalation", f"not on site within {d.arrive_s:.0f} s of dispatch")
        if sup := deps.router.supervisor(tx.s, order.grid_id):
            deps.fanout.worker(tx, order, sup.id, "escalated")
        deps.fanout.town(tx, order, "escalated")
    elif dl.kind == "department":
        _department_overdue(deps, tx, order, int(dl.ref or 0))
    if late > 1.0:
        log.info("deadline %s of order %s fired %.1f s late", dl.kind, order.id, late)


def _department_overdue(deps: Deps, tx: Tx, order: WorkOrder, call_id: int) -> None:
    call = tx.s.get(DepartmentCall, call_id)
    if call is None or call.status != "called":
        return
    call.status = "overdue"
    record(tx, order, "department_overdue", "escalation",
           f"{call.dept_id} did not answer within {deps.config.departments.accept_s:.0f} s",
           {"dept_id": call.dept_id, "call_id": call.id})
    deps.fanout.department(tx, order, call, "escalated")
    deps.fanout.town(tx, order, "escalated")
