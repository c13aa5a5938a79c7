"""Helpers for the ingest tests: cities with hostile tag values, publishers, waiting."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt

from core.city import City, Devices, Grids, Workers
from core.kinds import KINDS
from core.settings import Settings
from tests.support.servers import free_port

# grid ids a city loader does not allow today, but InfluxDB tags must survive: spaces,
# commas, equals signs, backslashes-free non-ASCII
HOSTILE_GRIDS = ["Jiefangbei North, 解放碑=1", "渝中区 网格 7", "plain-grid"]


def make_city(device_ids: list[str], kinds: list[str], grid_of: list[int], grid_ids: list[str]) -> City:
    """A City built in memory, so grid ids can hold what CSV ids may not."""
    g = len(grid_ids)
    grids = Grids(np.array(grid_ids, object), {x: i for i, x in enumerate(grid_ids)}, {},
                  np.array(["t-1"] * g, object), np.array(["d-1"] * g, object), np.zeros(g), np.zeros(g))
    n = len(device_ids)
    devices = Devices(np.array(device_ids, object), {x: i for i, x in enumerate(device_ids)}, {},
                      np.array([KINDS.index(k) for k in kinds], np.int8), np.array(grid_of, np.int32),
                      np.zeros(n), np.zeros(n), {})
    workers = Workers(np.empty(0, object), {}, {})
    return City(grids, devices, workers, {}, source="<test>")


def hostile_city() -> City:
    ids = ["wb-1", "wb.2", "sm_3", "rg-4", "mt-5", "wb-6"]
    kinds = ["wearable", "wearable", "smoke", "river_gauge", "meter", "wearable"]
    return make_city(ids, kinds, [0, 1, 2, 0, 1, 2], HOSTILE_GRIDS)


def grid_city(n_devices: int) -> City:
    """``n_devices`` wearables named wb-00000... in one grid with a hostile name."""
    ids = [f"wb-{i:05d}" for i in range(n_devices)]
    return make_city(ids, ["wearable"] * n_devices, [i % 3 for i in range(n_devices)], HOSTILE_GRIDS)


def service_settings(tmp_path: Path, **overrides) -> Settings:
    base = {"data_dir": tmp_path / "data", "http": f"127.0.0.1:{free_port()}", "flush_interval": 0.2,
            "mqtt_embedded": f"127.0.0.1:{free_port()}"}
    base.update(overrides)
    return Settings.load(overrides=base, env={})


class Publisher:
    """A paho QoS 1 publisher that waits until the broker has every message."""

    def __init__(self, port: int, client_id: str = "test-publisher") -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.max_inflight_messages_set(1000)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def send(self, topic: str, payload: bytes | str | dict | list, qos: int = 1):
        if not isinstance(payload, (bytes, str)):
            payload = json.dumps(payload)
        return self.client.publish(topic, payload, qos=qos)

    def send_all(self, messages: Iterable[tuple[str, object]], qos: int = 1) -> int:
        infos = [self.send(t, p, qos) for t, p in messages]
        for info in infos:
            info.wait_for_publish(30)
        return len(infos)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
