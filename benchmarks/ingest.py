"""Ingest benchmark: N readings through a real Mosquitto into a consumer and a real InfluxDB 1.x.

    python benchmarks/ingest.py                    # 1,000,000 readings per mode and consumer
    python benchmarks/ingest.py --quick            # 200,000
    python benchmarks/ingest.py --readings 500000 --modes gateway --consumers gridwatch

For each mode — **device** (one reading per message) and **gateway** (100 readings of 100
devices per message), both QoS 1 — and each consumer — ``gridwatch run``, the naive
peer (``benchmarks/peers/naive.py``: paho -> json.loads -> a line per reading -> POST
every 5,000) and, where ``node`` is on PATH, the Node-RED peer
(``benchmarks/peers/nodered.py``: node-red 4.1.8, mqtt in -> json -> function batching
points -> influx batch from node-red-contrib-influxdb, v1; installed once into
``~/.cache/gridwatch-bench/nodered``) — the script:

1. starts the consumer (a fresh client id, a fresh database) and waits until it has
   subscribed;
2. releases several publisher processes that send pre-encoded MQTT frames over raw
   sockets (a Python paho publisher cannot saturate the broker), QoS 1, a window of
   5,000 unacknowledged messages each;
3. measures from the first publish until InfluxDB has applied N points (its own
   ``SHOW STATS`` write counters, polled every 50 ms: cheap, unlike ``count``) and the
   CPU seconds of the consumer's process tree (``/proc/<pid>/stat``), then checks with ``count`` that all N
   readings are queryable. For gridwatch it also notes when its ``/metrics`` show all N
   readings accepted and every message acknowledged, i.e. durable in its spool: the
   "durable" rate is what gridwatch takes in; the end-to-end rate is bounded by how
   fast InfluxDB absorbs the spool.

Mosquitto (private, ``max_queued_messages 0``) and InfluxDB 1.6 (private) share the
machine with the consumer and the publishers (their CPU per million readings is printed
too, with the load average: anything else running on the machine shows there), as the
targets assume: gateway mode
>= 150,000 readings/s end to end, device mode >= 25,000 readings/s, <= 3 CPU-seconds of
gridwatch per million readings in gateway mode.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import ManagedServer, free_port, require_binary, start_influxdb  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks/peers"))
import nodered  # noqa: E402

PEERS = ("naive", "nodered")

KINDS = ("wearable", "smoke", "river_gauge", "meter")
VALUES = {  # what healthy devices send (short decimals, nothing for the detectors to raise);
    # i: the reading's index, step: the device's reading number; the first field is used to count
    "wearable": lambda i, step: {"heart_rate": 70 + i % 5, "spo2": 97 + i % 2, "battery": 90},
    "smoke": lambda i, step: {"smoke": 0.0, "temperature": 21.5 + (i % 3) * 0.5, "co": 1, "battery": 90},
    "river_gauge": lambda i, step: {"level": round(1.0 + (i % 5) * 0.01, 2), "rain": 0.0},
    "meter": lambda i, step: {"power_kw": 100.0 + (i % 10) * 0.5, "energy_kwh": 1_000_000.0 + step * 0.25},
}
INTERVAL_MS = 10_000  # each device reports every 10 s; the load ends at the current time
FIRST_FIELD = {k: next(iter(VALUES[k](0, 0))) for k in KINDS}
DB = "bench"
TARGETS = {"gateway": 150_000, "device": 25_000}

MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
log_type error
"""


# ---------------------------------------------------------------------------- the load


