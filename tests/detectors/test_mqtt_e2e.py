"""End to end on a real Mosquitto: a heart-rate drop published over MQTT becomes a red alert."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.clock import SystemClock
from detectors.consumer import DetectorConsumer
from detectors.engine import DetectorEngine
from gridwatch.service import Service
from tests.ingest.support import Publisher, service_settings, wait_until

pytestmark = pytest.mark.integration


def test_heart_rate_drop_over_mqtt_is_red_with_a_readable_reason(tmp_path, mosquitto, small_city):
    service = Service(service_settings(tmp_path, mqtt=mosquitto.url), city=small_city)
    events: list = []
    detector = DetectorConsumer(DetectorEngine(small_city, clock=SystemClock()), events.extend, SystemClock())
    service.consumers.append(detector)
    service.start()
    try:
        assert service.source.subscribed.wait(10), "gridwatch never subscribed"
        now = int(time.time() * 1000)
        rng = np.random.default_rng(0)
        history = [{"ts": now - 1_800_000 + i * 10_000, "values": {"heart_rate": round(75 + rng.normal(0, 2))}}
                   for i in range(175)]
        drop = [{"ts": now - 40_000 + i * 10_000, "values": {"heart_rate": 36 + i % 2}} for i in range(5)]
        pub = Publisher(mosquitto.port)
        pub.send_all([("devices/wb-0001/telemetry", history), ("gateways/gw-1/telemetry", {"wb-0001": drop})])
        wait_until(lambda: any(e.severity == 4 for e in events), 20, what="a red alert")
        pub.close()
    finally:
        service.stop()
        detector.stop()
    red = next(e for e in events if e.severity == 4)
    assert (red.device_id, red.rule, red.grid_id) == ("wb-0001", "wearable.hr_drop", "g-001")
    assert red.reason.startswith("heart rate 3") and "below this wearer's usual 7" in red.reason
