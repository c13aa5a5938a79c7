"""Departments pulled in by rule ("the grid blows the whistle, the departments report").

A call is a row in ``department_calls`` with its own accept-by deadline; the
department is told on ``departments/{id}/orders`` and answers accept or return
through ``WorkOrderService.department_accept/department_return``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from alerts import escalation
from alerts.models import DepartmentCall, WorkOrder
from alerts.orders import record
from alerts.unit import Deps, Tx


def handling(deps: Deps, kind: str) -> list[str]:
    """Departments whose ``handles`` (departments.csv) name the kind or the skill it needs."""
    skill = deps.config.routing.skills.get(kind, "")
    return sorted(d.dept_id for d in deps.city.departments.values() if kind in d.handles or skill in d.handles)


def call(
    deps: Deps, tx: Tx, order: WorkOrder, dept_ids: list[str], actor: str, new_order: bool = False
) -> list[DepartmentCall]:
    """Call each department not yet called for this order; returns the new calls."""
    already: set[str] = set()
    if not new_order:
        already.update(tx.s.scalars(select(DepartmentCall.dept_id).where(DepartmentCall.order_id == order.id)))
    accept_by = tx.now + timedelta(seconds=deps.config.departments.accept_s)
    purpose = deps.config.departments.purpose
    made = [DepartmentCall(order_id=order.id, dept_id=d, purpose=purpose.get(d, ""), status="called",
                           called_at=tx.now, accept_by=accept_by, note="")
            for d in dict.fromkeys(dept_ids) if d not in already]
    if not made:
        return []
    tx.s.add_all(made)
    tx.s.flush()
    for c in made:
        known = c.dept_id in deps.city.departments
        note = f"{c.dept_id}: {c.purpose or 'called'}" + ("" if known else " (not in departments.csv)")
        record(tx, order, "department_called", actor, note, {"dept_id": c.dept_id, "call_id": c.id})
        deps.fanout.department(tx, order, c, "created")
        escalation.add_deadline(tx, order.id, "department", accept_by, ref=str(c.id))
    return made
