"""Alerts grouped into incidents; an incident has at most one open work order.

* The same device and rule (the alert's fingerprint) extends its open incident.
* Smoke sensors of one grid within ``building_m`` of each other, firing within
  ``window_s``, are one building: one incident.
* River gauges on one river (the devices.csv ``river_column``; without it, the same
  grid or within ``river_m``), firing within ``window_s``, are one incident.

A red alert opens its order in the same transaction (no grouping delay); alerts that
join an incident with an open order are recorded as evidence on its timeline, and a
higher severity raises the order's. Resolved transitions are kept; when every alert
of an incident has resolved, the incident is resolved (the order stays for the
worker to close).
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import select

from alerts import departments, dispatch, escalation
from alerts.lifecycle import OPEN
from alerts.models import Alert, Incident, WorkOrder
from alerts.orders import bump, record
from alerts.routing import haversine_m
from alerts.serialize import alert_dict
from alerts.unit import Deps, Tx
from core.alert import AlertEvent


class Correlator:
    """Turns one AlertEvent into incident evidence and, when due, a work order."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        city = deps.city
        self._river = city.devices.extra.get(deps.config.incidents.river_column)

    def handle(self, tx: Tx, ev: AlertEvent) -> WorkOrder | None:
        """Record ``ev``; returns the order it opened or attached to, if any."""
        lat, lon, town = self._place(ev)
        alert = Alert(
            fingerprint=ev.fingerprint, device_id=ev.device_id, kind=ev.kind, grid_id=ev.grid_id, rule=ev.rule,
            state=ev.state, severity=int(ev.severity), reason=ev.reason, value=_finite(ev.value),
            started_ms=ev.started_ms, at_ms=ev.at_ms, detected_ms=ev.detected_ms, received_at=tx.now,
            lat=_finite(lat), lon=_finite(lon),
        )
        known = tx.memo.get(ev.fingerprint)
        if known is not None and ev.state == "firing" and ev.severity <= known[2]:
            _attach(tx, known[0], alert)  # a repeat in this batch (a storm): no lookups at all
            return known[1]
        tx.s.flush()  # earlier events of this batch must be visible to the lookups below
        incident = self._by_fingerprint(tx, ev)
        if ev.state == "resolved":
            tx.memo.pop(ev.fingerprint, None)
            return self._resolved(tx, alert, incident)
        repeat = incident is not None
        if incident is None:
            incident = self._correlate(tx, ev, lat, lon)
        if incident is None:
            incident = Incident(
                key=self._key(ev), kind=ev.kind, grid_id=ev.grid_id, town_id=town, device_id=ev.device_id,
                severity=int(ev.severity), status="open", opened_at=tx.now, last_alert_at=tx.now,
                alert_count=1, lat=_finite(lat), lon=_finite(lon),
            )
            tx.s.add(incident)
            tx.s.flush()
            _attach(tx, incident, alert, counted=True)
        else:
            _attach(tx, incident, alert)
        order = _open_order_of(tx, incident.id) if incident.alert_count > 1 else None
        if order is not None:
            self._evidence(tx, order, ev, repeat)
        elif self.deps.config.opens_order(ev.severity):
            order = dispatch.open_order(self.deps, tx, incident, ev)
        tx.memo[ev.fingerprint] = (incident, order, max(int(ev.severity), order.severity if order else 0))
        return order

    def _place(self, ev: AlertEvent) -> tuple[float, float, str | None]:
        city = self.deps.city
        lat, lon = ev.lat, ev.lon
        dslot = city.devices.slot(ev.device_id)
        if not (math.isfinite(lat) and math.isfinite(lon)) and dslot >= 0:
            lat, lon = float(city.devices.lat[dslot]), float(city.devices.lon[dslot])
        gslot = city.grids.slot(ev.grid_id)
        return lat, lon, (str(city.grids.town[gslot]) if gslot >= 0 else None)

    def _key(self, ev: AlertEvent) -> str:
        if ev.kind == "river_gauge":
            return f"river:{self._river_name(ev.device_id) or ev.grid_id}"
        if ev.kind == "smoke":
            return f"building:{ev.grid_id}:{ev.device_id}"
        return ev.fingerprint

    def _river_name(self, device_id: str) -> str | None:
        if self._river is None:
            return None
        slot = self.deps.city.devices.slot(device_id)
        name = str(self._river[slot]) if slot >= 0 else ""
        return name or None

    def _by_fingerprint(self, tx: Tx, ev: AlertEvent) -> Incident | None:
        inc_id = tx.s.scalar(
            select(Alert.incident_id).where(Alert.fingerprint == ev.fingerprint).order_by(Alert.id.desc()).limit(1)
        )
        inc = tx.s.get(Incident, inc_id) if inc_id is not None else None
        return inc if inc is not None and inc.status == "open" else None

    def _correlate(self, tx: Tx, ev: AlertEvent, lat: float, lon: float) -> Incident | None:
        if ev.kind not in ("smoke", "river_gauge"):
            return None
        cfg = self.deps.config.incidents
        since = tx.now - timedelta(seconds=cfg.window_s)
        stmt = select(Incident).where(Incident.status == "open", Incident.kind == ev.kind,
                                      Incident.last_alert_at >= since)
        river = self._river_name(ev.device_id) if ev.kind == "river_gauge" else None
        if river:
            return tx.s.scalars(stmt.where(Incident.key == f"river:{river}").order_by(Incident.id)).first()
        limit_m = cfg.building_m if ev.kind == "smoke" else cfg.river_m
        best, best_d = None, math.inf
        for inc in tx.s.scalars(stmt.where(Incident.grid_id == ev.grid_id)):
            d = _distance(inc, lat, lon)
            if ev.kind == "river_gauge" and not math.isfinite(d):
                d = 0.0  # same grid, no coordinates: same river stretch
            if d <= limit_m and d < best_d:
                best, best_d = inc, d
        return best

    def _evidence(self, tx: Tx, order: WorkOrder, ev: AlertEvent, repeat: bool) -> None:
        """Severity raised: tighten the order; a new device: a timeline line; a repeat: the alert row only."""
        data = {"device_id": ev.device_id, "rule": ev.rule, "severity": str(ev.severity)}
        if ev.severity > order.severity:
            bump(tx, order, {"severity": int(ev.severity)})
            record(tx, order, "severity_raised", "system", ev.reason, data)
            escalation.cancel_deadlines(tx, order.id, ("accept", "renotify", "arrive"))
            escalation.plan(self.deps, tx, order)  # the tighter deadlines of the new severity
            dept_ids = self.deps.config.departments_for(order.kind, ev.severity)
            departments.call(self.deps, tx, order, dept_ids, actor="rules")
            self.deps.fanout.order(tx, order, "updated")
        elif not repeat:
            record(tx, order, "evidence", "system", ev.reason, data)

    def _resolved(self, tx: Tx, alert: Alert, incident: Incident | None) -> WorkOrder | None:
        alert.incident_id = incident.id if incident else None
        tx.s.add(alert)
        tx.s.flush()
        tx.publish("alert", lambda: alert_dict(alert))
        if incident is None:
            return None
        order = _open_order_of(tx, incident.id)
        if order is not None:
            record(tx, order, "alert_resolved", "system", alert.reason, {"device_id": alert.device_id,
                                                                         "rule": alert.rule})
        if not _still_firing(tx, incident.id):
            incident.status, incident.resolved_at = "resolved", tx.now
        return order


