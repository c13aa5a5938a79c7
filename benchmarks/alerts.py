"""Alerts benchmark: alert -> dispatched order -> notification on the worker's topic.

Three figures, inside one gridwatch process against a real Mosquitto:

1. latency: red alerts submitted one at a time; the time from ``intake.submit`` until
   the worker's phone (an MQTT subscriber) receives the ``dispatched`` message;
2. storm: ``--rate`` alerts/s for ``--seconds`` (2% red, the rest yellow/orange on
   meters, smoke and gauges): every red alert must end as a dispatched order whose
   notification arrived;
3. list: with ``--orders`` orders in the database, ``list_orders(status="open")`` p50/p99.

    .venv/bin/python benchmarks/alerts.py                       # SQLite, private Mosquitto
    .venv/bin/python benchmarks/alerts.py --db postgresql+psycopg://postgres@127.0.0.1/bench --orders 100000

Give it an empty database: unaccepted red orders of earlier runs keep being
re-notified and escalated, which is real work that would skew the figures.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.db import upgrade  # noqa: E402
from alerts.runtime import AlertsRuntime, build  # noqa: E402
from core.alert import AlertEvent  # noqa: E402
from core.city import load_city  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.events import EventBus  # noqa: E402
from core.metrics import new_registry  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.severity import Severity  # noqa: E402

RUN = uuid.uuid4().hex[:8]  # this run's alerts, apart from those of earlier runs on the same database


def event(i: int, device: str, kind: str, grid: str, sev: Severity, rule: str) -> AlertEvent:
    now = SystemClock().now_ms()
    return AlertEvent(device_id=device, kind=kind, grid_id=grid, rule=f"{rule}.{RUN}", state="firing",
                      severity=sev, reason=f"bench {RUN} {i}", value=1.0, started_ms=now, at_ms=now,
                      detected_ms=now)


class Phone:
    """Subscribes to every worker topic; records when each bench alert's dispatch arrives."""

    def __init__(self, port: int) -> None:
        self.arrived: dict[str, float] = {}
        self.q: queue.Queue[str] = queue.Queue()
        ready = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-phone")
        c.on_connect = lambda cl, *_: cl.subscribe("workers/+/orders", qos=1)
        c.on_subscribe = lambda *_: ready.set()
        c.on_message = self._on_message
        c.connect("127.0.0.1", port)
        c.loop_start()
        ready.wait(10)
        time.sleep(0.5)
        self.client = c

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        t = time.perf_counter()
        body = json.loads(msg.payload)
        if body["event"] == "dispatched":
            reason = body["order"]["reason"]
            self.arrived.setdefault(reason, t)
            self.q.put(reason)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def latency(rt: AlertsRuntime, phone: Phone, n: int, gap: float) -> list[float]:
    out = []
    for i in range(n):
        time.sleep(gap)  # red alerts arrive one at a time, as in life (the storm measures throughput)
        ev = event(-1 - i, "wb-0001", "wearable", "g-001", Severity.RED, f"wearable.lat{i}")
        t0 = time.perf_counter()
        rt.intake.submit([ev])
        while True:
            reason = phone.q.get(timeout=30)
            if reason == ev.reason:
                break
        out.append((phone.arrived[ev.reason] - t0) * 1000)
    return out


STORM_MIX = [  # device, kind, grid, severity
    ("mt-0001", "meter", "g-002", Severity.YELLOW), ("mt-0002", "meter", "g-004", Severity.YELLOW),
    ("sm-0003", "smoke", "g-002", Severity.ORANGE), ("rg-0001", "river_gauge", "g-003", Severity.ORANGE),
]
REDS = [("wb-0001", "g-001"), ("wb-0002", "g-001"), ("wb-0003", "g-002"), ("wb-0004", "g-004")]


