"""MQTT publisher for order notifications (paho 2.x, QoS 1, its own client id).

``publish_many`` sends a batch and waits for every PUBACK, so the outbox marks a row
delivered only when the broker has it. While the broker is down, paho reconnects in
the background and ``publish_many`` reports failures at once (the outbox retries).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)


class MqttPublisher:
    """One connection to the broker at ``url`` (``mqtt://[user:pass@]host:port`` or ``mqtts://``)."""

    def __init__(self, url: str, client_id: str, username: str | None = None, password: str | None = None,
                 ca_file: str | None = None, timeout: float = 5.0) -> None:
        u = urlparse(url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or (8883 if u.scheme == "mqtts" else 1883)
        self.timeout = timeout
        self._connected = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        user = username or u.username
        if user:
            c.username_pw_set(user, password or u.password)
        if u.scheme == "mqtts":
            c.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
        c.max_inflight_messages_set(1000)
        c.reconnect_delay_set(0.2, 5)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        self._client = c
        self._was_up: bool | None = None
        self.on_up: Callable[[], None] = lambda: None  # called (on paho's thread) after each (re)connect

    def start(self) -> None:
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        self._was_up = False  # our own disconnect: nothing to warn about
        self._client.disconnect()
        self._client.loop_stop()
        log.info("order notifications: disconnected from MQTT %s:%s", self.host, self.port)

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            self._connected.set()
            self._log_change(True, "")
            self.on_up()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        self._log_change(False, str(reason_code))

    def _log_change(self, up: bool, why: str) -> None:
        if up != self._was_up:
            self._was_up = up
            if up:
                log.info("order notifications: connected to MQTT %s:%s", self.host, self.port)
            else:
                log.warning("order notifications: MQTT %s:%s down (%s); outbox keeps them", self.host, self.port, why)

    def publish_many(self, items: list[tuple[str, str]]) -> list[str | None]:
        """Publish (topic, payload) pairs at QoS 1; per item ``None`` when acknowledged, else why not."""
        if not self.connected:
            return ["broker not connected"] * len(items)
        infos = [self._client.publish(topic, payload, qos=1) for topic, payload in items]
        deadline = time.monotonic() + self.timeout
        out: list[str | None] = []
        for info in infos:
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                out.append(f"publish failed: {mqtt.error_string(info.rc)}")
                continue
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as exc:
                out.append(f"publish failed: {exc}")
                continue
            out.append(None if info.is_published() else "no PUBACK in time")
        return out
