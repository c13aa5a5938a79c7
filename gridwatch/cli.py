"""The ``gridwatch`` command: one sub-command per module in ``gridwatch.commands``.

Each command module defines ``HELP`` (one line), ``configure(parser)`` and
``execute(args) -> int``; heavy imports stay inside ``execute`` so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from core.settings import SettingsError

# name -> module; the order is the order of ``gridwatch --help``
COMMANDS: dict[str, str] = {
    "run": "gridwatch.commands.run",
    "demo": "gridwatch.commands.demo",
    "simulate": "gridwatch.commands.simulate",
    "replay": "gridwatch.commands.replay",
    "detect": "gridwatch.commands.detect",
    "generate-city": "gridwatch.commands.generate_city",
    "dead-letters": "gridwatch.commands.dead_letters",
    "token": "gridwatch.commands.token",
    "mosquitto-acl": "gridwatch.commands.mosquitto_acl",
    "db": "gridwatch.commands.db",
}

DESCRIPTION = """\
gridwatch: MQTT telemetry from wearables, smoke sensors, river gauges and meters ->
InfluxDB -> streaming detectors -> red work orders routed to the grid worker.

Start here:   gridwatch demo            (everything on embedded defaults, console opens)
Production:   gridwatch run --city DIR --mqtt mqtt://HOST:1883 --influx URL
Every option also reads from a GRIDWATCH_* environment variable (e.g. GRIDWATCH_MQTT).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridwatch", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version="gridwatch 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a command not built yet
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(p)
        p.set_defaults(_execute=module.execute)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_execute", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=(getattr(args, "log_level", None) and args.log_level.upper()) or logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin otherwise
    try:
        return int(args._execute(args) or 0)
    except SettingsError as exc:
        print(f"gridwatch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
