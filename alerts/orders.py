"""Low-level order writes shared by the service, dispatch and escalation.

``bump`` is the one conditional UPDATE every change goes through: it succeeds only
if nobody changed the order since it was read (``version``), which is how two
workers accepting at once end with one winner and one ``Conflict``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from alerts.errors import Conflict
from alerts.lifecycle import OPEN
from alerts.models import OrderEvent, Worker, WorkOrder
from alerts.serialize import iso, order_dict
from alerts.unit import Tx


def bump(tx: Tx, order: WorkOrder, values: dict[str, Any], action: str = "change") -> None:
    """Write ``values`` (and version + 1) if the order is unchanged since read; else ``Conflict``."""
    stmt = (
        update(WorkOrder)
        .where(WorkOrder.id == order.id, WorkOrder.version == order.version)
        .values(version=order.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if tx.s.execute(stmt).rowcount != 1:
        fresh = tx.s.get(WorkOrder, order.id, populate_existing=True)
        who = fresh.assignee if fresh else None
        if action == "accept" and fresh is not None and fresh.status != "dispatched":
            raise Conflict(f"order {order.id} was already accepted by {who}", by=who)
        raise Conflict(f"order {order.id} was changed by someone else; reload and retry", by=who)
    for key, value in {**values, "version": order.version + 1}.items():
        set_committed_value(order, key, value)


def record(
    tx: Tx, order: WorkOrder, type_: str, actor: str, note: str = "", data: dict[str, Any] | None = None
) -> None:
    """Append one timeline entry and publish the order's new state on the bus."""
    tx.add_row(OrderEvent, order_id=order.id, at=tx.now, type=type_, actor=actor, note=note or "", data=data)
    event = {"type": type_, "actor": actor, "note": note or "", "at": iso(tx.now), "data": data or {}}
    tx.publish("order", {**order_dict(order), "event": event})


def refresh_load(tx: Tx, worker_ids: set[str | None] | list[str | None]) -> None:
    """Recount open orders of these workers (their ``load``; routing prefers the idle)."""
    ids = set(worker_ids) - {None}
    if not ids:
        return
    tx.s.flush()
    count = (
        select(func.count()).select_from(WorkOrder)
        .where(WorkOrder.assignee == Worker.id, WorkOrder.status.in_(OPEN)).scalar_subquery()
    )
    stmt = update(Worker).where(Worker.id.in_(ids)).values(load=count)
    tx.s.execute(stmt.execution_options(synchronize_session=False))


def tried_workers(tx: Tx, order_id: int) -> set[str]:
    """Workers this order has already been given to (escalation skips them)."""
    tx.flush()
    rows = tx.s.scalars(
        select(OrderEvent.data).where(
            OrderEvent.order_id == order_id, OrderEvent.type.in_(("dispatched", "escalated", "reassign"))
        )
    )
    return {d["to"] for d in rows if d and d.get("to")}
