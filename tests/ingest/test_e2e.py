"""End to end on real servers: Mosquitto -> gridwatch -> InfluxDB 1.x (Debian's 1.6).

Each test starts its own Mosquitto and InfluxDB on free loopback ports (tests/conftest.py);
a missing server is a failure, never a skip. InfluxDB outages last seconds here; the
mechanism (spool, probe with the oldest body, drain in order) is the same for minutes.
"""

from __future__ import annotations

import logging
import time
import urllib.request

import pytest

from gridwatch.service import Service
from tests.ingest.support import HOSTILE_GRIDS, Publisher, grid_city, hostile_city, service_settings, wait_until

pytestmark = pytest.mark.integration

NOW = int(time.time() * 1000) - 60_000


def influx_service(tmp_path, mosquitto, influxdb, city, **overrides) -> Service:
    settings = service_settings(tmp_path, mqtt=mosquitto.url, influx=influxdb.url, influx_api="v1",
                                influx_bucket="gridwatch", **overrides)
    service = Service(settings, city=city)
    service.start()
    assert service.source.subscribed.wait(10), "gridwatch never subscribed"
    return service


def count(influxdb, measurement: str = "wearable") -> int:
    res = influxdb.query(f'SELECT count("heart_rate") FROM "{measurement}"', "gridwatch")["results"][0]
    return res["series"][0]["values"][0][1] if "series" in res else 0


def test_both_topic_forms_arrive_exactly_once_with_hostile_tags(tmp_path, mosquitto, influxdb):
    service = influx_service(tmp_path, mosquitto, influxdb, hostile_city())
    pub = Publisher(mosquitto.port)
    pub.send_all([
        ("devices/wb-1/telemetry", {"ts": NOW, "values": {"heart_rate": 72, "spo2": 97.5}}),
        ("devices/wb.2/telemetry", [{"ts": NOW, "values": {"heart_rate": 61}},
                                    {"ts": NOW + 1, "values": {"heart_rate": 62.25, "fall": 1}}]),
        ("gateways/gw-7/telemetry", {"sm_3": [{"ts": NOW, "values": {"smoke": 0.125, "temperature": -3.5}}],
                                     "rg-4": [{"ts": NOW + 5, "values": {"level": 2.31, "rain": 0.0}}],
                                     "mt-5": [{"ts": NOW, "values": {"energy_kwh": 123456789.5}}],
                                     "ghost": [{"ts": NOW, "values": {"heart_rate": 1}}]}),
        ("devices/wb-1/telemetry", {"ts": NOW, "values": {"heart_rate": 72, "spo2": 97.5}}),  # resent
        ("devices/wb-6/telemetry", {"heart_rate": 300.5}),  # out of range
        ("devices/wb-6/telemetry", b"{"),  # bad JSON
    ])
    wait_until(lambda: count(influxdb) == 3 and service.pipeline.unacked == 0, 15, what="the readings")
    points = {(m, p["device_id"], p["time"]): p for m in ("wearable", "smoke", "river_gauge", "meter")
              for p in influxdb.points(m, "gridwatch")}
    assert len(points) == 6
    wb1 = points["wearable", "wb-1", NOW]
    assert (wb1["grid_id"], wb1["heart_rate"], wb1["spo2"], wb1["fall"]) == (HOSTILE_GRIDS[0], 72, 97.5, None)
    assert points["wearable", "wb.2", NOW + 1]["heart_rate"] == 62.25
    assert points["wearable", "wb.2", NOW + 1]["grid_id"] == "渝中区 网格 7"
    assert points["smoke", "sm_3", NOW]["temperature"] == -3.5
    assert points["river_gauge", "rg-4", NOW + 5]["level"] == 2.31
    assert points["meter", "mt-5", NOW]["energy_kwh"] == 123456789.5
    assert points["meter", "mt-5", NOW]["grid_id"] == HOSTILE_GRIDS[1]

    host, port = service.settings.http_host_port
    wait_until(lambda: _get(f"http://{host}:{port}/health") is not None, 15, what="the HTTP API")
    metrics = _get(f"http://{host}:{port}/metrics")
    assert 'gridwatch_ingest_rejected_total{level="reading",reason="out_of_range"} 1.0' in metrics
    assert 'gridwatch_ingest_rejected_total{level="reading",reason="unknown_device"} 1.0' in metrics
    assert 'gridwatch_ingest_rejected_total{level="message",reason="bad_json"} 1.0' in metrics
    assert "gridwatch_ingest_messages_total 6.0" in metrics and "gridwatch_ingest_readings_total 9.0" in metrics
    assert "gridwatch_ingest_fast_messages_total 3.0" in metrics  # the ghost, the 300.5 and the "{" are not
    assert '"status":"ok"' in _get(f"http://{host}:{port}/health")
    assert [d.reasons for d in service.dead_letters.query()] == [("bad_json",), ("out_of_range",),
                                                                 ("unknown_device",)]
    pub.close()
    service.stop()


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode()
    except OSError as exc:
        return exc.read().decode() if hasattr(exc, "read") else None


