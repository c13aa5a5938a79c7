"""``gridwatch mosquitto-acl``: Debian's real Mosquitto accepts the files and enforces them."""

from __future__ import annotations

import csv
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from gridwatch.cli import main
from tests.support.servers import ManagedServer, free_port, require_binary

pytestmark = pytest.mark.integration

CONF = """\
# as root Mosquitto would switch to its own user, which cannot read files made by the test's
user root
listener {port} 127.0.0.1
allow_anonymous false
password_file {auth}/passwd
acl_file {auth}/acl
"""


@pytest.fixture
def secured(tmp_path, small_city_dir):
    auth = tmp_path / "auth"
    assert main(["mosquitto-acl", "--city", str(small_city_dir), "--out", str(auth), "--gateway", "gw-1"]) == 0
    with (auth / "passwords.csv").open() as fh:
        passwords = {r["username"]: r["password"] for r in csv.DictReader(fh)}
    port = free_port()
    (tmp_path / "mosquitto.conf").write_text(CONF.format(port=port, auth=auth))
    server = ManagedServer("mosquitto", [require_binary("mosquitto"), "-c", str(tmp_path / "mosquitto.conf")],
                           port, tmp_path)
    server.start()
    yield port, passwords, auth
    server.stop()


def client(port: int, user: str, password: str, received: list | None = None, topic: str | None = None):
    ready, refused = threading.Event(), []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{user}-{time.monotonic_ns()}")
    c.username_pw_set(user, password)

    def on_connect(cl, u, flags, rc, p=None):
        if rc.is_failure:
            refused.append(rc)
            ready.set()
        elif topic:
            cl.subscribe(topic, 1)
        else:
            ready.set()

    c.on_connect = on_connect
    c.on_subscribe = lambda *a: ready.set()
    if received is not None:
        c.on_message = lambda cl, u, m: received.append((m.topic, m.payload))
    c.connect("127.0.0.1", port)
    c.loop_start()
    assert ready.wait(10)
    return c, refused


def test_generated_files_work_and_each_device_publishes_only_its_own_topic(secured):
    port, pw, auth = secured
    assert (auth / "passwords.csv").stat().st_mode & 0o777 == 0o600
    assert (auth / "passwd").stat().st_mode & 0o777 == 0o640
    got: list = []
    service, _ = client(port, "gridwatch", pw["gridwatch"], got, "#")  # "#" but only granted topics arrive
    device, _ = client(port, "wb-0001", pw["wb-0001"])
    gateway, _ = client(port, "gw-1", pw["gw-1"])
    for c, topic in [(device, "devices/wb-0002/telemetry"), (device, "gateways/gw-1/telemetry"),
                     (gateway, "gateways/gw-2/telemetry"), (gateway, "devices/wb-0001/telemetry"),
                     (device, "devices/wb-0001/telemetry"), (gateway, "gateways/gw-1/telemetry")]:
        c.publish(topic, topic.encode(), qos=1).wait_for_publish(5)
    deadline = time.monotonic() + 10
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    assert sorted(t for t, _ in got) == ["devices/wb-0001/telemetry", "gateways/gw-1/telemetry"]

    worker_got: list = []
    worker, _ = client(port, "w-001", pw["w-001"], worker_got, "workers/+/orders")
    service.publish("workers/w-002/orders", b"not yours", qos=1).wait_for_publish(5)
    service.publish("workers/w-001/orders", b"yours", qos=1).wait_for_publish(5)
    deadline = time.monotonic() + 10
    while not worker_got and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert worker_got == [("workers/w-001/orders", b"yours")]

    _, refused = client(port, "wb-0001", "wrong password")
    assert refused
    for c in (service, device, gateway, worker):
        c.disconnect()
        c.loop_stop()


def test_regenerating_keeps_known_passwords(secured, small_city_dir, tmp_path):
    _port, pw, auth = secured
    again = tmp_path / "again"
    assert main(["mosquitto-acl", "--city", str(small_city_dir), "--out", str(again),
                 "--passwords", str(auth / "passwords.csv")]) == 0
    with (again / "passwords.csv").open() as fh:
        kept = {r["username"]: r["password"] for r in csv.DictReader(fh)}
    assert kept["wb-0001"] == pw["wb-0001"] and "gw-1" not in kept
