"""``gridwatch run``: the service, until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal

from gridwatch.options import add_settings_flags, settings_from_args

HELP = "run the service: MQTT ingest -> storage -> detectors -> work orders, plus the HTTP API"
DESCRIPTION = """\
Run gridwatch. With no options everything is embedded: an MQTT broker on
127.0.0.1:1883, readings stored under --data-dir, the built-in demo town.

  gridwatch run
  gridwatch run --city DIR --mqtt mqtt://HOST:1883 --influx http://HOST:8086 \\
      --influx-api v1 --influx-bucket DB
  gridwatch run --config gridwatch.toml          (every key: gridwatch.example.toml)

SIGINT/SIGTERM stop it gracefully: what was received is stored and acknowledged to
the broker first. After a crash, the broker redelivers what was not acknowledged.
"""


def configure(p: argparse.ArgumentParser) -> None:
    add_settings_flags(p)


def execute(args: argparse.Namespace) -> int:
    from gridwatch.service import Service

    settings = settings_from_args(args)
    service = Service(settings)

    def _stop(signum, frame) -> None:
        service.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    service.run_forever()
    return 0
