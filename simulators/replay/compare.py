"""Compare two replay runs incident by incident (e.g. before and after a detector change).

>>> a = {"incidents": [{"id": "inc-1", "type": "cardiac", "latency_ms": 90_000, "severity": "red"}],
...      "faults": [], "unexplained_by_severity": {}}
>>> b = {"incidents": [{"id": "inc-1", "type": "cardiac", "latency_ms": 30_000, "severity": "red"}],
...      "faults": [], "unexplained_by_severity": {"yellow": 2}}
>>> print("\\n".join(compare_lines(a, b)))
incident  type          A first alert  B first alert  change      A sev   B sev
inc-1     cardiac           +90.0 s        +30.0 s   60.0 s sooner red     red
unexplained alerts: A {} -> B {'yellow': 2}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simulators.replay.report import fmt_delay


def load_run(path: str | Path) -> dict[str, Any]:
    """A run's ``report.json`` (the file, or the directory holding it)."""
    p = Path(path)
    return json.loads((p / "report.json" if p.is_dir() else p).read_text())


def _change(a: int | None, b: int | None) -> str:
    if a is None and b is None:
        return "both missed"
    if a is None:
        return "now caught"
    if b is None:
        return "NOW MISSED"
    d = (a - b) / 1000
    return "same" if abs(d) < 0.5 else (f"{d:.1f} s sooner" if d > 0 else f"{-d:.1f} s later")


def compare_lines(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    out = [f"{'incident':<9} {'type':<13} {'A first alert':>14} {'B first alert':>14}  {'change':<11} "
           f"{'A sev':<7} B sev"]
    b_by_id = {r["id"]: r for r in b["incidents"]}
    for r in a["incidents"]:
        s = b_by_id.get(r["id"], {})
        out.append(f"{r['id']:<9} {r['type']:<13} {fmt_delay(r.get('latency_ms')):>14} "
                   f"{fmt_delay(s.get('latency_ms')):>14}  {_change(r.get('latency_ms'), s.get('latency_ms')):<11} "
                   f"{r.get('severity') or '-':<7} {s.get('severity') or '-'}")
    fb = {f["id"]: f for f in b["faults"]}
    for f in a["faults"]:
        g = fb.get(f["id"], {})
        if f.get("false_red") or g.get("false_red"):
            out.append(f"{f['id']:<9} {f['type']:<13} false red: A {bool(f.get('false_red'))} -> "
                       f"B {bool(g.get('false_red'))}")
    out.append(f"unexplained alerts: A {a['unexplained_by_severity']} -> B {b['unexplained_by_severity']}")
    return out
