"""The defining case end to end, through the real service on a real Mosquitto.

A 69-year-old's wristband (wb-0001, grid g-001) shows his heart rate falling. Within
seconds there must be exactly one red work order, assigned to the grid's nearest
available worker with the medical skill (w-001), published on that worker's topic,
listed by the HTTP API, with the medical and traffic-police departments pulled in.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import numpy as np
import paho.mqtt.client as mqtt
import pytest

from gridwatch.service import Service
from tests.ingest.support import Publisher, service_settings, wait_until

pytestmark = pytest.mark.integration
ADMIN = "e2e-admin-token"


def _subscribe(port: int, topics: list[str]) -> tuple[mqtt.Client, list[tuple[str, dict]]]:
    got: list[tuple[str, dict]] = []
    ready = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="e2e-phone")
    client.on_message = lambda c, u, m: got.append((m.topic, json.loads(m.payload)))
    client.on_subscribe = lambda *a: ready.set()
    client.connect("127.0.0.1", port)
    client.subscribe([(t, 1) for t in topics])
    client.loop_start()
    assert ready.wait(10), "test subscriber never subscribed"
    return client, got


def _wearer_history(now: int) -> tuple[list[dict], list[dict]]:
    rng = np.random.default_rng(7)
    usual = [{"ts": now - 1_800_000 + i * 10_000, "values": {"heart_rate": round(75 + rng.normal(0, 2)), "spo2": 97}}
             for i in range(175)]
    falling = [{"ts": now - 40_000 + i * 10_000, "values": {"heart_rate": 36 + i % 2, "spo2": 95}} for i in range(5)]
    return usual, falling


def test_heart_rate_drop_becomes_one_red_order_on_the_grid_workers_phone(tmp_path, mosquitto, small_city):
    settings = service_settings(tmp_path, mqtt=mosquitto.url, admin_token=ADMIN)
    service = Service(settings, city=small_city)
    phone, messages = _subscribe(mosquitto.port, ["workers/+/orders", "departments/+/orders"])
    service.start()
    try:
        assert service.source.subscribed.wait(10), "gridwatch never subscribed"
        usual, falling = _wearer_history(int(time.time() * 1000))
        pub = Publisher(mosquitto.port)
        pub.send_all([("devices/wb-0001/telemetry", usual)])
        published_at = time.monotonic()
        pub.send_all([("gateways/gw-1/telemetry", {"wb-0001": falling})])
        wait_until(lambda: any(t == "workers/w-001/orders" for t, _ in messages), 20, what="the order on w-001's phone")
        took = time.monotonic() - published_at
        pub.close()

        phone_event = next(m for t, m in messages if t == "workers/w-001/orders")
        order = phone_event["order"]
        assert (order["severity"], order["device_id"], order["grid_id"], order["assignee"]) == (
            "red", "wb-0001", "g-001", "w-001")
        assert "heart rate" in order["reason"] and "below" in order["reason"]
        assert took < 15, f"red order reached the phone {took:.1f} s after the drop was published"
        wait_until(lambda: {t for t, _ in messages} >= {"departments/medical-120/orders",
                                                       "departments/traffic-police/orders"}, 10,
                   what="medical and traffic police pulled in")

        host, port = settings.http_host_port
        api = httpx.Client(base_url=f"http://{host}:{port}", headers={"Authorization": f"Bearer {ADMIN}"})
        listed = api.get("/api/v1/work-orders", params={"severity": "red"}).json()["items"]
        assert [(o["id"], o["assignee"]) for o in listed] == [(order["id"], "w-001")], "exactly one red order"
        timeline = api.get(f"/api/v1/work-orders/{order['id']}").json()["timeline"]
        dispatched = next(e for e in timeline if e["type"] == "dispatched")
        assert dispatched["note"].startswith("w-001: same grid, medical")
        assert api.get("/api/v1/work-orders").status_code == 200
        assert httpx.get(f"http://{host}:{port}/api/v1/work-orders").status_code == 401
    finally:
        phone.loop_stop()
        phone.disconnect()
        service.stop()
