"""Notifications through a real Mosquitto and a local webhook receiver; outages delay, never lose."""

from __future__ import annotations

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa

from alerts.models import OutboxMessage
from alerts.notify.outbox import OutboxDeliverer
from alerts.notify.webhook import HEADER, verify
from core.clock import ManualClock, SystemClock
from core.events import EventBus
from tests.alerts.helpers import T0, alert, config, submit


class Subscriber:
    """A phone app: persistent session, QoS 1, messages into a queue."""

    def __init__(self, url_port: int, topic: str) -> None:
        self.messages: queue.Queue[tuple[str, dict]] = queue.Queue()
        self._subscribed = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"phone-{time.monotonic_ns()}",
                        clean_session=False)
        c.on_connect = lambda cl, *_: cl.subscribe(topic, qos=1)
        self.resubscribed = threading.Event()
        c.on_subscribe = lambda *_: (self._subscribed.set(), self.resubscribed.set())
        c.on_message = lambda _c, _u, m: self.messages.put((m.topic, json.loads(m.payload)))
        c.reconnect_delay_set(0.1, 0.5)
        c.connect("127.0.0.1", url_port)
        c.loop_start()
        self.client = c
        assert self._subscribed.wait(10), "subscription not acknowledged"

    def next(self, timeout: float = 15.0) -> tuple[str, dict]:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_wearable_red_alert_reaches_the_grid_workers_phone(mosquitto, make_runtime) -> None:
    phone = Subscriber(mosquitto.port, "workers/+/orders")
    dept = Subscriber(mosquitto.port, "departments/medical-120/orders")
    bus = EventBus()
    events = bus.subscribe()
    rt = make_runtime(SystemClock(), mqtt_url=mosquitto.url, bus=bus)
    rt.start()
    try:
        rt.intake.submit([alert("wb-0001")])
        got = {}
        while "workers/w-001/orders" not in got:
            topic, body = phone.next()
            got[topic] = body
        body = got["workers/w-001/orders"]
        assert body["event"] == "dispatched"
        assert (body["order"]["severity"], body["order"]["assignee"], body["order"]["device_id"]) == (
            "red", "w-001", "wb-0001")
        assert body["at"].endswith("Z")
        topic, call = dept.next()
        assert call["event"] == "created" and call["call"]["dept_id"] == "medical-120"
        on_bus = events.get(timeout=5)
        assert on_bus["type"] in ("alert", "order")
    finally:
        phone.close()
        dept.close()


def test_broker_outage_delays_but_never_loses_an_order(mosquitto, make_runtime, db_url) -> None:
    phone = Subscriber(mosquitto.port, "workers/w-001/orders")
    cfg = config(notify={"retry_base_s": 0.1, "retry_max_s": 60})  # back-off is cut short on reconnect
    rt = make_runtime(SystemClock(), mqtt_url=mosquitto.url, cfg=cfg)
    rt.start()
    try:
        assert rt.publisher.wait_connected(10)
        mosquitto.stop()
        rt.intake.submit([alert("wb-0001")])
        engine = sa.create_engine(db_url)
        deadline = time.monotonic() + 15
        attempts = 0
        while attempts < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            with engine.connect() as conn:
                attempts = conn.scalar(sa.select(sa.func.max(OutboxMessage.attempts))) or 0
        engine.dispose()
        assert attempts >= 2, "deliveries are retried while the broker is down"
        assert phone.messages.empty()
        # The test broker cannot persist sessions (it drops root and cannot write its
        # directory), so hold deliveries until the phone has resubscribed after the restart.
        rt.deliverers["mqtt"].stop()
        phone.resubscribed.clear()
        mosquitto.start()
        assert phone.resubscribed.wait(15)
        rt.deliverers["mqtt"].start()
        topic, body = phone.next(timeout=20)
        assert (topic, body["event"], body["order"]["assignee"]) == ("workers/w-001/orders", "dispatched", "w-001")
        assert rt.deliverers["mqtt"].dead.labels("mqtt")._value.get() == 0
    finally:
        phone.close()


class _Receiver(BaseHTTPRequestHandler):
    status = 200
    got: queue.Queue

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.got.put((dict(self.headers), body))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    got: queue.Queue = queue.Queue()
    handler = type("Handler", (_Receiver,), {"got": got})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler, got
    server.shutdown()
    server.server_close()


def test_webhook_is_signed_and_verifiable(make_runtime, receiver) -> None:
    server, _handler, got = receiver
    url = f"http://127.0.0.1:{server.server_port}/hook"
    cfg = config(notify={"webhooks": [{"url": url, "events": ["dispatched"]}]})
    rt = make_runtime(SystemClock(), cfg=cfg, webhook_secret="s3cret")
    rt.start()
    rt.intake.submit([alert("wb-0001")])
    headers, body = got.get(timeout=10)
    assert verify(b"s3cret", body, headers[HEADER])
    assert not verify(b"wrong", body, headers[HEADER])
    assert json.loads(body)["order"]["assignee"] == "w-001"


