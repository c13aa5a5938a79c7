"""``gridwatch run`` with no options: embedded broker (amqtt), embedded store, built-in town."""

from __future__ import annotations

import time

import paho.mqtt.client as mqtt
import pytest

from gridwatch.service import Service
from ingest.embedded_store import EmbeddedStore
from tests.ingest.support import service_settings, wait_until

pytestmark = pytest.mark.integration


def test_embedded_defaults_store_what_is_published(tmp_path):
    settings = service_settings(tmp_path)
    assert settings.mqtt is None and settings.influx is None and settings.city is None
    service = Service(settings)  # generates the built-in demo town into data_dir/city
    service.start()
    try:
        assert service.source.subscribed.wait(20)
        ids = [str(i) for i in service.city.devices.ids[:3]]
        kinds = [service.city.devices.kind_name(i) for i in range(3)]
        host, port = settings.mqtt_embedded.rsplit(":", 1)
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="embedded-test", protocol=mqtt.MQTTv311)
        pub.connect(host, int(port))
        pub.loop_start()
        now = int(time.time() * 1000)
        field = {"wearable": "heart_rate", "smoke": "smoke", "river_gauge": "level", "meter": "power_kw"}
        for i, (dev, kind) in enumerate(zip(ids, kinds, strict=True)):
            pub.publish(f"devices/{dev}/telemetry", b'{"ts": %d, "values": {"%s": %d}}' % (now, field[kind].encode(),
                        i + 1), qos=1).wait_for_publish(10)
        pub.publish("devices/nobody/telemetry", b'{"heart_rate": 1}', qos=1).wait_for_publish(10)
        wait_until(lambda: service.pipeline.unacked == 0 and service.metrics.written._value.get() == 3, 20,
                   what="readings in the embedded store")
        store = EmbeddedStore.open(settings.data_dir)
        got = {(str(service.city.devices.ids[s]), int(t)) for b in store.read(now - 1, now + 1)
               for s, t in zip(b.device, b.ts, strict=True)}
        assert got == {(d, now) for d in ids}
        assert service.health()["status"] == "ok" and service.health()["mqtt"]["embedded"]
        assert service.latest.get(ids[0])["ts"] == now
        pub.disconnect()
        pub.loop_stop()
    finally:
        service.stop()
    assert not service.broker.running
