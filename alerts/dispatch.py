"""Opening an order: create it, route it, pull in departments, start its clocks.

All in the transaction that recorded the alert, so a red alert becomes a dispatched
order with its notification queued in one commit.
"""

from __future__ import annotations

from alerts import departments, escalation
from alerts.models import Incident, WorkOrder, utc
from alerts.orders import record, refresh_load
from alerts.unit import Deps, Tx
from core.alert import AlertEvent
from core.severity import Severity


def open_order(deps: Deps, tx: Tx, incident: Incident, ev: AlertEvent) -> WorkOrder:
    """A new order for ``incident``, dispatched to the best worker, deadlines set."""
    o = WorkOrder(
        severity=int(ev.severity), status="created", kind=ev.kind, device_id=ev.device_id,
        grid_id=ev.grid_id, town_id=incident.town_id, incident_id=incident.id, reason=ev.reason,
        lat=incident.lat, lon=incident.lon, created_at=tx.now, escalation_level=0, version=1,
        detected_at=utc(ev.detected_ms / 1000.0),
    )
    tx.s.add(o)
    tx.s.flush()
    record(tx, o, "created", "system", ev.reason, {"rule": ev.rule, "severity": str(ev.severity)})
    assign(deps, tx, o)
    dept_ids = deps.config.departments_for(o.kind, Severity(o.severity))
    if dept_ids:
        departments.call(deps, tx, o, dept_ids, actor="rules")
    escalation.plan(deps, tx, o)
    return o


def assign(deps: Deps, tx: Tx, o: WorkOrder) -> None:
    """Route to the best candidate (and a backup for red); explain the choice in the timeline."""
    ranked = deps.router.rank(tx.s, o.grid_id, o.kind, o.lat, o.lon)
    eligible = [c for c in ranked if c.eligible]
    pool = eligible or ranked
    if not pool:
        record(tx, o, "unrouted", "routing", f"no worker in grid {o.grid_id} or its neighbours")
        deps.fanout.town(tx, o, "created")
        return
    best = pool[0]
    backup = pool[1] if o.severity == Severity.RED and deps.config.routing.red_backup and len(pool) > 1 else None
    o.status, o.assignee, o.dispatched_at, o.version = "dispatched", best.worker_id, tx.now, o.version + 1
    o.backup = backup.worker_id if backup else None
    tx.s.flush()
    note = best.explanation if eligible else best.explanation + " (nobody on duty and available)"
    runners_up = [c.explanation for c in ranked[1:4]]
    record(tx, o, "dispatched", "routing", note, {"to": best.worker_id, "runners_up": runners_up})
    if backup:
        record(tx, o, "backup", "routing", backup.explanation, {"backup": backup.worker_id})
    refresh_load(tx, {best.worker_id})
    deps.fanout.order(tx, o, "dispatched")
