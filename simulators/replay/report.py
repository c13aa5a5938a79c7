"""What a replay raised, incident by incident, against the ground truth.

For each ground-truth incident: onset, the first alert on one of its devices (and
how long after onset), the first red, the highest severity vs the expected one, and
— with dispatch — when its order was created, dispatched, accepted and reached on
site. For each fault episode: whether anything red fired (it must not). Alerts that
match neither are counted by severity as unexplained (false alarms on normal data).
Without ground truth, the report lists the alerts by device.

>>> fmt_delay(None), fmt_delay(61_500)
('-', '+61.5 s')
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from core.alert import AlertEvent
from core.severity import Severity

BEFORE_MS = 120_000  # an alert this long before onset still belongs to the incident (skewed clocks)
AFTER_MS = 600_000  # and this long after the incident ends
STAGES = ("created_at", "dispatched_at", "accepted_at", "on_site_at", "resolved_at")


def fmt_delay(ms: int | None) -> str:
    return "-" if ms is None else f"{ms / 1000:+.1f} s"


def _alerts_for(alerts: list[AlertEvent], devices: set[str], a: int, b: int) -> list[AlertEvent]:
    return [e for e in alerts if e.state == "firing" and e.device_id in devices and a <= e.at_ms <= b]


def _incident_row(inc: dict[str, Any], alerts: list[AlertEvent], orders: list[dict[str, Any]]) -> dict[str, Any]:
    devices = set(inc["devices"])
    hits = _alerts_for(alerts, devices, inc["onset_ms"] - BEFORE_MS, inc["end_ms"] + AFTER_MS)
    first = min(hits, key=lambda e: e.at_ms, default=None)
    reds = [e for e in hits if e.severity >= Severity.RED]
    first_red = min(reds, key=lambda e: e.at_ms, default=None)
    top = max((e.severity for e in hits), default=None)
    row: dict[str, Any] = {
        **{k: inc.get(k) for k in ("id", "type", "kind", "grid_id", "onset_ms", "expected_severity")},
        "devices": inc["devices"],
        "first_alert_ms": first.at_ms if first else None,
        "first_alert_rule": first.rule if first else None,
        "first_alert_reason": first.reason if first else None,
        "latency_ms": first.at_ms - inc["onset_ms"] if first else None,
        "first_red_ms": first_red.at_ms if first_red else None,
        "severity": str(top) if top else None,
        "detected": first is not None,
        "severity_ok": top is not None and inc.get("expected_severity") is not None
        and top >= Severity.parse(inc["expected_severity"]),
        "alerts": len(hits),
    }
    crossed = [t for t in (inc.get("warning_crossed_ms") or {}).values() if t]
    if crossed and first:
        row["lead_before_warning_ms"] = min(crossed) - first.at_ms
    mine = [o for o in orders if o.get("device_id") in devices and (o.get("_created_at_ms") or 0) >= inc["onset_ms"]
            - BEFORE_MS]
    if mine:
        o = min(mine, key=lambda x: x["_created_at_ms"])
        row["order"] = {"id": o["id"], "severity": o["severity"], "status": o["status"], "assignee": o["assignee"],
                        **{s: o.get(f"_{s}_ms") for s in STAGES}}
    return row


def _explained(truths: list[dict[str, Any]], alerts: list[AlertEvent]) -> set[tuple[str, int]]:
    """(fingerprint, at_ms) of the alerts that belong to one of ``truths``."""
    out: set[tuple[str, int]] = set()
    for t in truths:
        for e in _alerts_for(alerts, set(t["devices"]), t["onset_ms"] - BEFORE_MS, t["end_ms"] + AFTER_MS):
            out.add((e.fingerprint, e.at_ms))
    return out


def _fault_row(f: dict[str, Any], alerts: list[AlertEvent], real: set[tuple[str, int]]) -> dict[str, Any]:
    """A fault episode's alerts, except those a real incident on the same device explains."""
    hits = [e for e in _alerts_for(alerts, set(f["devices"]), f["onset_ms"], f["end_ms"] + AFTER_MS)
            if (e.fingerprint, e.at_ms) not in real]
    top = max((e.severity for e in hits), default=None)
    return {"id": f["id"], "type": f["type"], "devices": f["devices"], "onset_ms": f["onset_ms"],
            "severity": str(top) if top else None, "alerts": len(hits),
            "false_red": top is not None and top >= Severity.RED}


def build_report(truth: dict[str, Any] | None, alerts: list[AlertEvent], orders: list[dict[str, Any]],
                 meta: dict[str, Any]) -> dict[str, Any]:
    """The JSON-ready report of one replay run."""
    truth_incidents, truth_faults = (truth or {}).get("incidents", []), (truth or {}).get("faults", [])
    incidents = [_incident_row(i, alerts, orders) for i in truth_incidents]
    real = _explained(truth_incidents, alerts)
    faults = [_fault_row(f, alerts, real) for f in truth_faults]
    explained = real | _explained(truth_faults, alerts)
    firing = [e for e in alerts if e.state == "firing"]
    stray = [e for e in firing if (e.fingerprint, e.at_ms) not in explained]
    return {
        **meta,
        "alerts": len(firing),
        "alerts_by_severity": dict(Counter(str(e.severity) for e in firing)),
        "incidents": incidents,
        "faults": faults,
        "unexplained_by_severity": dict(Counter(str(e.severity) for e in stray)),
        "unexplained": [_alert_dict(e) for e in stray[:200]],
        "orders": len(orders),
    }


def _alert_dict(e: AlertEvent) -> dict[str, Any]:
    return {"device_id": e.device_id, "rule": e.rule, "severity": str(e.severity), "at_ms": e.at_ms,
            "reason": e.reason}


def summary_lines(rep: dict[str, Any]) -> list[str]:
    """The terminal summary: one line per incident and fault, then the totals."""
    out = [f"replay {rep.get('source', '')}: {rep.get('readings', 0):,} readings in {rep.get('seconds', 0):.1f} s "
           f"({rep.get('readings_per_s', 0):,.0f}/s, {rep.get('speedup', 0):,.0f}x real time); "
           f"{rep['alerts']} alerts {rep['alerts_by_severity']}"]
    for r in rep["incidents"]:
        verdict = "MISSED" if not r["detected"] else ("ok" if r["severity_ok"] else "LOW")
        line = (f"  {r['id']:<8} {r['type']:<13} {r['devices'][0]:<12} expected {r['expected_severity'] or '-':<6} "
                f"got {r['severity'] or '-':<6} first alert {fmt_delay(r['latency_ms']):>9} "
                f"[{r['first_alert_rule'] or '-'}] {verdict}")
        if r.get("lead_before_warning_ms") is not None:
            line += f" ({r['lead_before_warning_ms'] / 60_000:.0f} min before a gauge crossed its warning level)"
        if "order" in r:
            o = r["order"]
            line += (f"  order #{o['id']} {o['status']} -> {o['assignee']}: accepted "
                     f"{fmt_delay(_after(o['accepted_at'], r['onset_ms']))}, on site "
                     f"{fmt_delay(_after(o['on_site_at'], r['onset_ms']))}")
        out.append(line)
    for f in rep["faults"]:
        out.append(f"  {f['id']:<8} {f['type']:<13} {f['devices'][0]:<12} must not be red: got "
                   f"{f['severity'] or 'nothing':<7} {'FALSE RED' if f['false_red'] else 'ok'}")
    out.append(f"  unexplained alerts: {rep['unexplained_by_severity'] or 'none'}")
    return out


def _after(t: int | None, onset: int) -> int | None:
    return None if t is None else t - onset
