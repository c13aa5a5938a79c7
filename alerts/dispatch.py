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
    """A new order for ``incident``, dispatched to the best worker, departments called, deadlines set.

    Routing runs before the insert, so the order is written once, already dispatched.
    """
    ranked = deps.router.rank(tx.s, ev.grid_id, ev.kind, incident.lat, incident.lon)
    eligible = [c for c in ranked if c.eligible]
    pool = eligible or ranked
    best = pool[0] if pool else None
    red_backup = ev.severity == Severity.RED and deps.config.routing.red_backup
    backup = pool[1] if red_backup and len(pool) > 1 else None
    o = WorkOrder(
        severity=int(ev.severity), status="dispatched" if best else "created", kind=ev.kind,
        device_id=ev.device_id, grid_id=ev.grid_id, town_id=incident.town_id, incident_id=incident.id,
        reason=ev.reason, lat=incident.lat, lon=incident.lon, created_at=tx.now, escalation_level=0, version=1,
        detected_at=utc(ev.detected_ms / 1000.0), assignee=best.worker_id if best else None,
        backup=backup.worker_id if backup else None, dispatched_at=tx.now if best else None,
    )
    tx.s.add(o)
    tx.s.flush()
    record(tx, o, "created", "system", ev.reason, {"rule": ev.rule, "severity": str(ev.severity)})
    if best is None:
        record(tx, o, "unrouted", "routing", f"no worker in grid {o.grid_id} or its neighbours")
        deps.fanout.town(tx, o, "created")
    else:
        note = best.explanation if eligible else best.explanation + " (nobody on duty and available)"
        runners_up = [c.explanation for c in ranked[1:4]]
        record(tx, o, "dispatched", "routing", note, {"to": best.worker_id, "runners_up": runners_up})
        if backup:
            record(tx, o, "backup", "routing", backup.explanation, {"backup": backup.worker_id})
        refresh_load(tx, {best.worker_id})
        deps.fanout.order(tx, o, "dispatched")
    dept_ids = deps.config.departments_for(o.kind, Severity(o.severity))
    if dept_ids:
        departments.call(deps, tx, o, dept_ids, actor="rules", new_order=True)
    escalation.plan(deps, tx, o)
    return o
