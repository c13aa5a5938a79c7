"""Command-line flags for ``core.settings.Settings``, shared by every command.

A flag left out is ``None`` and so falls through to the environment, the config file
and the default (see ``Settings.load``).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from core.settings import Settings

# flags every service-like command takes; a command may ask for a subset
SERVICE_FLAGS = (
    "city", "data_dir", "mqtt", "mqtt_client_id", "mqtt_username", "mqtt_password", "mqtt_ca_file",
    "mqtt_max_inflight", "mqtt_embedded", "influx", "influx_api", "influx_bucket", "influx_org", "influx_token",
    "influx_gzip",
    "batch_size", "flush_interval", "spool_max_bytes", "db", "detectors_config", "alerts_config",
    "http", "admin_token", "webhook_secret", "log_level",
)


def add_settings_flags(parser: argparse.ArgumentParser, names: Iterable[str] = SERVICE_FLAGS) -> None:
    group = parser.add_argument_group("settings (flag > GRIDWATCH_* env > --config file > default)")
    group.add_argument("--config", metavar="FILE", help="TOML settings file (see gridwatch.example.toml)")
    for name in names:
        info = Settings.model_fields[name]
        flag = "--" + name.replace("_", "-")
        env = "GRIDWATCH_" + name.upper()
        default = info.default
        shown = "" if default is None else f"; default {default}"
        text = f"{info.description or name.replace('_', ' ')} [{env}{shown}]"
        group.add_argument(flag, dest=name, default=None, metavar=name.split("_")[-1].upper(), help=text)


def settings_from_args(args: argparse.Namespace, names: Iterable[str] = SERVICE_FLAGS) -> Settings:
    overrides = {n: getattr(args, n, None) for n in names}
    return Settings.load(overrides=overrides, config_file=getattr(args, "config", None))
