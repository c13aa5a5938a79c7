"""Read queries the API and console need; every result is JSON-ready.

Lists are red first (severity descending), newest first within a severity, and paged
with ``limit``/``offset``. ``status`` takes one status, a comma-separated list, or
``open`` (every status before resolved). The indexes in ``alerts.models`` serve the
common filters, so "open orders of a grid, red first" stays fast at 100,000 orders.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from alerts.errors import NotFound
from alerts.lifecycle import OPEN, STATUSES
from alerts.models import Alert, DepartmentCall, Incident, OrderEvent, Worker, WorkOrder
from alerts.serialize import alert_dict, call_dict, event_dict, incident_dict, order_dict, worker_dict
from core.severity import Severity

MAX_LIMIT = 1000


def _statuses(status: str) -> list[str]:
    wanted: list[str] = []
    for part in (p.strip() for p in status.split(",") if p.strip()):
        if part == "open":
            wanted.extend(s for s in STATUSES if s in OPEN)
        elif part in STATUSES:
            wanted.append(part)
        else:
            raise ValueError(f"unknown status {part!r}; expected open or one of {', '.join(STATUSES)}")
    return wanted


def _severities(severity: str) -> list[int]:
    return [int(Severity.parse(p)) for p in severity.split(",") if p.strip()]


def order_filters(
    stmt: Select[Any], *, severity: str | None = None, status: str | None = None, grid_id: str | None = None,
    device_id: str | None = None, town_id: str | None = None, assignee: str | None = None,
    department: str | None = None, incident_id: int | None = None, responsible: str | None = None,
) -> Select[Any]:
    """Apply the API's order filters to ``stmt`` (a select over ``WorkOrder``).

    ``responsible`` matches the assignee or the backup: a red order's backup worker
    must see it to be able to take it."""
    if severity:
        sev = _severities(severity)
        stmt = stmt.where(WorkOrder.severity == sev[0] if len(sev) == 1 else WorkOrder.severity.in_(sev))
    if status:
        st = _statuses(status)
        stmt = stmt.where(WorkOrder.status == st[0] if len(st) == 1 else WorkOrder.status.in_(st))
    for col, value in ((WorkOrder.grid_id, grid_id), (WorkOrder.device_id, device_id),
                       (WorkOrder.town_id, town_id), (WorkOrder.assignee, assignee),
                       (WorkOrder.incident_id, incident_id)):
        if value is not None and value != "":
            stmt = stmt.where(col == value)
    if responsible:
        stmt = stmt.where(or_(WorkOrder.assignee == responsible, WorkOrder.backup == responsible))
    if department:
        calls = select(DepartmentCall.order_id).where(DepartmentCall.dept_id == department)
        stmt = stmt.where(WorkOrder.id.in_(calls))
    return stmt


def list_orders(s: Session, *, limit: int = 50, offset: int = 0, **filters: Any) -> dict[str, Any]:
    """Orders matching ``filters`` (see ``order_filters``), red first, then newest."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    stmt = order_filters(select(WorkOrder), **filters)
    rows = s.scalars(
        stmt.order_by(WorkOrder.severity.desc(), WorkOrder.id.desc()).limit(limit).offset(max(0, int(offset)))
    ).all()
    total = s.scalar(order_filters(select(func.count()).select_from(WorkOrder), **filters))
    return {"items": [order_dict(o) for o in rows], "total": total or 0, "limit": limit, "offset": offset}


def get_order(s: Session, order_id: int) -> dict[str, Any]:
    """One order with its full timeline, department calls and the alerts of its incident."""
    o = s.get(WorkOrder, order_id)
    if o is None:
        raise NotFound(f"order {order_id} not found")
    events = s.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)).all()
    calls = s.scalars(select(DepartmentCall).where(DepartmentCall.order_id == order_id).order_by(DepartmentCall.id))
    alerts: list[Alert] = []
    if o.incident_id is not None:
        alerts = list(s.scalars(select(Alert).where(Alert.incident_id == o.incident_id).order_by(Alert.id)))
    return {
        **order_dict(o),
        "timeline": [event_dict(e) for e in events],
        "departments": [call_dict(c) for c in calls],
        "alerts": [alert_dict(a) for a in alerts],
    }