def test_influxdb_outage_spools_and_drains_in_order(tmp_path, mosquitto, influxdb, caplog):
    devices, rounds = 20, 120
    service = influx_service(tmp_path, mosquitto, influxdb, grid_city(devices), batch_size=200)
    pub = Publisher(mosquitto.port)
    caplog.set_level(logging.INFO)
    for r in range(rounds):  # ~6 s of a gateway reporting every 50 ms; InfluxDB is down from 1 s to 4 s
        pub.send("gateways/gw/telemetry", {f"wb-{d:05d}": [{"ts": NOW + r * 100, "values": {"heart_rate": r}}]
                                           for d in range(devices)})
        if r == 20:
            wait_until(lambda: count(influxdb) > 0, 10, what="first writes")
            influxdb.stop()
        if r == 80:
            assert service.health()["status"] == "degraded"
            assert service.sink.spool.depth()[1] > 0
            influxdb.start()
        time.sleep(0.05)
    wait_until(lambda: count(influxdb) == devices * rounds, 30, what="every reading after the outage")
    wait_until(lambda: service.sink.spool.depth() == (0, 0), 10, what="an empty spool")
    for d in (0, devices - 1):
        rows = influxdb.query(f"SELECT heart_rate FROM wearable WHERE device_id = 'wb-{d:05d}'",
                              "gridwatch")["results"][0]["series"][0]["values"]
        assert [v for _, v in rows] == list(range(rounds))  # every reading, in order
    assert "unavailable" in caplog.text and "is back; draining the spool" in caplog.text
    assert service.health()["status"] == "ok"
    pub.close()
    service.stop()


def test_broker_restart_reconnects_and_resubscribes(tmp_path, mosquitto, influxdb, caplog):
    caplog.set_level(logging.INFO)
    service = influx_service(tmp_path, mosquitto, influxdb, grid_city(4))
    pub = Publisher(mosquitto.port, "before")
    pub.send_all([("devices/wb-00000/telemetry", {"ts": NOW + i, "values": {"heart_rate": 60}}) for i in range(10)])
    wait_until(lambda: count(influxdb) == 10, 10, what="readings before the restart")
    pub.close()
    mosquitto.restart()
    wait_until(lambda: service.source.connection == 2 and service.source.subscribed.is_set(), 20,
               what="a reconnect and a new subscription")
    pub = Publisher(mosquitto.port, "after")
    pub.send_all([("devices/wb-00001/telemetry", {"ts": NOW + i, "values": {"heart_rate": 70}}) for i in range(10)])
    wait_until(lambda: count(influxdb) == 20, 10, what="readings after the restart")
    assert "MQTT: lost the broker" in caplog.text and "MQTT: reconnected" in caplog.text
    pub.close()
    service.stop()
