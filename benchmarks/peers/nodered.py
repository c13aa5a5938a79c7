"""The Node-RED peer: ``benchmarks/peers/nodered/flow.json`` run by node-red 4.1.8.

mqtt in (devices/+/telemetry, gateways/+/telemetry, QoS 1) -> json -> function (InfluxDB
points: measurement = the device's kind, tags device_id and grid_id, the reading's
fields, ms timestamps; batches of 5,000 or whatever is there every second, because
node-red-contrib-influxdb's ``influx batch`` node writes once per message) -> influx
batch (v1, precision ms).

node-red 4.1.8 (5.x needs Node >= 22.9) and node-red-contrib-influxdb are installed once
into a cache directory outside the repository (``$GRIDWATCH_BENCH_CACHE/nodered``,
default ``~/.cache/gridwatch-bench/nodered``). ``start()`` writes settings.js, the flow
with the broker's and InfluxDB's ports and the city's device map into a temporary user
directory, starts ``node-red`` (no editor, no HTTP endpoints) and returns once both
subscriptions are active.

    python benchmarks/peers/nodered.py --install     # install into the cache and exit
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

NODE_RED = "4.1.8"
CONTRIB = "node-red-contrib-influxdb@0.7.0"
FLOW = Path(__file__).resolve().parent / "nodered" / "flow.json"
CACHE = Path(os.environ.get("GRIDWATCH_BENCH_CACHE", Path.home() / ".cache/gridwatch-bench")) / "nodered"

SETTINGS = """\
module.exports = {{
    flowFile: "flows.json",
    credentialSecret: false,
    uiHost: "127.0.0.1",
    uiPort: {ui_port},
    httpAdminRoot: false,   // no editor
    httpNodeRoot: false,
    disableEditor: true,
    telemetry: {{ enabled: false }},
    logging: {{ console: {{ level: "warn", metrics: false, audit: false }} }},
    functionGlobalContext: {{ devices: require("./devices.json") }},
}};
"""


def unavailable() -> str | None:
    """Why the Node-RED peer cannot run here, or None."""
    if not shutil.which("node"):
        return "`node` is not on PATH"
    if not (CACHE / "node_modules/node-red/red.js").exists() and not shutil.which("npm"):
        return "node-red is not installed and `npm` is not on PATH"
    major = int(subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()[1:].split(".")[0])
    if major < 18:
        return f"node-red {NODE_RED} needs Node >= 18 (found {major})"
    return None


def install() -> Path:
    """node-red and node-red-contrib-influxdb in CACHE (once); the path of red.js."""
    red = CACHE / "node_modules/node-red/red.js"
    pkg = CACHE / "node_modules/node-red/package.json"
    contrib = CACHE / "node_modules/node-red-contrib-influxdb/package.json"
    if red.exists() and json.loads(pkg.read_text())["version"] == NODE_RED and contrib.exists():
        return red
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"installing node-red@{NODE_RED} and {CONTRIB} into {CACHE} ...", file=sys.stderr, flush=True)
    subprocess.run(["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--no-save",
                    "--no-package-lock", f"node-red@{NODE_RED}", CONTRIB], check=True, stdout=subprocess.DEVNULL)
    return red


def write_user_dir(user_dir: Path, city: Path, mqtt_port: int, influx_url: str, db: str, client_id: str,
                   ui_port: int) -> None:
    user_dir.mkdir(parents=True, exist_ok=True)
    influx = urllib.parse.urlsplit(influx_url)
    flow = json.loads(FLOW.read_text())
    for node in flow:
        if node["type"] == "mqtt-broker":
            node.update(port=str(mqtt_port), clientid=client_id)
        elif node["type"] == "influxdb":
            node.update(hostname=influx.hostname, port=str(influx.port or 8086), database=db)
    (user_dir / "flows.json").write_text(json.dumps(flow))
    with (city / "devices.csv").open() as f:
        devices = {r["device_id"]: [r["kind"], r["grid_id"]] for r in csv.DictReader(f)}
    (user_dir / "devices.json").write_text(json.dumps(devices))
    (user_dir / "settings.js").write_text(SETTINGS.format(ui_port=ui_port))


def start(user_dir: Path, city: Path, mqtt_port: int, influx_url: str, db: str, client_id: str, ui_port: int,
          log: Path, timeout: float = 60) -> subprocess.Popen:
    """Start node-red on the flow; return once both subscriptions deliver (probe messages, no points written)."""
    import paho.mqtt.client as mqtt

    red = install()
    write_user_dir(user_dir, city, mqtt_port, influx_url, db, client_id, ui_port)
    proc = subprocess.Popen(["node", str(red), "--userDir", str(user_dir), "--settings", str(user_dir / "settings.js")],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=user_dir)
    probe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{client_id}-probe")
    probe.connect("127.0.0.1", mqtt_port)
    probe.loop_start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"node-red exited: {log.read_text()[-2000:]}")
            text = log.read_text()
            if "subscribed devices" in text and "subscribed gateways" in text:
                return proc
            probe.publish("devices/probe/telemetry", b"{}", qos=1)
            probe.publish("gateways/probe/telemetry", b"{}", qos=1)
            time.sleep(0.25)
        proc.kill()
        proc.wait()
        raise RuntimeError(f"node-red did not subscribe in {timeout:.0f} s: {log.read_text()[-2000:]}")
    finally:
        probe.loop_stop()
        probe.disconnect()


if __name__ == "__main__":
    if "--install" in sys.argv:
        why = unavailable()
        sys.exit(why or print(install()))
    print(__doc__)
