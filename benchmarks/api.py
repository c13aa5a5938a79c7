"""API benchmark: open-orders list latency at 100,000 orders in PostgreSQL, and SSE fan-out.

1. Fills a fresh PostgreSQL database with N work orders (5% open), serves the API on
   uvicorn in a child process, and times ``GET /api/v1/work-orders?status=open`` over
   one keep-alive connection: p50/p99 for an admin (bootstrap token), a dispatcher
   (issued token: one hash lookup per request) and a worker.
2. Connects C clients to ``/api/v1/events`` while the server publishes E order events
   at R per second, and reports how many each client received and the delivery
   latency (publish -> parsed by the client), p50/p99.

    python benchmarks/api.py            # 100,000 orders, 200 SSE clients
    python benchmarks/api.py --quick    # 20,000 orders, 50 clients

The machine is shared (2 cores, other engineers' runs): figures are indicative.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_ADMIN = os.environ.get("GRIDWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CITY = ROOT / "tests" / "data" / "city-small"


def create_db() -> tuple[str, sa.Engine]:
    name = f"gridwatch_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, admin


def fill(url: str, n: int) -> None:
    """N orders over the small city's grids: 5% open, severities skewed to yellow/blue."""
    from alerts.models import WorkOrder, utc
    from core.city import load_city

    city = load_city(CITY)
    rng = np.random.default_rng(7)
    engine = sa.create_engine(url)
    now = time.time()
    workers = [str(w) for w in city.workers.ids]
    devices = [str(d) for d in city.devices.ids]
    rows = []
    for i in range(n):
        d = rng.integers(len(devices))
        slot = city.devices.slot(devices[d])
        g = int(city.devices.grid[slot])
        open_ = rng.random() < 0.05
        t = utc(now - rng.uniform(0, 30 * 86400))
        rows.append({
            "severity": int(rng.choice([1, 2, 3, 4], p=[0.3, 0.4, 0.2, 0.1])),
            "status": rng.choice(["dispatched", "accepted", "on_site"]) if open_ else "closed",
            "kind": city.devices.kind_name(slot), "device_id": devices[d], "grid_id": str(city.grids.ids[g]),
            "town_id": str(city.grids.town[g]), "assignee": workers[rng.integers(len(workers))],
            "escalation_level": 0, "created_at": t, "dispatched_at": t, "reason": "benchmark", "version": 1,
        })
        if len(rows) == 10_000 or i == n - 1:
            with engine.begin() as c:
                c.execute(sa.insert(WorkOrder), rows)
            rows = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE work_orders"))  # what autovacuum does to a settled table
    engine.dispose()


def serve(url: str, port: int, events: int, rate: float, trigger: str) -> None:
    """Child process: the API on uvicorn; publishes synthetic order events once ``trigger`` exists."""
    import threading

    import uvicorn

    from core.city import load_city
    from tests.api.harness import Harness

    h = Harness(url, load_city(CITY))
    tokens = h.issue_tokens()
    print("TOKENS", tokens["dispatcher"], tokens["worker"], flush=True)

    def publish() -> None:
        while not os.path.exists(trigger):
            time.sleep(0.05)
        start = time.monotonic()
        for i in range(events):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))  # a fixed schedule, not sleep-after
            h.bus.publish("order", {"id": 10_000_000 + i, "status": "dispatched", "severity": "red",
                                    "town_id": "t-01", "grid_id": "g-001", "assignee": "w-001",
                                    "sent_ms": time.time() * 1000})

    threading.Thread(target=publish, daemon=True).start()
    uvicorn.run(h.app, host="127.0.0.1", port=port, log_level="warning")


def percentiles(xs: list[float]) -> str:
    a = np.asarray(xs)
    return f"p50 {np.percentile(a, 50):6.1f} ms   p99 {np.percentile(a, 99):6.1f} ms   (n={len(a)})"


