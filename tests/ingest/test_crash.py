"""``gridwatch run`` killed with SIGKILL mid-stream and restarted loses nothing and duplicates nothing.

QoS 1, manual acknowledgement after the spool's fsync, and a persistent session: what
was acknowledged is in the spool (sent after the restart), what was not is redelivered
by the broker. A reading delivered twice carries its own timestamp, so InfluxDB
overwrites it: the database ends with exactly the published readings.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ingest.support import Publisher, wait_until
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

DEVICES = 200
NOW = int(time.time() * 1000) - 3_600_000


def write_city(d: Path, devices: int) -> Path:
    d.mkdir(parents=True)
    (d / "grids.csv").write_text("grid_id,town_id,district_id,lat,lon\ng-1,t-1,d-1,29.56,106.55\n")
    (d / "devices.csv").write_text("device_id,kind,grid_id,lat,lon\n" + "".join(
        f"wb-{i:05d},wearable,g-1,29.56,106.55\n" for i in range(devices)))
    (d / "workers.csv").write_text(
        "worker_id,name,grid_id,role,skills,lat,lon\nw-1,Liu,g-1,worker,medical,29.5,106.5\n")
    (d / "departments.csv").write_text("dept_id,name,handles\nmed,Medical,wearable\n")
    return d


def start_gridwatch(tmp_path: Path, city: Path, mosquitto, influxdb, http_port: int) -> subprocess.Popen:
    argv = [sys.executable, "-m", "gridwatch.cli", "run", "--city", str(city), "--mqtt", mosquitto.url,
            "--influx", influxdb.url, "--influx-api", "v1", "--influx-bucket", "gridwatch",
            "--data-dir", str(tmp_path / "data"), "--http", f"127.0.0.1:{http_port}", "--flush-interval", "0.2"]
    log = (tmp_path / "gridwatch.log").open("ab")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")}
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=Path(__file__).parents[2])


def subscribed(http_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/health", timeout=2) as r:
            return json.loads(r.read())["mqtt"]["subscribed"]
    except OSError as exc:  # 503 while starting up still has a body
        body = exc.read() if hasattr(exc, "read") else b""
        return bool(body) and json.loads(body).get("mqtt", {}).get("subscribed", False)


def test_sigkill_mid_stream_then_restart_stores_exactly_what_was_published(tmp_path, mosquitto, influxdb):
    city = write_city(tmp_path / "city", DEVICES)
    port = free_port()
    proc = start_gridwatch(tmp_path, city, mosquitto, influxdb, port)
    wait_until(lambda: subscribed(port), 30, interval=0.2, what="gridwatch to subscribe")

    expected: dict[tuple[str, int], float] = {}
    messages = []
    for r in range(200):  # gateway messages, 100 readings each
        body = {}
        for j in range(100):
            dev, ts, val = f"wb-{(r * 100 + j) % DEVICES:05d}", NOW + r * 1000 + j // DEVICES, float(r % 250)
            body.setdefault(dev, []).append({"ts": ts, "values": {"heart_rate": val}})
            expected[dev, ts] = val
        messages.append(("gateways/gw-1/telemetry", body))
    for i in range(3000):  # device messages, one reading each
        dev, ts, val = f"wb-{i % DEVICES:05d}", NOW + 500_000 + i, float(40 + i % 100)
        messages.append((f"devices/{dev}/telemetry", {"ts": ts, "values": {"heart_rate": val}}))
        expected[dev, ts] = val

    pub = Publisher(mosquitto.port)
    sender = threading.Thread(target=lambda: [pub.send(t, p) or time.sleep(0.0005) for t, p in messages])
    sender.start()
    wait_until(lambda: _count(influxdb) > 2000, 20, interval=0.1, what="a stream under way")
    proc.send_signal(signal.SIGKILL)  # mid-stream: some acknowledged and spooled, some not
    proc.wait(10)
    proc = start_gridwatch(tmp_path, city, mosquitto, influxdb, port)
    sender.join(60)
    pub.send_all([])  # nothing more; every publish above was confirmed by the broker
    try:
        wait_until(lambda: _count(influxdb) >= len(expected), 60, interval=0.3, what="every reading")
        time.sleep(0.5)
        rows = influxdb.query("SELECT heart_rate, device_id FROM wearable", "gridwatch")["results"][0]
        stored = {(dev, t): v for t, v, dev in rows["series"][0]["values"]}
        assert stored == expected  # count and values, nothing lost, nothing extra
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        pub.close()
    log = (tmp_path / "gridwatch.log").read_text()
    assert "resumed session" in log


def _count(influxdb) -> int:
    res = influxdb.query('SELECT count("heart_rate") FROM "wearable"', "gridwatch")["results"][0]
    return res["series"][0]["values"][0][1] if "series" in res else 0


def test_a_second_gridwatch_on_the_same_data_dir_refuses_to_start(tmp_path, mosquitto, influxdb):
    """Two processes writing one spool would interleave its records: the second one stops, saying why."""
    city = write_city(tmp_path / "city", 10)
    first_port = free_port()
    first = start_gridwatch(tmp_path, city, mosquitto, influxdb, first_port)
    try:
        wait_until(lambda: subscribed(first_port), 30, interval=0.2, what="gridwatch to subscribe")
        second = start_gridwatch(tmp_path, city, mosquitto, influxdb, free_port())
        assert second.wait(60) == 2
        log = (tmp_path / "gridwatch.log").read_text()
        assert f"is in use by another gridwatch (pid {first.pid})" in log
        assert first.poll() is None and subscribed(first_port)  # the first one runs on
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(30)
