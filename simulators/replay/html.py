"""The replay report as one self-contained HTML page: tables and inline SVG plots, no CDN.

Each incident gets a plot of its first device's main field around the onset, with
vertical markers for onset, first alert, and the order's stages where known.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from simulators.replay.report import fmt_delay, summary_lines

W, H, PAD = 640, 180, 36
MARKS = (("onset_ms", "#555", "onset"), ("first_alert_ms", "#d97706", "first alert"),
         ("first_red_ms", "#dc2626", "red"))
ORDER_MARKS = (("accepted_at", "#2563eb", "accepted"), ("on_site_at", "#16a34a", "on site"))


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def svg_plot(xs: list[int], ys: list[float], marks: list[tuple[int, str, str]], lo: int, hi: int) -> str:
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if lo <= x <= hi and y == y]
    if not pts:
        return "<p><i>no readings of this device in the window</i></p>"
    ymin, ymax = min(p[1] for p in pts), max(p[1] for p in pts)
    ymax = ymax if ymax > ymin else ymin + 1

    def sx(x: float) -> float:
        return PAD + (x - lo) / max(hi - lo, 1) * (W - 2 * PAD)

    def sy(y: float) -> float:
        return H - PAD + (ymin - y) / (ymax - ymin) * (H - 2 * PAD)

    line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}">',
             f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" fill="#fafafa" stroke="#ddd"/>',
             f'<polyline fill="none" stroke="#111" stroke-width="1.2" points="{line}"/>',
             f'<text x="4" y="{PAD + 4}" font-size="10">{ymax:g}</text>',
             f'<text x="4" y="{H - PAD}" font-size="10">{ymin:g}</text>']
    legend_x = PAD
    for t, colour, label in marks:
        if lo <= t <= hi:
            x = sx(t)
            parts.append(f'<line x1="{x:.1f}" y1="{PAD}" x2="{x:.1f}" y2="{H - PAD}" stroke="{colour}" '
                         'stroke-dasharray="4 2"/>')
            parts.append(f'<text x="{legend_x}" y="{PAD - 10}" font-size="11" fill="{colour}">'
                         f'┊ {html.escape(label)}</text>')
            legend_x += 14 + 7 * len(label)
    parts.append(f'<text x="{PAD}" y="{H - 8}" font-size="10">{_when(lo)}</text>')
    parts.append(f'<text x="{W - PAD}" y="{H - 8}" font-size="10" text-anchor="end">{_when(hi)}</text></svg>')
    return "".join(parts)


def _incident(r: dict[str, Any], series: dict[str, tuple[list[int], list[float]]]) -> str:
    marks = [(r[k], c, lbl) for k, c, lbl in MARKS if r.get(k) is not None]
    order = r.get("order") or {}
    marks += [(order[k], c, lbl) for k, c, lbl in ORDER_MARKS if order.get(k) is not None]
    xs, ys = series.get(r["devices"][0], ([], []))
    lo, hi = r["onset_ms"] - 600_000, r["onset_ms"] + 1_200_000
    rows = [("onset", _when(r["onset_ms"])), ("devices", ", ".join(r["devices"][:8])),
            ("expected / got", f"{r['expected_severity']} / {r['severity'] or 'nothing'}"),
            ("first alert", f"{fmt_delay(r['latency_ms'])} {r['first_alert_rule'] or ''}"),
            ("reason", r["first_alert_reason"] or "-")]
    for stage in ("created_at", "dispatched_at", "accepted_at", "on_site_at", "resolved_at"):
        if order:
            t = order.get(stage)
            rows.append((f"order {stage[:-3].replace('_', ' ')}", "-" if t is None else
                         f"{fmt_delay(t - r['onset_ms'])} ({order.get('assignee')})"))
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return (f"<section><h2>{html.escape(r['id'])}: {html.escape(r['type'])} in {html.escape(str(r['grid_id']))}"
            f"</h2><table>{table}</table>{svg_plot(xs, ys, marks, lo, hi)}</section>")


def render_html(rep: dict[str, Any], series: dict[str, tuple[list[int], list[float]]]) -> str:
    faults = "".join(
        f"<tr><td>{html.escape(f['id'])}</td><td>{html.escape(f['type'])}</td><td>{html.escape(f['devices'][0])}"
        f"</td><td>{f['severity'] or 'nothing'}</td><td>{'FALSE RED' if f['false_red'] else 'ok'}</td></tr>"
        for f in rep["faults"])
    summary = html.escape("\n".join(summary_lines(rep)))
    body = "".join(_incident(r, series) for r in rep["incidents"])
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>gridwatch replay report</title><style>"
        "body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}th{text-align:left;padding-right:1em}"
        "section{border-top:1px solid #ccc;margin-top:1.5em}pre{background:#f4f4f4;padding:1em;white-space:pre-wrap}"
        "</style></head><body><h1>gridwatch replay report</h1>"
        f"<pre>{summary}</pre>{body}"
        "<h2>Fault episodes (must not be red)</h2><table><tr><th>id</th><th>type</th><th>device</th>"
        f"<th>highest</th><th>verdict</th></tr>{faults}</table></body></html>"
    )
