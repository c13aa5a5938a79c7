"""The fast receive path against paho's own, and the MQTT 5 window, on a real Mosquitto."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest

from core.metrics import new_registry
from ingest.metrics import IngestMetrics
from ingest.mqtt_source import BrokerAddress, MqttSource
from tests.ingest.support import Publisher, wait_until

pytestmark = pytest.mark.integration


def stock_subscriber(port: int, protocol: int) -> tuple[mqtt.Client, list, threading.Event]:
    got: list = []
    ready = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"stock-{protocol}", protocol=protocol)
    client.on_connect = lambda c, u, f, rc, p=None: c.subscribe("devices/+/telemetry", 1)
    client.on_subscribe = lambda *a: ready.set()
    client.on_message = lambda c, u, m: got.append((m.topic.encode(), m.payload, m.qos))
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client, got, ready


@pytest.mark.parametrize("protocol", [mqtt.MQTTv5, mqtt.MQTTv311])
def test_fast_path_reads_what_paho_reads(mosquitto, protocol):
    source = MqttSource(BrokerAddress.parse(mosquitto.url), f"fast-{protocol}", IngestMetrics(new_registry()),
                        max_inflight=2000, protocol=protocol)
    source.start()
    stock, got, ready = stock_subscriber(mosquitto.port, protocol)
    assert source.subscribed.wait(10) and ready.wait(10)
    sizes = [0, 1, 126, 127, 128, 16_383, 16_384, 70_000, 300_000, 2_000_000] + [20] * 500
    pub = Publisher(mosquitto.port)
    sent = [(f"devices/d-{i}/telemetry".encode(), bytes([i % 251]) * n, i % 2) for i, n in enumerate(sizes)]
    pub.send_all([(t.decode(), p) for t, p, q in sent if q == 1], qos=1)
    pub.send_all([(t.decode(), p) for t, p, q in sent if q == 0], qos=0)
    wait_until(lambda: len(source.inbox) == len(sent) and len(got) == len(sent), 20, what="all messages")
    fast = [(t, p, q) for t, p, mid, q, conn, ms in source.inbox]
    assert fast == got
    assert all(mid > 0 for t, p, mid, q, conn, ms in source.inbox if q == 1)
    source.ack([(mid, q, conn) for t, p, mid, q, conn, ms in source.inbox])
    pub.close()
    stock.disconnect()
    stock.loop_stop()
    source.stop()


def test_unacknowledged_messages_stay_bounded(mosquitto):
    """Receive Maximum gives the first window; the source's own bound holds after it."""
    source = MqttSource(BrokerAddress.parse(mosquitto.url), "windowed", IngestMetrics(new_registry()),
                        max_inflight=50)
    source.start()
    assert source.subscribed.wait(10)
    pub = Publisher(mosquitto.port)
    pub.send_all([("devices/d/telemetry", b"%d" % i) for i in range(1000)])
    wait_until(lambda: len(source.inbox) >= 50, 10, what="the first window")
    time.sleep(0.3)
    assert len(source.inbox) == 50  # the broker waits for acknowledgements
    taken = []
    for _ in range(15):  # acknowledge a little at a time, as a slow sink would
        batch = [source.inbox.popleft() for _ in range(min(20, len(source.inbox)))]
        source.ack([(mid, q, conn) for t, p, mid, q, conn, ms in batch])
        taken += batch
        time.sleep(0.05)
        assert source.outstanding <= source.max_outstanding
    wait_until(lambda: len(taken) + len(source.inbox) >= 350, 10, what="more messages")
    while len(taken) < 1000:
        wait_until(lambda: source.inbox, 10, what="the rest")
        batch = [source.inbox.popleft() for _ in range(len(source.inbox))]
        source.ack([(mid, q, conn) for t, p, mid, q, conn, ms in batch])
        taken += batch
    assert [p for t, p, *_ in taken] == [b"%d" % i for i in range(1000)]  # in order, none lost, no dup
    pub.close()
    source.stop()