def test_rejected_webhook_becomes_a_dead_letter(make_runtime, receiver, db_url) -> None:
    server, handler, got = receiver
    handler.status = 503
    url = f"http://127.0.0.1:{server.server_port}/hook"
    cfg = config(notify={"webhooks": [{"url": url, "events": ["dispatched"]}], "webhook_max_attempts": 2,
                         "retry_base_s": 0.05})
    rt = make_runtime(SystemClock(), cfg=cfg, webhook_secret="s3cret")
    rt.start()
    rt.intake.submit([alert("wb-0001")])
    got.get(timeout=10)
    got.get(timeout=10)  # retried once after the 503
    engine = sa.create_engine(db_url)
    deadline = time.monotonic() + 10
    status = None
    while status != "dead" and time.monotonic() < deadline:
        with engine.connect() as conn:
            status = conn.scalar(sa.select(OutboxMessage.status).where(OutboxMessage.channel == "webhook"))
        time.sleep(0.05)
    engine.dispose()
    assert status == "dead"


def test_rate_limit_postpones_routine_messages_but_never_a_red_order(make_runtime) -> None:
    clock = ManualClock(T0)
    cfg = config(notify={"worker_rate_per_min": 2})
    rt = make_runtime(clock, mqtt_url="mqtt://127.0.0.1:1", cfg=cfg)  # not started: we deliver by hand
    for i in range(4):
        submit(rt, alert("wb-0002", severity="yellow", rule=f"wearable.battery{i}"))
    submit(rt, alert("wb-0001"))
    sent: list[dict] = []

    def record(rows):
        sent.extend(json.loads(r.payload) | {"topic": r.target} for r in rows)
        return [None] * len(rows)

    deliverer = OutboxDeliverer("mqtt", record, rt.deps.sessions, clock, cfg.notify)
    deliverer.deliver_due()
    to_w001 = [m for m in sent if m["topic"] == "workers/w-001/orders"]
    assert to_w001[0]["order"]["severity"] == "red"  # first out, never held back
    assert [m["order"]["severity"] for m in to_w001].count("yellow") == 2
    clock.advance(61)
    deliverer.deliver_due()
    to_w001 = [m for m in sent if m["topic"] == "workers/w-001/orders"]
    assert [m["order"]["severity"] for m in to_w001].count("yellow") == 4  # delayed, not dropped


def test_reassigned_order_is_dispatched_to_the_new_worker_and_withdrawn_from_the_old(make_runtime) -> None:
    clock = ManualClock(T0)
    rt = make_runtime(clock, mqtt_url="mqtt://127.0.0.1:1")  # not started: we read the outbox by hand
    submit(rt, alert("wb-0001"))
    oid = rt.service.list_orders()["items"][0]["id"]
    sent: list[dict] = []
    deliverer = OutboxDeliverer("mqtt", lambda rows: [sent.append({"topic": r.target, **json.loads(r.payload)})
                                                      for r in rows], rt.deps.sessions, clock, rt.deps.config.notify)
    deliverer.deliver_due()
    sent.clear()
    rt.service.reassign(oid, "dispatcher", "w-003", "w-001 is at another case")
    deliverer.deliver_due()
    events = {m["topic"]: m["event"] for m in sent}
    assert events["workers/w-003/orders"] == "dispatched"
    assert events["workers/w-001/orders"] == "reassigned"



@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # SQLite is one process's (data dir locked)
def test_two_processes_on_one_database_send_each_notification_once(make_runtime) -> None:
    """Two gridwatch processes share PostgreSQL: each outbox row goes out from one of them only."""
    clock = ManualClock(T0)
    cfg = config(notify={"worker_rate_per_min": 1000})  # nothing postponed: every row is due now
    rt = make_runtime(clock, mqtt_url="mqtt://127.0.0.1:1", cfg=cfg)  # not started: the deliverers below send
    for i in range(1, 9):
        submit(rt, alert(f"wb-000{i % 4 + 1}", severity="orange", rule=f"wearable.rule{i}"))
    sent: list[int] = []
    lock = threading.Lock()
    both_reading = threading.Barrier(2)

    def send(rows):
        time.sleep(0.05)  # both deliverers are mid-send at once
        with lock:
            sent.extend(r.id for r in rows)
        return [None] * len(rows)

    deliverers = [OutboxDeliverer("mqtt", send, rt.deps.sessions, clock, cfg.notify) for _ in range(2)]
    for d in deliverers:  # both go for the same due rows at the same moment
        claim, first = d._claim_due, [True]

        def together(now, claim=claim, first=first):
            if first.pop() if first else False:
                both_reading.wait(5)
            return claim(now)
        d._claim_due = together
    threads = [threading.Thread(target=d.deliver_due) for d in deliverers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sent and len(sent) == len(set(sent)), f"sent twice: {sorted(sent)}"
    assert rt.deps.sessions().scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.channel == "mqtt", OutboxMessage.status == "pending")) == 0