def storm(rt: AlertsRuntime, phone: Phone, seconds: float, rate: int) -> dict:
    per_tick = max(1, rate // 100)  # submitted every 10 ms
    reds: list[str] = []
    i, t_start, backlog = 0, time.perf_counter(), 0
    while time.perf_counter() - t_start < seconds:
        batch = []
        for _ in range(per_tick):
            i += 1
            if i % 50 == 0:
                dev, grid = REDS[(i // 50) % len(REDS)]
                ev = event(i, dev, "wearable", grid, Severity.RED, f"wearable.storm{i}")
                reds.append(ev.reason)
            else:
                dev, kind, grid, sev = STORM_MIX[i % len(STORM_MIX)]
                ev = event(i, dev, kind, grid, sev, f"{kind}.storm{i % 7}")
            batch.append(ev)
        rt.intake.submit(batch)
        backlog = max(backlog, rt.intake.pending)
        time.sleep(max(0.0, t_start + (i / rate) - time.perf_counter()))
    sent_s = time.perf_counter() - t_start
    rt.intake.wait_idle(timeout=600)
    drained_s = time.perf_counter() - t_start
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(r in phone.arrived for r in reds):
        time.sleep(0.05)
    wanted, orders = set(reds), []
    for offset in range(0, 10**9, 1000):
        page = rt.service.list_orders(severity="red", limit=1000, offset=offset)["items"]
        orders += [o for o in page if o["reason"] in wanted]
        if len(page) < 1000:
            break
    undispatched = [o for o in orders if o["status"] != "dispatched" or not o["assignee"]]
    return {"alerts": i, "sent_s": sent_s, "drained_s": drained_s, "reds": len(reds),
            "red_orders": len(orders), "red_undispatched": len(undispatched),
            "red_notified": sum(r in phone.arrived for r in reds), "max_backlog": backlog}


def list_speed(rt: AlertsRuntime, db_url: str, n: int) -> list[float]:
    """Seed ``n`` orders (5% open) in bulk, then time the API's open-orders query."""
    from sqlalchemy import insert

    from alerts.models import WorkOrder, utc

    rng = np.random.default_rng(1)
    now = utc(time.time())
    grids = ["g-001", "g-002", "g-003", "g-004"]
    rows = [{"severity": int(rng.integers(1, 5)), "status": "dispatched" if rng.random() < 0.05 else "closed",
             "kind": "meter", "device_id": f"mt-{k % 5000:05d}", "grid_id": grids[k % 4], "town_id": "t-01",
             "created_at": now, "reason": "seeded", "version": 1, "escalation_level": 0} for k in range(n)]
    with rt.deps.sessions.begin() as s:
        for k in range(0, n, 10_000):
            s.execute(insert(WorkOrder), rows[k:k + 10_000])
    if rt.engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE work_orders")
    out = []
    for k in range(300):
        t0 = time.perf_counter()
        rt.service.list_orders(status="open", grid_id=grids[k % 4] if k % 2 else None, limit=50)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(xs: list[float]) -> str:
    p50, p99 = np.percentile(xs, [50, 99])
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (n={len(xs)})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    ap.add_argument("--mqtt", help="broker URL (default: a private Mosquitto)")
    ap.add_argument("--latency", type=int, default=200, help="red alerts for the latency figure")
    ap.add_argument("--gap", type=float, default=0.1, help="seconds between the latency run's alerts")
    ap.add_argument("--seconds", type=float, default=60, help="storm duration")
    ap.add_argument("--rate", type=int, default=1000, help="storm alerts per second")
    ap.add_argument("--orders", type=int, default=0, help="seed this many orders and time the open-orders list")
    ap.add_argument("--quick", action="store_true", help="short run: 50 alerts, 10 s storm, 20,000 orders")
    args = ap.parse_args()
    if args.quick:
        args.latency, args.seconds, args.orders = 50, 10, args.orders or 20_000
    tmp = Path(tempfile.mkdtemp(prefix="gridwatch-bench-"))
    broker = None
    if not args.mqtt:
        from tests.support.servers import start_mosquitto

        broker = start_mosquitto(tmp / "mosquitto")
        args.mqtt = broker.url
    db = args.db or f"sqlite:///{tmp / 'bench.db'}"
    upgrade(db)
    settings = Settings.load(overrides={"db": db, "data_dir": str(tmp), "mqtt": args.mqtt}, env={})
    rt = build(settings, load_city(ROOT / "tests/data/city-small"), SystemClock(), EventBus(), new_registry())
    rt.start()
    phone = Phone(int(args.mqtt.rsplit(":", 1)[1]))
    print(f"database {db.split('://')[0]}, broker {args.mqtt}; machine shared (2 cores, 5 engineers)")
    try:
        rt.publisher.wait_connected(10)
        lat = latency(rt, phone, args.latency, args.gap)
        print(f"alert -> dispatched notification received: {pct(lat)}")
        r = storm(rt, phone, args.seconds, args.rate)
        print(f"storm: {r['alerts']} alerts in {r['sent_s']:.1f} s ({r['alerts'] / r['sent_s']:.0f}/s), "
              f"handled by {r['drained_s']:.1f} s, max backlog {r['max_backlog']}; red alerts {r['reds']}, "
              f"red orders {r['red_orders']}, undispatched {r['red_undispatched']}, notified {r['red_notified']}")
        if args.orders:
            print(f"list open orders with {args.orders} orders: {pct(list_speed(rt, db, args.orders))}")
        ok = r["red_undispatched"] == 0 and r["red_notified"] == r["reds"]
    finally:
        phone.close()
        rt.stop()
        if broker:
            broker.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