def write_city(d: Path, devices: int) -> list[tuple[str, str]]:
    d.mkdir(parents=True, exist_ok=True)
    grids = max(1, devices // 50)
    (d / "grids.csv").write_text("grid_id,town_id,district_id,lat,lon\n" + "".join(
        f"g-{g:05d},t-{g // 20:03d},d-01,29.56,106.55\n" for g in range(grids)))
    ids = [(f"{KINDS[i % 4][:2]}-{i:06d}", KINDS[i % 4]) for i in range(devices)]
    (d / "devices.csv").write_text("device_id,kind,grid_id,lat,lon\n" + "".join(
        f"{dev},{kind},g-{i % grids:05d},29.56,106.55\n" for i, (dev, kind) in enumerate(ids)))
    (d / "workers.csv").write_text("worker_id,name,grid_id,role,skills,lat,lon\n"
                                   "w-1,Liu Min,g-00000,worker,medical,29.56,106.55\n")
    (d / "departments.csv").write_text("dept_id,name,handles\nmedical-120,Medical,wearable\n")
    return ids


def make_load(mode: str, n: int, devices: list[tuple[str, str]], end_ms: int) -> list[tuple[bytes, bytes]]:
    """(topic, payload) messages carrying ``n`` readings with unique (device, ts), ending at ``end_ms``."""
    msgs = []
    nd = len(devices)
    t0 = end_ms - (n // nd + 1) * INTERVAL_MS

    def reading(i: int) -> tuple[str, dict]:
        dev, kind = devices[i % nd]
        step = i // nd
        return dev, {"ts": t0 + step * INTERVAL_MS, "values": VALUES[kind](i, step)}

    if mode == "device":
        for i in range(n):
            dev, r = reading(i)
            msgs.append((b"devices/%s/telemetry" % dev.encode(), orjson.dumps(r)))
    else:
        for m in range(n // 100):
            body = {}
            for j in range(100):
                dev, r = reading(m * 100 + j)
                body[dev] = [r]
            msgs.append((b"gateways/gw-%03d/telemetry" % (m % 500), orjson.dumps(body)))
    return msgs


# ---------------------------------------------------------------------------- raw MQTT publisher


def _varlen(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _str(b: bytes) -> bytes:
    return struct.pack("!H", len(b)) + b


def publisher(port: int, client_id: str, msgs: list[tuple[bytes, bytes]], ready, go, done, window: int = 5000):
    """Pre-encode QoS 1 PUBLISH frames, connect, wait for ``go``, send them all, count PUBACKs."""
    frames = []
    for i, (topic, payload) in enumerate(msgs):
        body = _str(topic) + struct.pack("!H", i % 65535 + 1) + payload
        frames.append(b"\x32" + _varlen(len(body)) + body)
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connect = _str(b"MQTT") + bytes([4, 0x02]) + struct.pack("!H", 120) + _str(client_id.encode())
    s.sendall(b"\x10" + _varlen(len(connect)) + connect)
    assert s.recv(4)[3] == 0, "CONNACK refused"
    ready.set()
    go.wait()
    sent = acked = 0
    pending = b""
    n = len(frames)
    while acked < n:
        k = min(500, n - sent, window - (sent - acked))
        if k > 0:
            s.sendall(b"".join(frames[sent:sent + k]))
            sent += k
        if sent - acked >= window or sent == n:
            pending += s.recv(1 << 16)
            got = len(pending) // 4  # PUBACK: 0x40 0x02 id id
            acked += got
            pending = pending[got * 4:]
    s.sendall(b"\xe0\x00")
    s.close()
    done.put(time.time())


# ---------------------------------------------------------------------------- consumers


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid``, its reaped children and its live descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime
        todo += children.get(p, [])
    return total


class Consumer:
    name = "consumer"

    def __init__(self, proc: subprocess.Popen, metrics_url: str | None = None) -> None:
        self.proc = proc
        self.metrics_url = metrics_url  # gridwatch: its /metrics, to see when it has made everything durable

    def durable(self, n: int) -> bool:
        """Whether all ``n`` readings are accepted and acknowledged (durable in the spool), per /metrics."""
        with urllib.request.urlopen(self.metrics_url, timeout=2) as r:
            text = r.read().decode()
        accepted = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                       if line.startswith("gridwatch_ingest_accepted_total{"))
        inflight = next((float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                         if line.startswith("gridwatch_ingest_unacked_messages ")), 1.0)
        return accepted >= n and inflight == 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_gridwatch(work: Path, city: Path, mqtt_port: int, influx_url: str, run_id: str, extra: list[str]):
    http = free_port()
    argv = [sys.executable, "-m", "gridwatch.cli", "run", "--city", str(city), "--mqtt", f"mqtt://127.0.0.1:{mqtt_port}",
            "--influx", influx_url, "--influx-api", "v1", "--influx-bucket", DB, "--data-dir", str(work / run_id),
            "--http", f"127.0.0.1:{http}", "--mqtt-client-id", f"bench-{run_id}", "--log-level", "warning", *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=(work / f"{run_id}.log").open("w"),
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gridwatch exited: {(work / f'{run_id}.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http}/health", timeout=2) as r:
                if json.loads(r.read())["mqtt"]["subscribed"]:
                    return Consumer(proc, f"http://127.0.0.1:{http}/metrics")
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gridwatch did not subscribe in 60 s")


def start_naive(work: Path, mqtt_port: int, influx_url: str, run_id: str) -> Consumer:
    argv = [sys.executable, str(ROOT / "benchmarks/peers/naive.py"), "--mqtt", f"127.0.0.1:{mqtt_port}",
            "--influx", influx_url, "--db", DB, "--client-id", f"naive-{run_id}"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=(work / f"{run_id}.log").open("w"), text=True)
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the naive consumer did not subscribe")
    return Consumer(proc)


def start_nodered(work: Path, city: Path, mqtt_port: int, influx_url: str, run_id: str) -> Consumer:
    proc = nodered.start(work / run_id, city, mqtt_port, influx_url, DB, f"nodered-{run_id}", free_port(),
                         work / f"{run_id}.log")
    return Consumer(proc)


# ---------------------------------------------------------------------------- one run


def influx_write_stats(influx) -> tuple[int, bool]:
    """(points InfluxDB was asked to write, whether every write request so far has finished)."""
    series = influx.query("SHOW STATS FOR 'write'", DB)["results"][0]["series"][0]
    stats = dict(zip(series["columns"], series["values"][0], strict=True))
    finished = stats["writeOk"] + stats["writeError"] + stats["writeDrop"] + stats["writeTimeout"]
    return stats["pointReq"], stats["req"] == finished


def stored_readings(influx) -> int:
    total = 0
    for kind in KINDS:
        res = influx.query(f'SELECT count("{FIRST_FIELD[kind]}") FROM "{kind}"', DB)["results"][0]
        total += res["series"][0]["values"][0][1] if "series" in res else 0
    return total


def run_one(consumer_name, mode, load, n, work, city, mosquitto, influx, publishers, extra):
    mosquitto_port = mosquitto.port
    run_id = f"{consumer_name}-{mode}-{int(time.time())}"
    influx.query(f'DROP DATABASE "{DB}"', DB)
    influx.create_database(DB)
    if consumer_name == "gridwatch":
        consumer = start_gridwatch(work, city, mosquitto_port, influx.url, run_id, extra.get("gridwatch", []))
    elif consumer_name == "nodered":
        consumer = start_nodered(work, city, mosquitto_port, influx.url, run_id)
    else:
        consumer = start_naive(work, mosquitto_port, influx.url, run_id)
    time.sleep(0.5)
    ctx = mp.get_context("fork")
    ready = [ctx.Event() for _ in range(publishers)]
    go, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=publisher, args=(mosquitto_port, f"pub-{run_id}-{k}", load[k::publishers],
                                                 ready[k], go, done)) for k in range(publishers)]
    for p in procs:
        p.start()
    for r in ready:
        r.wait(120)
    base = influx_write_stats(influx)[0]
    servers0 = cpu_seconds(mosquitto.proc.pid), cpu_seconds(influx.proc.pid)
    cpu0 = tree_cpu_seconds(consumer.proc.pid)
    t0 = time.time()
    go.set()
    expect = 30 + n / 5_000
    end = durable = None
    while time.time() - t0 < expect:
        if consumer.metrics_url and durable is None and consumer.durable(n):
            durable = time.time()
        points, idle = influx_write_stats(influx)
        if points - base >= n and idle:  # the last write has been applied: every point is queryable
            end = time.time()
            break
        if consumer.proc.poll() is not None:
            break
        time.sleep(0.05)
    cpu = tree_cpu_seconds(consumer.proc.pid) - cpu0 if consumer.proc.poll() is None else float("nan")
    broker_cpu = cpu_seconds(mosquitto.proc.pid) - servers0[0]
    influx_cpu = cpu_seconds(influx.proc.pid) - servers0[1]
    load_average = os.getloadavg()[0]
    published = max(done.get(timeout=60) for _ in procs) - t0
    for p in procs:
        p.join(10)
    stored = stored_readings(influx)
    consumer.stop()
    seconds = (end or time.time()) - t0
    durable_per_s = round(n / (durable - t0)) if durable else None
    return {"consumer": consumer_name, "mode": mode, "readings": n, "seconds": round(seconds, 2),
            "durable_readings_per_s": durable_per_s,
            "publish_seconds": round(published, 2), "readings_per_s": round(n / seconds) if end else None,
            "cpu_s_per_million": round(cpu / n * 1e6, 2), "mosquitto_cpu_s_per_million": round(broker_cpu / n * 1e6, 2),
            "influxdb_cpu_s_per_million": round(influx_cpu / n * 1e6, 2), "load_average": round(load_average, 1),
            "stored": stored, "complete": bool(end) and stored == n}


# ---------------------------------------------------------------------------- main


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--readings", type=int, default=1_000_000, help="readings per mode and consumer")
    p.add_argument("--quick", action="store_true", help="200,000 readings")
    p.add_argument("--modes", default="gateway,device")
    p.add_argument("--consumers", default=None,
                   help="gridwatch,naive,nodered (default: all; nodered only where `node` is on PATH)")
    p.add_argument("--publishers", type=int, default=3)
    p.add_argument("--devices", type=int, default=10_000, help="devices in the city (raised to readings / 100)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs, each consumer's data dir)")
    p.add_argument("--gridwatch-args", default="", help="extra `gridwatch run` flags, e.g. '--mqtt-max-inflight 5000'")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/ingest.json")
    args = p.parse_args()
    n = 200_000 if args.quick else args.readings
    n -= n % 100
    consumers = (args.consumers or "gridwatch,naive,nodered").split(",")
    if "nodered" in consumers and (why := nodered.unavailable()):
        if args.consumers:
            p.error(f"the Node-RED peer cannot run: {why}")
        print(f"skipping the Node-RED peer: {why}", flush=True)
        consumers.remove("nodered")
    if "nodered" in consumers:
        nodered.install()
    work = Path(tempfile.mkdtemp(prefix="gridwatch-bench-"))
    results = []
    try:
        # at most 100 readings (1,000 s of history) per device: a longer backfill would rightly look like a
        # wearable silent for over 30 min, and the benchmark would measure alert handling instead of ingest
        devices = write_city(work / "city", max(args.devices, n // 100))
        port = free_port()
        (work / "mosquitto.conf").write_text(MOSQUITTO_CONF.format(port=port))
        mosquitto = ManagedServer("mosquitto", [require_binary("mosquitto"), "-c", str(work / "mosquitto.conf")],
                                  port, work)
        mosquitto.start()
        influx = start_influxdb(work / "influxdb")
        extra = {"gridwatch": args.gridwatch_args.split()}
        for mode in args.modes.split(","):
            load = make_load(mode, n, devices, int(time.time() * 1000))
            for name in consumers:
                print(f"{name:9} {mode:7} {n:,} readings ...", end=" ", flush=True)
                r = run_one(name, mode, load, n, work, work / "city", mosquitto, influx, args.publishers, extra)
                status = "ok" if r["complete"] else f"INCOMPLETE: {r['stored']} stored"
                durable = f"  (durable in gridwatch at {r['durable_readings_per_s']:,}/s)" \
                    if r.get("durable_readings_per_s") else ""
                print(f"{r['readings_per_s'] or 0:>9,} readings/s  {r['cpu_s_per_million']:5.2f} CPU-s/M  {status}"
                      f"{durable}", flush=True)
                results.append(r)
        influx.stop()
        mosquitto.stop()
    finally:
        if args.keep:
            print(f"work directory kept: {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"readings": n, "results": results}, indent=1))
    return 0 if all(r["complete"] for r in results) else 1


def print_table(results: list[dict]) -> None:
    print("\n| consumer | mode | readings | end to end s | readings/s | durable in consumer, readings/s | CPU-s per 1M"
          " | Mosquitto, InfluxDB CPU-s per 1M | load avg | target |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        target = ""
        if r["consumer"] == "gridwatch":
            ok = (r["readings_per_s"] or 0) >= TARGETS[r["mode"]]
            target = f">= {TARGETS[r['mode']]:,}/s {'met' if ok else 'MISSED'}"
            if r["mode"] == "gateway":
                target += f"; <= 3 CPU-s {'met' if r['cpu_s_per_million'] <= 3 else 'MISSED'}"
        rate = f"{r['readings_per_s']:,}" if r["readings_per_s"] else "incomplete"
        durable = f"{r['durable_readings_per_s']:,}" if r.get("durable_readings_per_s") else "—"
        print(f"| {r['consumer']} | {r['mode']} | {r['readings']:,} | {r['seconds']} | {rate} | {durable} | "
              f"{r['cpu_s_per_million']} | {r['mosquitto_cpu_s_per_million']}, {r['influxdb_cpu_s_per_million']} | "
              f"{r['load_average']} | {target} |")
    by = {(r["consumer"], r["mode"]): r for r in results}
    for mode in ("gateway", "device"):
        gw = by.get(("gridwatch", mode))
        for peer in PEERS:
            other = by.get((peer, mode))
            if gw and other and gw["readings_per_s"] and other["readings_per_s"]:
                print(f"{mode}: gridwatch / {peer}: {gw['readings_per_s'] / other['readings_per_s']:.2f}x the "
                      f"throughput, {gw['cpu_s_per_million'] / other['cpu_s_per_million']:.2f}x the CPU per reading")


if __name__ == "__main__":
    sys.exit(main())