def list_incidents(
    s: Session, *, status: str | None = None, grid_id: str | None = None, town_id: str | None = None,
    limit: int = 50, offset: int = 0,
) -> dict[str, Any]:
    """Incidents, most severe then newest first; ``status`` is ``open`` or ``resolved``."""
    stmt = select(Incident)
    if town_id:
        stmt = stmt.where(Incident.town_id == town_id)
    if status:
        stmt = stmt.where(Incident.status == status)
    if grid_id:
        stmt = stmt.where(Incident.grid_id == grid_id)
    limit = max(1, min(int(limit), MAX_LIMIT))
    rows = s.scalars(stmt.order_by(Incident.severity.desc(), Incident.id.desc()).limit(limit).offset(offset))
    return {"items": [incident_dict(i) for i in rows], "limit": limit, "offset": offset}


def get_incident(s: Session, incident_id: int) -> dict[str, Any]:
    """One incident with its alerts (evidence) and its orders."""
    i = s.get(Incident, incident_id)
    if i is None:
        raise NotFound(f"incident {incident_id} not found")
    alerts = s.scalars(select(Alert).where(Alert.incident_id == incident_id).order_by(Alert.id))
    orders = s.scalars(select(WorkOrder).where(WorkOrder.incident_id == incident_id).order_by(WorkOrder.id))
    return {**incident_dict(i), "alerts": [alert_dict(a) for a in alerts], "orders": [order_dict(o) for o in orders]}


def open_alerts(s: Session, *, device_id: str | None = None, grid_id: str | None = None) -> list[dict[str, Any]]:
    """The latest transition of each alert (device + rule) that is still firing."""
    latest = select(func.max(Alert.id)).group_by(Alert.fingerprint)
    if device_id:
        latest = latest.where(Alert.device_id == device_id)
    if grid_id:
        latest = latest.where(Alert.grid_id == grid_id)
    rows = s.scalars(select(Alert).where(Alert.id.in_(latest), Alert.state == "firing").order_by(Alert.id))
    return [alert_dict(a) for a in rows]


def open_counts(s: Session, by: str = "grid") -> list[dict[str, Any]]:
    """Open orders by severity per grid (``by="grid"``) or town (``by="town"``)."""
    col = {"grid": WorkOrder.grid_id, "town": WorkOrder.town_id}.get(by)
    if col is None:
        raise ValueError(f"by must be grid or town, got {by!r}")
    rows = s.execute(
        select(col, WorkOrder.severity, func.count())
        .where(WorkOrder.status.in_(OPEN))
        .group_by(col, WorkOrder.severity)
    )
    out: dict[str, dict[str, Any]] = {}
    for key, sev, n in rows:
        entry = out.setdefault(key, {f"{by}_id": key, **{str(x): 0 for x in Severity}, "total": 0})
        entry[str(Severity(sev))] = n
        entry["total"] += n
    return sorted(out.values(), key=lambda e: (-e["red"], -e["total"], str(e[f"{by}_id"])))


def list_workers(
    s: Session, *, grid_id: str | None = None, town_id: str | None = None, on_duty: bool | None = None
) -> list[dict[str, Any]]:
    stmt = select(Worker)
    if grid_id:
        stmt = stmt.where(Worker.grid_id == grid_id)
    if town_id:
        stmt = stmt.where(Worker.town_id == town_id)
    if on_duty is not None:
        stmt = stmt.where(Worker.on_duty == on_duty)
    return [worker_dict(w) for w in s.scalars(stmt.order_by(Worker.id))]


def list_department_calls(
    s: Session, *, dept_id: str | None = None, status: str | None = None, order_id: int | None = None,
    town_id: str | None = None,
) -> list[dict[str, Any]]:
    """Calls newest first; ``town_id`` keeps those of that town's orders (a dispatcher's scope)."""
    stmt = select(DepartmentCall)
    if town_id:
        stmt = stmt.where(DepartmentCall.order_id.in_(select(WorkOrder.id).where(WorkOrder.town_id == town_id)))
    if dept_id:
        stmt = stmt.where(DepartmentCall.dept_id == dept_id)
    if status:
        stmt = stmt.where(DepartmentCall.status == status)
    if order_id is not None:
        stmt = stmt.where(DepartmentCall.order_id == order_id)
    return [call_dict(c) for c in s.scalars(stmt.order_by(DepartmentCall.id.desc()).limit(MAX_LIMIT))]
