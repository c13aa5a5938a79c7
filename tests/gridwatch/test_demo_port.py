"""`gridwatch demo` must start on a machine that already runs an MQTT broker on 1883."""

from __future__ import annotations

import socket

from core.settings import Settings
from gridwatch.commands.demo import _embedded_broker_port_free


def test_a_taken_broker_port_moves_the_embedded_broker_to_a_free_one(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        settings = Settings.load(overrides={"mqtt_embedded": f"127.0.0.1:{taken}"}, env={})
        moved = _embedded_broker_port_free(settings)
    host, _, port = moved.mqtt_embedded.rpartition(":")
    assert host == "127.0.0.1" and int(port) != taken
    assert f"127.0.0.1:{taken} is taken" in capsys.readouterr().out


def test_a_free_broker_port_is_kept():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    settings = Settings.load(overrides={"mqtt_embedded": f"127.0.0.1:{free}"}, env={})
    assert _embedded_broker_port_free(settings).mqtt_embedded == f"127.0.0.1:{free}"
