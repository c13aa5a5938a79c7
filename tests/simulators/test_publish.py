"""Simulate publishes a scenario's readings through a real Mosquitto, in both topic forms."""

import threading
import time

import orjson
import paho.mqtt.client as mqtt
import pytest

from core.settings import Settings
from simulators.scenario import load_scenario
from simulators.session import SimulationSession
from simulators.world import World

START = "2024-11-22T08:00:00+08:00"


def _listen(url_port: int) -> tuple[mqtt.Client, list[tuple[str, bytes]]]:
    got: list[tuple[str, bytes]] = []
    ready = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-listener")
    c.on_connect = lambda cl, u, f, r, p: cl.subscribe([("devices/+/telemetry", 1), ("gateways/+/telemetry", 1)])
    c.on_subscribe = lambda *a: ready.set()
    c.on_message = lambda cl, u, m: got.append((m.topic, m.payload))
    c.connect("127.0.0.1", url_port)
    c.loop_start()
    assert ready.wait(10)
    time.sleep(0.3)
    return c, got


def _readings(messages: list[tuple[str, bytes]]) -> set[tuple[str, int, tuple]]:
    out = set()
    for topic, payload in messages:
        body = orjson.loads(payload)
        if topic.startswith("devices/"):
            assert set(body) == {"ts", "values"}
            out.add((topic.split("/")[1], body["ts"], tuple(sorted(body["values"].items()))))
        else:
            assert topic.startswith("gateways/gw-") and topic.endswith("/telemetry")
            for dev, rows in body.items():
                out.update((dev, r["ts"], tuple(sorted(r["values"].items()))) for r in rows)
    return out


@pytest.mark.integration
@pytest.mark.parametrize("form", ["device", "gateway"])
def test_simulate_publishes_every_reading_in_interfaces_form(mosquitto, small_city, tmp_path, form):
    listener, got = _listen(mosquitto.port)
    scenario = load_scenario("elderly-cardiac")
    scenario = scenario.model_copy(update={
        "duration": 120.0, "speed": 240.0, "incidents": [], "faults": [],
        "publish": scenario.publish.model_copy(update={"form": form, "warmup": 0.0})})
    settings = Settings.load(overrides={"data_dir": tmp_path, "mqtt": mosquitto.url}, env={})
    session = SimulationSession.create(scenario, settings, start=START, workers=False, city=small_city)
    stats = session.run()
    expected = World(small_city, scenario, session.world.start_s).window(session.world.start_s,
                                                                         session.world.start_s + 120)
    deadline = time.monotonic() + 10
    want = sum(len(b) for b in expected)
    while time.monotonic() < deadline and len(_readings(got)) < want:
        time.sleep(0.1)
    listener.loop_stop()
    assert stats.readings == want > 30
    seen = _readings(got)
    assert len(seen) == want
    wb = [r for r in seen if r[0] == "wb-0001"]
    assert wb and all(dict(r[2]).keys() <= {"heart_rate", "spo2", "fall", "battery"} for r in wb)
    assert all(isinstance(dict(r[2])["heart_rate"], int) for r in wb)
    assert all(1732233600000 - 5000 <= r[1] <= 1732233600000 + 125_000 for r in seen)
    assert session.truth_path.is_file()
