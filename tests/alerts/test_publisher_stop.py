"""A normal shutdown is not an outage: the order publisher must not warn when it disconnects itself."""

from __future__ import annotations

import logging
import time

from alerts.notify.mqtt import MqttPublisher


def test_stopping_the_publisher_logs_no_outage_warning(mosquitto, caplog):
    pub = MqttPublisher(mosquitto.url, "gw-test-orders")
    pub.start()
    assert pub.wait_connected(10)
    with caplog.at_level(logging.INFO, logger="alerts.notify.mqtt"):
        pub.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("disconnected from MQTT" in r.getMessage() for r in caplog.records)


def test_losing_the_broker_is_still_a_warning(mosquitto, caplog):
    pub = MqttPublisher(mosquitto.url, "gw-test-orders-2")
    pub.start()
    assert pub.wait_connected(10)
    with caplog.at_level(logging.INFO, logger="alerts.notify.mqtt"):
        mosquitto.stop()
        for _ in range(100):
            if not pub.connected:
                break
            time.sleep(0.05)
    pub.stop()
    assert any(r.levelno == logging.WARNING and "down" in r.getMessage() for r in caplog.records)
