"""One validated settings model for every gridwatch command.

Precedence, highest first: command-line flags, ``GRIDWATCH_*`` environment
variables, the TOML file named by ``--config`` (or ``GRIDWATCH_CONFIG``), defaults.
Unknown keys in the file or unknown ``GRIDWATCH_*`` variables are errors, so a typo
never silently falls back to a default. ``gridwatch.example.toml`` documents every key.

>>> s = Settings.load(overrides={"influx_api": "v1"}, env={})
>>> s.influx_api, s.http
('v1', '127.0.0.1:8080')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from core.config_files import read_toml, validate_model

ENV_PREFIX = "GRIDWATCH_"


class SettingsError(ValueError):
    """Configuration that cannot be used, with a message that says which key and why."""


class Settings(BaseModel):
    """Everything a gridwatch process can be told; see ``gridwatch.example.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # where things are
    data_dir: Path = Field(Path("gridwatch-data"), description="local state: spool, store, dead letters, SQLite")
    city: Path | None = Field(None, description="city directory (INTERFACES §3); none = the built-in demo town")

    # MQTT
    mqtt: str | None = Field(None, description="broker URL mqtt://[user:pass@]host:port or mqtts://; none = embedded")
    mqtt_client_id: str = Field("gridwatch", description="stable client id: the broker keeps this session's messages")
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_ca_file: Path | None = Field(None, description="CA bundle for mqtts:// (system CAs if unset)")
    mqtt_max_inflight: int = Field(10_000, ge=1, le=65535, description="unacknowledged QoS 1 messages at most")
    mqtt_embedded: str = Field("127.0.0.1:1883", description="HOST:PORT of the embedded broker (when --mqtt is unset)")

    # InfluxDB
    influx: str | None = Field(None, description="InfluxDB URL; none = the embedded store")
    influx_api: Literal["v2", "v1"] = Field("v2", description="v2: InfluxDB 2.x/3.x/Cloud; v1: InfluxDB 1.x")
    influx_bucket: str = Field("gridwatch", description="bucket (v2) or database (v1)")
    influx_org: str | None = Field(None, description="organisation (v2)")
    influx_token: SecretStr | None = Field(None, description="v2 token, or v1 'user:password'")
    influx_gzip: bool = Field(False, description="gzip write bodies (saves bandwidth to a remote InfluxDB, costs CPU)")
    batch_size: int = Field(5000, ge=1, le=100_000, description="readings per write")
    flush_interval: float = Field(1.0, gt=0, le=60, description="seconds before a partial batch is written")
    spool_max_bytes: int = Field(1 << 30, ge=1 << 20, description="disk spool bound while InfluxDB is down")

    # work orders
    db: str | None = Field(None, description="SQLAlchemy URL; none = SQLite in data_dir")

    # detectors and alerts configuration files
    detectors_config: Path | None = Field(None, description="detector configuration (TOML); none = built-in defaults")
    alerts_config: Path | None = Field(None, description="routing/escalation/department rules (TOML); none = defaults")

    # HTTP
    http: str = Field("127.0.0.1:8080", description="HOST:PORT for the API and console")
    admin_token: SecretStr | None = Field(None, description="bootstrap admin bearer token")
    webhook_secret: SecretStr | None = Field(None, description="HMAC key for signed webhooks")

    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("http", "mqtt_embedded")
    @classmethod
    def _host_port(cls, v: str) -> str:
        host, sep, port = v.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"{v!r} is not HOST:PORT")
        return v

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{self.data_dir / 'gridwatch.db'}"

    @property
    def http_host_port(self) -> tuple[str, int]:
        host, _, port = self.http.rpartition(":")
        return host, int(port)

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        config_file: str | Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        """Merge file, environment and flags (``None`` flags are ignored) and validate."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        config_file = config_file or env.get(ENV_PREFIX + "CONFIG")
        if config_file:
            values.update(_read_toml(Path(config_file)))
        for key, raw in env.items():
            if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
                continue
            name = key[len(ENV_PREFIX):].lower()
            if name not in cls.model_fields:
                raise SettingsError(f"unknown environment variable {key}")
            values[name] = raw
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return validate_model(cls, values, "invalid settings", SettingsError)


def _read_toml(path: Path) -> dict[str, Any]:
    data = read_toml(path, "config file", SettingsError)
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise SettingsError(f"config file {path}: unknown key(s) {', '.join(unknown)}")
    return data