def time_list(base: str, token: str, n: int) -> list[float]:
    out = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        for _ in range(20):
            c.get("/api/v1/work-orders?status=open&limit=50").raise_for_status()
        for _ in range(n):
            t0 = time.perf_counter()
            r = c.get("/api/v1/work-orders?status=open&limit=50")
            out.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
    return out


SENT = re.compile(rb'"sent_ms":([0-9.]+)')


async def sse_client(port: int, token: str, until: float, got: list[int], lat: list[float], i: int,
                     want: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    await writer.drain()
    tail = b""
    while time.time() < until and got[i] < want:
        try:
            chunk = await asyncio.wait_for(reader.read(65536), timeout=max(0.1, until - time.time()))
        except TimeoutError:
            break
        if not chunk:
            break
        now = time.time() * 1000
        data = tail + chunk
        got[i] += data.count(b"event: order") - tail.count(b"event: order")
        lat.extend(now - float(m) for m in SENT.findall(chunk))
        tail = data[-64:]
    writer.close()


async def sse(port: int, token: str, clients: int, seconds: float, want: int) -> tuple[list[int], list[float]]:
    got, lat = [0] * clients, []
    until = time.time() + seconds
    await asyncio.gather(*(sse_client(port, token, until, got, lat, i, want) for i in range(clients)))
    return got, lat


def wait_port(port: int) -> None:
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def run(args: argparse.Namespace) -> None:
    from alerts.db import upgrade
    from tests.api.harness import ADMIN_TOKEN
    from tests.support.servers import free_port

    url, admin = create_db()
    child = None
    trigger = Path(f"/tmp/gridwatch-bench-{uuid.uuid4().hex[:8]}")
    try:
        t0 = time.monotonic()
        upgrade(url)
        fill(url, args.orders)
        print(f"filled {args.orders:,} orders in {time.monotonic() - t0:.1f} s")
        port = free_port()
        child = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port), str(args.events),
                                  str(args.rate), str(trigger)], stdout=subprocess.PIPE, text=True)
        dispatcher, worker = child.stdout.readline().split()[1:]
        wait_port(port)
        base = f"http://127.0.0.1:{port}"
        for who, token in (("admin", ADMIN_TOKEN), ("dispatcher", dispatcher), ("worker", worker)):
            took = time_list(base, token, args.requests)
            print(f"GET /api/v1/work-orders?status=open&limit=50 as {who:<10} {percentiles(took)}")
        seconds = args.events / args.rate + 15
        loop_task = sse(port, dispatcher, args.clients, seconds, args.events)

        async def go():
            task = asyncio.ensure_future(loop_task)
            await asyncio.sleep(1.5)
            trigger.touch()
            return await task

        got, lat = asyncio.run(go())
        full = sum(1 for g in got if g >= args.events)
        print(f"SSE: {args.clients} clients, {args.events} events at {args.rate:.0f}/s: "
              f"{full}/{args.clients} clients got all (min {min(got)}, max {max(got)}); delivery {percentiles(lat)}")
        metrics = httpx.get(base + "/metrics").text
        dropped = re.search(r"^gridwatch_sse_dropped_total ([0-9.e+]+)", metrics, re.M)
        print(f"SSE events dropped for slow clients: {dropped.group(1) if dropped else '?'}")
        print("(shared 2-core machine; server and clients on the same cores)")
    finally:
        if child:
            child.terminate()
            child.wait(10)
        trigger.unlink(missing_ok=True)
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        url, port, events, rate, trigger = sys.argv[2:7]
        serve(url, int(port), int(events), float(rate), trigger)
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="20,000 orders, 50 SSE clients")
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=500)
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--events", type=int, default=1000)
    p.add_argument("--rate", type=float, default=100.0, help="order events per second")
    args = p.parse_args()
    if args.quick:
        args.orders, args.clients, args.requests, args.events = 20_000, 50, 200, 300
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