def _attach(tx: Tx, incident: Incident, alert: Alert, counted: bool = False) -> None:
    if not counted:
        incident.last_alert_at = tx.now
        incident.alert_count += 1
        incident.severity = max(incident.severity, alert.severity)
    alert.incident_id = incident.id
    tx.s.add(alert)
    tx.publish("alert", lambda: alert_dict(alert))  # serialised after commit, when the id is known


def _open_order_of(tx: Tx, incident_id: int) -> WorkOrder | None:
    return tx.s.scalars(
        select(WorkOrder).where(WorkOrder.incident_id == incident_id, WorkOrder.status.in_(OPEN)).limit(1)
    ).first()


def _still_firing(tx: Tx, incident_id: int) -> bool:
    latest: dict[str, str] = {}
    for fp, state in tx.s.execute(
        select(Alert.fingerprint, Alert.state).where(Alert.incident_id == incident_id).order_by(Alert.id)
    ):
        latest[fp] = state
    return any(s == "firing" for s in latest.values())


def _distance(inc: Incident, lat: float, lon: float) -> float:
    if inc.lat is None or inc.lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return math.inf
    return float(haversine_m(lat, lon, inc.lat, inc.lon))


def _finite(x: float) -> float | None:
    return x if x is not None and math.isfinite(x) else None
