"""The naive consumer a user would write first: the peer gridwatch is measured against.

paho callback -> json.loads -> one line-protocol string per reading -> POST every
5,000 lines (and whatever is left after a second of quiet), synchronously, from the
callback. paho acknowledges each QoS 1 message when the callback returns.

    python benchmarks/peers/naive.py --mqtt 127.0.0.1:1883 --influx http://127.0.0.1:8086 --db bench

Prints ``ready`` once subscribed.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.request

import paho.mqtt.client as mqtt


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mqtt", required=True, help="HOST:PORT")
    p.add_argument("--influx", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--qos", type=int, default=1)
    p.add_argument("--client-id", default="naive")
    args = p.parse_args()
    url = f"{args.influx}/write?db={args.db}&precision=ms"
    lines: list[str] = []
    lock = threading.Lock()
    last = [time.monotonic()]

    def flush() -> None:
        with lock:  # appends may race at the end of the list: take only what is there now
            k = len(lines)
            body = "\n".join(lines[:k]).encode()
            del lines[:k]
        if body:
            urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=60).read()

    def add(kind: str, device: str, ts: int, values: dict) -> None:
        fields = ",".join(f"{k}={float(v)}" for k, v in values.items())
        lines.append(f"{kind},device_id={device} {fields} {ts}")

    def on_message(client, userdata, msg) -> None:
        parts = msg.topic.split("/")
        data = json.loads(msg.payload)
        if parts[0] == "devices":
            for r in data if isinstance(data, list) else [data]:
                add(KIND[parts[1][:2]], parts[1], r["ts"], r["values"])
        else:
            for device, readings in data.items():
                for r in readings:
                    add(KIND[device[:2]], device, r["ts"], r["values"])
        last[0] = time.monotonic()
        if len(lines) >= 5000:
            flush()

    def on_connect(client, userdata, flags, rc, props=None) -> None:
        client.subscribe([("devices/+/telemetry", args.qos), ("gateways/+/telemetry", args.qos)])

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=args.client_id)
    client.on_connect = on_connect
    client.on_message = on_message
    client.on_subscribe = lambda *a: print("ready", flush=True)
    host, port = args.mqtt.rsplit(":", 1)
    client.connect(host, int(port))
    client.loop_start()
    while True:  # the quiet-second flush
        time.sleep(0.2)
        if lines and time.monotonic() - last[0] > 1.0:
            flush()


KIND = {"we": "wearable", "sm": "smoke", "ri": "river_gauge", "me": "meter"}

if __name__ == "__main__":
    main()
