"""One JSON-ready shape per record, shared by the EventBus, MQTT, webhooks and the API.

Times are ISO 8601 UTC strings (``2024-11-22T00:00:00.000Z``); severities are their
names (``"red"``).

>>> iso(utc(0))
'1970-01-01T00:00:00.000Z'
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.models import Alert, DepartmentCall, Incident, OrderEvent, Worker, WorkOrder, utc
from core.severity import Severity

__all__ = ["alert_dict", "call_dict", "event_dict", "incident_dict", "iso", "order_dict", "utc", "worker_dict"]

_ORDER_TIMES = (
    "detected_at", "created_at", "dispatched_at", "accepted_at", "en_route_at",
    "on_site_at", "resolved_at", "closed_at",
)


def iso(t: datetime | None) -> str | None:
    """An aware datetime as ``YYYY-MM-DDTHH:MM:SS.mmmZ``; ``None`` stays ``None``."""
    if t is None:
        return None
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _num(x: float | None) -> float | None:
    return None if x is None or x != x else x  # NaN is not JSON


def order_dict(o: WorkOrder) -> dict[str, Any]:
    """A work order as the API and notifications show it (INTERFACES §5 fields and more)."""
    d: dict[str, Any] = {
        "id": o.id,
        "severity": str(Severity(o.severity)),
        "status": o.status,
        "kind": o.kind,
        "device_id": o.device_id,
        "grid_id": o.grid_id,
        "town_id": o.town_id,
        "incident_id": o.incident_id,
        "assignee": o.assignee,
        "backup": o.backup,
        "escalation_level": o.escalation_level,
        "reason": o.reason,
        "lat": _num(o.lat),
        "lon": _num(o.lon),
        "evaluation": o.evaluation,
        "closure_code": o.closure_code,
        "version": o.version,
    }
    for name in _ORDER_TIMES:
        d[name] = iso(getattr(o, name))
    return d


def event_dict(e: OrderEvent) -> dict[str, Any]:
    """One timeline entry."""
    return {
        "id": e.id, "order_id": e.order_id, "at": iso(e.at), "type": e.type,
        "actor": e.actor, "note": e.note, "data": e.data or {},
    }


def alert_dict(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id, "incident_id": a.incident_id, "fingerprint": a.fingerprint,
        "device_id": a.device_id, "kind": a.kind, "grid_id": a.grid_id, "rule": a.rule,
        "state": a.state, "severity": str(Severity(a.severity)), "reason": a.reason,
        "value": _num(a.value), "started_ms": a.started_ms, "at_ms": a.at_ms,
        "detected_ms": a.detected_ms, "received_at": iso(a.received_at),
        "lat": _num(a.lat), "lon": _num(a.lon),
    }


def incident_dict(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id, "key": i.key, "kind": i.kind, "grid_id": i.grid_id, "town_id": i.town_id,
        "device_id": i.device_id, "severity": str(Severity(i.severity)), "status": i.status,
        "opened_at": iso(i.opened_at), "last_alert_at": iso(i.last_alert_at),
        "resolved_at": iso(i.resolved_at), "alert_count": i.alert_count,
        "lat": _num(i.lat), "lon": _num(i.lon),
    }


def worker_dict(w: Worker) -> dict[str, Any]:
    return {
        "id": w.id, "name": w.name, "grid_id": w.grid_id, "town_id": w.town_id, "role": w.role,
        "skills": [s for s in w.skills.split(";") if s], "on_duty": w.on_duty,
        "available": w.available, "lat": _num(w.lat), "lon": _num(w.lon),
        "located_at": iso(w.located_at), "load": w.load,
    }


def call_dict(c: DepartmentCall) -> dict[str, Any]:
    return {
        "id": c.id, "order_id": c.order_id, "dept_id": c.dept_id, "purpose": c.purpose,
        "status": c.status, "called_at": iso(c.called_at), "accept_by": iso(c.accept_by),
        "accepted_at": iso(c.accepted_at), "returned_at": iso(c.returned_at), "note": c.note,
    }
