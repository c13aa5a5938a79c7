"""The MQTT input: subscribe to telemetry, hand messages off, acknowledge when durable.

A consumer that survives (eclipse/paho.mqtt.python, telegraf's mqtt_consumer):

* a stable client id and a persistent session (MQTT 5, session expiry of a week), so
  the broker keeps QoS 1 messages while gridwatch is down or restarting;
* subscriptions made in ``on_connect``, so every reconnect resubscribes; paho's
  network thread reconnects with back-off (0.5 s doubling to 10 s);
* **manual acknowledgement**: a message is acknowledged only when the pipeline says
  every reading in it is durable (spooled, stored) or dead-lettered — so a SIGKILL
  loses nothing, the broker redelivers what was not acknowledged;
* a bounded window: MQTT 5's *Receive Maximum* (``Settings.mqtt_max_inflight``) tells
  the broker how many unacknowledged messages it may send; and since a broker may not
  keep to it (Mosquitto 2.0.11 sends its whole queue after the first acknowledgements,
  measured) or may not know it (MQTT 3.1.1), the source stops reading the socket while
  twice that many, or about 64 MiB of payload, are unacknowledged, so memory stays
  bounded whatever the broker does;
* the network callback only appends ``(topic, payload, mid, qos, connection, arrival
  ms)`` to a deque and returns: it never blocks, never raises.

A message received on one connection can only be acknowledged on that connection (a
packet id means nothing on the next one); ``ack`` drops acknowledgements of an older
connection, and the broker redelivers those messages on the new one.

MQTT 3.1.1 (``protocol=4``) is used for the embedded amqtt broker, which has no MQTT 5;
there the broker's own in-flight limit bounds the window.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from core.clock import Clock, SystemClock
from ingest.fast_client import FastClient
from ingest.metrics import IngestMetrics

log = logging.getLogger(__name__)

TOPICS = ("devices/+/telemetry", "gateways/+/telemetry")
SESSION_EXPIRY_S = 7 * 24 * 3600
MAX_OUTSTANDING_BYTES = 64 << 20  # unacknowledged payload held in memory, at most (about)

Received = tuple[bytes, bytes, int, int, int, int]  # topic, payload, mid, qos, connection, arrival ms


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """``mqtt://[user:pass@]host[:port]`` or ``mqtts://...`` (TLS, port 8883).

        >>> BrokerAddress.parse("mqtts://gw:s%40cret@broker.example:8884")
        BrokerAddress(host='broker.example', port=8884, tls=True, username='gw', password='s@cret')
        """
        parts = urlsplit(url if "://" in url else "mqtt://" + url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"{url!r}: expected mqtt://HOST:PORT or mqtts://HOST:PORT")
        tls = parts.scheme in ("mqtts", "ssl")
        if not parts.hostname:
            raise ValueError(f"{url!r}: no host")
        return cls(
            parts.hostname,
            parts.port or (8883 if tls else 1883),
            tls,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )


class MqttSource:
    """Telemetry from an MQTT broker into a hand-off deque; ``start``, ``ack``, ``stop``."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        metrics: IngestMetrics,
        max_inflight: int = 1000,
        ca_file: str | None = None,
        protocol: int = mqtt.MQTTv5,
        clock: Clock | None = None,
    ) -> None:
        self.address = address
        self.client_id = client_id
        self.metrics = metrics
        self.max_inflight = max_inflight
        self.protocol = protocol
        self._clock = clock or SystemClock()
        self.inbox: deque[Received] = deque()
        self.wakeup = threading.Event()  # set when the inbox gets something
        self.subscribed = threading.Event()  # set once the broker confirmed the subscriptions
        self.max_outstanding = 2 * max_inflight
        self.received = 0  # frames handed off (network thread writes)
        self.received_bytes = 0
        self.released = 0  # frames acknowledged or given up (ack caller writes)
        self._stopping = False
        self.connection = 0  # increments on every successful connect
        self.connected = False
        self._ever_connected = False
        self._last_error: str | None = None
        self._client = self._make_client(ca_file)
        self._append, self._now_ms, self._wake_flag = self.inbox.append, self._clock.now_ms, self.wakeup.is_set

    def _make_client(self, ca_file: str | None) -> FastClient:
        if self.protocol == mqtt.MQTTv5:
            client = FastClient(
                mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5,
                manual_ack=True, on_frame=self._on_frame,
            )
        else:
            client = FastClient(
                mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=self.protocol,
                clean_session=False, manual_ack=True, on_frame=self._on_frame,
            )
        a = self.address
        if a.username is not None:
            client.username_pw_set(a.username, a.password)
        if a.tls:
            client.tls_set(ca_certs=ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=0.5, max_delay=10)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_connect_fail = self._on_connect_fail
        return client

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Connect in the background; paho's thread keeps reconnecting until ``stop``."""
        props = None
        if self.protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = SESSION_EXPIRY_S
            props.ReceiveMaximum = self.max_inflight
            self._client.connect_async(self.address.host, self.address.port, keepalive=30,
                                       clean_start=False, properties=props)
        else:
            self._client.connect_async(self.address.host, self.address.port, keepalive=30)
        log.info("MQTT: connecting to %s:%d as %r", self.address.host, self.address.port, self.client_id)
        self._client.loop_start()

    def pause(self) -> None:
        """Stop taking messages (they stay with the broker); acknowledgements still go out."""
        self._stopping = True
        self._client.paused = True

    def flush_acks(self, timeout: float = 2.0) -> None:
        """Wait until queued acknowledgements are written to the socket."""
        deadline = time.monotonic() + timeout
        while self._client.want_write() and self.connected and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        """Disconnect cleanly; the session (and anything unacknowledged) stays on the broker."""
        self._client.disconnect()
        self._client.loop_stop()
        self.connected = False
        self.metrics.mqtt_connected.set(0)

    def ack(self, received: Iterable[tuple[int, int, int]]) -> None:
        """Acknowledge ``(mid, qos, connection)`` triples; ones of an older connection are dropped."""
        current = self.connection
        received = list(received)
        mids = [mid for mid, qos, conn in received if qos and conn == current]
        if mids:
            self._client.ack_many(mids)
        self.released += len(received)
        if (self._client.paused and not self._stopping and self.outstanding <= self.max_outstanding // 2
                and self.outstanding_bytes <= MAX_OUTSTANDING_BYTES // 2):
            self._client.resume()

    @property
    def outstanding(self) -> int:
        """Messages handed off and not yet acknowledged."""
        return self.received - self.released

    @property
    def outstanding_bytes(self) -> float:
        """An estimate of their payload bytes (outstanding x the mean message size)."""
        return (self.received - self.released) * self.received_bytes / max(1, self.received)

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Publish (e.g. work orders to ``workers/{id}/orders``); queued while disconnected."""
        self._client.publish(topic, payload, qos=qos)

    @property
    def last_error(self) -> str | None:
        return self._last_error

    # ------------------------------------------------------------------ paho callbacks (network thread)

    def _on_frame(self, topic: bytes, payload: bytes, mid: int, qos: int) -> None:
        self._append((topic, payload, mid, qos, self.connection, self._now_ms()))
        self.received += 1
        self.received_bytes += len(payload)
        if self.received - self.released >= self.max_outstanding or self.outstanding_bytes > MAX_OUTSTANDING_BYTES:
            self._client.paused = True
        if not self._wake_flag():
            self.wakeup.set()

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            self._last_error = f"connection refused: {reason_code}"
            log.warning("MQTT: %s:%d refused the connection: %s", self.address.host, self.address.port, reason_code)
            return
        self.connection += 1
        self.connected = True
        self._last_error = None
        self.metrics.mqtt_connected.set(1)
        self.metrics.mqtt_connects.inc()
        session = "resumed" if flags.session_present else "new"
        verb = "reconnected" if self._ever_connected else "connected"
        self._ever_connected = True
        log.info("MQTT: %s to %s:%d (%s session)", verb, self.address.host, self.address.port, session)
        client.subscribe([(t, 1) for t in TOPICS])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None) -> None:
        failed = [str(rc) for rc in reason_codes if rc.is_failure]
        if failed:
            self._last_error = f"subscription refused: {', '.join(failed)}"
            log.error("MQTT: broker refused the telemetry subscriptions: %s", ", ".join(failed))
            return
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        was = self.connected
        self.connected = False
        self.subscribed.clear()
        self.metrics.mqtt_connected.set(0)
        if was and reason_code != 0:
            self._last_error = f"disconnected: {reason_code}"
            log.warning("MQTT: lost the broker (%s); reconnecting", reason_code)
        elif not was and reason_code != 0 and self._last_error is None:
            self._last_error = f"cannot connect: {reason_code}"
            log.warning("MQTT: cannot reach %s:%d (%s); retrying", self.address.host, self.address.port, reason_code)

    def _on_connect_fail(self, client, userdata) -> None:
        if self._last_error is None:
            log.warning("MQTT: cannot reach %s:%d; retrying", self.address.host, self.address.port)
        self._last_error = "broker unreachable"
