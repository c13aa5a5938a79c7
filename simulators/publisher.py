"""Publish readings over MQTT as devices or gateways do (INTERFACES §1, ThingsBoard shapes).

Device form: one message per reading on ``devices/{id}/telemetry`` with
``{"ts": ms, "values": {...}}``. Gateway form: one message per grid per step on
``gateways/gw-{grid_id}/telemetry`` with ``{"wb-000017": [{"ts": .., "values": ..}], ...}``.
Fields a reading does not carry (NaN) are left out; whole numbers are sent as integers.
QoS 1; the number of unacknowledged messages is bounded so paho's queue stays short
(see NOTES.md).

>>> import numpy as np
>>> from core.batch import ReadingBatch
>>> from core.city import load_city
>>> city = load_city("tests/data/city-small")
>>> b = ReadingBatch("wearable", np.array([0]), np.array([1732233600123]),
...                  {"heart_rate": np.array([72.0]), "spo2": np.array([np.nan])})
>>> device_messages([b], city)
[('devices/wb-0001/telemetry', b'{"ts":1732233600123,"values":{"heart_rate":72}}')]
>>> gateway_messages([b], city)
[('gateways/gw-g-001/telemetry', b'{"wb-0001":[{"ts":1732233600123,"values":{"heart_rate":72}}]}')]
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt

from core.batch import ReadingBatch
from core.city import City

log = logging.getLogger(__name__)
MAX_UNACKED = 500


def _rows(batch: ReadingBatch, city: City) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(device id, ts, values) per reading, NaN fields dropped, integral floats as ints."""
    names = list(batch.values)
    cols = [batch.values[n].tolist() for n in names]
    ids = city.devices.ids
    for r, (slot, ts) in enumerate(zip(batch.device.tolist(), batch.ts.tolist(), strict=True)):
        vals: dict[str, Any] = {}
        for n, col in zip(names, cols, strict=True):
            v = col[r]
            if v == v:  # not NaN
                vals[n] = int(v) if v.is_integer() and abs(v) < 1e15 else v
        yield str(ids[slot]), ts, vals


def device_messages(batches: Sequence[ReadingBatch], city: City) -> list[tuple[str, bytes]]:
    return [
        (f"devices/{dev}/telemetry", orjson.dumps({"ts": ts, "values": vals}))
        for b in batches for dev, ts, vals in _rows(b, city)
    ]


def gateway_messages(batches: Sequence[ReadingBatch], city: City) -> list[tuple[str, bytes]]:
    by_grid: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    grid_ids, dev_grid = city.grids.ids, city.devices.grid
    for b in batches:
        grids = dev_grid[b.device].tolist()
        for g, (dev, ts, vals) in zip(grids, _rows(b, city), strict=True):
            by_grid[str(grid_ids[g])][dev].append({"ts": ts, "values": vals})
    return [(f"gateways/gw-{g}/telemetry", orjson.dumps(devs)) for g, devs in by_grid.items()]


def mqtt_client(url: str, client_id: str, username: str | None = None, password: str | None = None,
                ca_file: str | None = None) -> tuple[mqtt.Client, str, int]:
    """A paho 2.x client for ``mqtt://`` or ``mqtts://`` URLs (user:pass@ in the URL works too)."""
    u = urlsplit(url)
    if u.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"{url!r}: expected mqtt://HOST:PORT or mqtts://HOST:PORT")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    user, pw = username or u.username, password or u.password
    if user:
        client.username_pw_set(user, pw)
    tls = u.scheme in ("mqtts", "ssl")
    if tls:
        client.tls_set(ca_certs=ca_file)
    return client, u.hostname or "127.0.0.1", u.port or (8883 if tls else 1883)


class Publisher:
    """One MQTT connection publishing batches in the device or gateway form at QoS 1."""

    def __init__(self, url: str, form: str = "gateway", client_id: str | None = None, **auth: Any) -> None:
        self.form = form
        self.client, host, port = mqtt_client(url, client_id or f"gridwatch-sim-{uuid.uuid4().hex[:8]}", **auth)
        self.connected = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.max_inflight_messages_set(100)
        self.messages = self.readings = 0
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self._closing = False
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason, props) -> None:
        if reason.is_failure:
            log.warning("simulator MQTT connect refused: %s", reason)
            return
        if not self.connected.is_set():
            log.info("simulator connected to MQTT")
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason, props) -> None:
        if self.connected.is_set() and not self._closing:
            log.warning("simulator MQTT connection lost (%s); paho reconnects", reason)
        self.connected.clear()

    def publish(self, batches: Sequence[ReadingBatch], city: City) -> int:
        """Publish the readings; returns messages sent. Blocks while too many are unacknowledged."""
        encode = gateway_messages if self.form == "gateway" else device_messages
        msgs = encode(batches, city)
        for topic, payload in msgs:
            self._pending.append(self.client.publish(topic, payload, qos=1))
            if len(self._pending) >= MAX_UNACKED:
                self.flush()
        self.messages += len(msgs)
        self.readings += sum(len(b) for b in batches)
        return len(msgs)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until everything published so far is acknowledged by the broker."""
        for info in self._pending:
            info.wait_for_publish(timeout)
        self._pending.clear()

    def close(self) -> None:
        self._closing = True
        self.client.loop_stop()
        self.client.disconnect()


def subscribe_orders(url: str, on_message: Any, client_id: str | None = None, **auth: Any) -> mqtt.Client:
    """A client that hears every worker's orders (``workers/+/orders``, QoS 1) and hands them to ``on_message``.

    Subscribes in ``on_connect`` so a reconnect resubscribes; the callback only hands off.
    """
    client, host, port = mqtt_client(url, client_id or f"gridwatch-sim-workers-{uuid.uuid4().hex[:8]}", **auth)
    ready = threading.Event()

    def _connect(c, userdata, flags, reason, props) -> None:
        if not reason.is_failure:
            c.subscribe("workers/+/orders", qos=1)

    def _subscribed(c, userdata, mid, reasons, props) -> None:
        ready.set()

    client.on_connect = _connect
    client.on_subscribe = _subscribed
    client.on_message = lambda c, u, msg: on_message(msg.topic, msg.payload)
    client.connect_async(host, port, keepalive=30)
    client.loop_start()
    client.subscribed = ready  # type: ignore[attr-defined]
    return client
